"""The admin stories: an admin configures plugins and the language; a member cannot."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tests.test_stories import run_story

PLUGINS = 'MAJLIS_PLUGINS=["admin","example"]'


def test_admin_story_in_english() -> None:
    lines = run_story("admin_en.txt", PLUGINS).splitlines()
    said = [line.split("] ", 1)[1] for line in lines if "] " in line]
    assert "Majlis: (only owner sees) example.max_reminder_days is now 7" in said
    assert any("“999” is not allowed for max_reminder_days: it must be at most 365" in s
               for s in said)
    assert "Majlis: example is now off." in said
    assert "Majlis: (only owner sees) example is already off." in said
    assert "Majlis: (only owner sees) Nothing is paused." in said
    # a value it has already, a reset of a default, a language or timezone it speaks already
    assert "Majlis: (only owner sees) example.max_reminder_days is already 7" in said
    assert "Majlis: (only owner sees) example.max_reminder_days is already its default: 30" \
        in said
    assert "Majlis: (only owner sees) I already speak English here." in said
    assert "Majlis: (only owner sees) The timezone is already Riyadh." in said
    assert "Majlis: (only sara sees) Sorry, /plugins is only for admins." in said
    assert any("There is no command /remind here" in s for s in said)
    assert "Majlis: من الآن أتحدث العربية هنا." in said
    assert any(s.startswith("Majlis: (لا يراها إلا owner) الأوامر المتاحة لك") for s in said)
    assert "Majlis: From now on I speak English here." in said
    assert any("(DM to sara) Here is everything I store about you" in s for s in said)
    assert "(file: my_data.json" in "\n".join(lines)
    assert any("Erasing your data now" in s for s in said)
    assert run_story("admin_en.txt", PLUGINS) == "\n".join(lines) + "\n"


def test_admin_story_in_arabic() -> None:
    out = run_story("admin_ar.txt", PLUGINS, "MAJLIS_LANGUAGE=ar")
    assert "عذرًا، الأمر /plugins مخصص للمسؤولين فقط." in out
    assert "أصبح example.max_reminder_days الآن 5" in out
    assert "(لا يراها إلا owner) الإضافة example معطّلة من قبل." in out
    assert "(لا يراها إلا owner) لا شيء موقوف الآن." in out
    assert "(لا يراها إلا owner) الإيقاف مفعّل من قبل." in out
    assert "(لا يراها إلا owner) قيمة example.max_reminder_days هي 5 بالفعل" in out
    assert "(لا يراها إلا owner) example.max_reminder_days على قيمته الافتراضية بالفعل: 30" in out
    assert "(لا يراها إلا owner) أتحدث العربية هنا بالفعل." in out
    assert "(لا يراها إلا owner) المنطقة الزمنية هي الرياض بالفعل." in out
    # neutral where the member's gender is unknown, and prefixes joined as written
    assert "وحده" not in out and "وحدها" not in out
    assert "لـال" not in out


def setup_section(said: list[str], story: str) -> list[str]:
    """What the bot said from the owner's /setup to before the member's /setup."""
    start = said.index("owner: /setup")
    end = next(i for i, s in enumerate(said) if s.endswith(": /setup") and i > start)
    return [s for s in said[start:end] if s.startswith("Majlis:")]


def presses_after_setup(story: str) -> int:
    lines = (ROOT / "stories" / story).read_text(encoding="utf-8").splitlines()
    after = lines[lines.index("/setup") + 1:]
    return len([line for line in after[:after.index(":as sara")] if line.startswith(":press")])


@pytest.mark.parametrize(("story", "env", "only_owner", "refused"), [
    ("admin_en.txt", (), "Majlis: (only owner sees) ",
     "Majlis: (only sara sees) Sorry, /setup is only for admins."),
    ("admin_ar.txt", ("MAJLIS_LANGUAGE=ar",), "Majlis: (لا يراها إلا owner) ",
     "Majlis: (لا يراها إلا sara) عذرًا، الأمر /setup مخصص للمسؤولين فقط."),
])
def test_every_step_of_setup_is_private(
    story: str, env: tuple[str, ...], only_owner: str, refused: str
) -> None:
    said = [line.split("] ", 1)[1] for line in run_story(story, PLUGINS, *env).splitlines()
            if "] " in line]
    answers = setup_section(said, story)
    # the first step, then one answer per button pressed: the four steps and "done"
    assert len(answers) == 1 + presses_after_setup(story) == 5
    assert all(answer.startswith(only_owner) for answer in answers), answers
    assert refused in said


def test_a_language_or_timezone_that_does_not_exist_is_refused_with_what_is_allowed() -> None:
    said = [line.split("] ", 1)[1] for line in run_story("admin_en.txt", PLUGINS).splitlines()
            if "] " in line]
    assert "Majlis: (only owner sees) “zz” is not a language I speak. Choose one of: ar or " \
        "en." in said
    assert "Majlis: (only owner sees) “Mars/Olympus” is not a timezone. Use a region and a " \
        "city, like Asia/Riyadh or Europe/Berlin, or UTC." in said
    assert any(s.endswith("Perhaps: Asia/Riyadh") for s in said)
    assert "Majlis: The timezone is now Riyadh." in said
    out = run_story("admin_ar.txt", PLUGINS, "MAJLIS_LANGUAGE=ar")
    assert "(لا يراها إلا owner) «zz» ليست لغة أتحدثها. اختر واحدة من: ar أو en." in out
    assert "«المريخ» ليست منطقة زمنية." in out
    assert "لعلك تقصد: Asia/Riyadh" in out
    assert "Majlis: المنطقة الزمنية الآن الرياض." in out
