"""contributions' rules on their own: the memory of recent earning texts."""

from __future__ import annotations

import sys

from plugins.contributions.rules import RECENT_TEXTS, MemberState, message_xp


def post(member: MemberState, text: str, at: float) -> int:
    return message_xp(member, text, at, earns=True, xp=15, multiplier=1.0, min_length=3,
                      cooldown=60)


def test_a_text_earns_again_only_once_it_left_the_last_earning_texts() -> None:
    member = MemberState()
    texts = [f"update number {n}" for n in range(RECENT_TEXTS + 1)]
    at = 0.0
    for text in texts[:RECENT_TEXTS]:
        assert post(member, text, at) == 15
        at += 61
    assert post(member, texts[0], at) == 0  # still among the last eight
    assert post(member, "Update Number 1", at + 61) == 0  # case does not matter
    at += 122
    assert post(member, texts[RECENT_TEXTS], at) == 15  # the ninth pushes the first out
    at += 61
    assert post(member, texts[0], at) == 15
    at += 61
    assert post(member, texts[2], at) == 0  # the second left too; the third is still held
    assert post(member, texts[1], at) == 15
    # never more than that: eight fingerprints, in one int of 64 bytes
    assert sys.getsizeof(member.earned) <= 64
