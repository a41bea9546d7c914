"""The polls stories: create → vote → change vote → deadline → results, in English and Arabic."""

from __future__ import annotations

from tests.test_stories import run_story

ONLY_POLLS = 'MAJLIS_PLUGINS=["polls"]'


def test_polls_story_in_english() -> None:
    first = run_story("polls_en.txt", ONLY_POLLS)
    assert first == run_story("polls_en.txt", ONLY_POLLS)
    text = first
    assert "A poll needs 2 to 20 options, separated by | or ;. You gave 1." in text
    assert "“cafe” appears twice; every option must be different." in text
    assert "The poll must close in the future" in text
    assert "This platform has no native polls, so I made a poll with buttons." in text
    assert "[1 Cafe] [2 Park] [3 Library] [4 Withdraw my vote]" in text
    assert "(only omar sees) You changed your vote to “Library”." in text
    assert "(only sara sees) You already chose “Cafe”." in text
    assert "Only the poll's creator or an admin can close it." in text
    assert "(DM to lina) Poll #1 “Where shall we meet?” closes" in text
    assert "[2026-01-07 09:00] Majlis: 🗳 Poll #1 is closed: Where shall we meet?" in text
    assert "3. Library — 2 votes (67%)" in text
    assert "Winner: Library." in text
    assert "Quorum met: 3 voted, 3 needed." in text
    assert "Tie between “Cafe”, “Library”." in text
    assert "Quorum not met: 2 voted, 3 needed; the result is not binding." in text
    assert "Reach: 100% of voters joined in the last 30 days;" in text
    assert "(image: poll-1.png, " in text
    assert text.count("Poll #1 is closed: Where") == 2  # the results, then /poll_results


def test_polls_story_in_arabic() -> None:
    text = run_story("polls_ar.txt", "MAJLIS_LANGUAGE=ar", ONLY_POLLS)
    assert "يحتاج الاستطلاع من 2 إلى 20 خيارًا" in text
    assert "«مقهى» مكرر" in text
    assert "[1 مقهى] [2 حديقة] [3 مكتبة] [4 اسحب صوتي]" in text
    assert "(only عمر sees) غيّرت صوتك إلى «مكتبة»." in text
    assert "تعادل بين «مقهى»، «مكتبة»." in text
    assert "النصاب غير مكتمل: صوّت 2، والمطلوب 3 أعضاء؛ النتيجة غير ملزمة." in text
    assert "(DM to ليلى) الاستطلاع رقم 1 «أين نلتقي؟» يُغلق" in text
    assert "🗳 أُغلق الاستطلاع رقم 1: أين نلتقي؟" in text
    assert "3. مكتبة — صوتان (67%)" in text
    assert "الفائز: مكتبة." in text
    assert "صوّت 3 أعضاء." in text
    assert "(image: poll-1.png, " in text
