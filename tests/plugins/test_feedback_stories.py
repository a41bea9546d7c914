"""The feedback stories: a suggestion from posting to done, a poll from close to outcome to
digest, in English and Arabic, checked on the lines a person reads."""

from __future__ import annotations

from tests.test_stories import run_story


def _block(text: str, head: str) -> list[str]:
    """The lines of the message starting with ``head`` (up to the next timestamped line)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if head in line)
    out = [lines[start]]
    for line in lines[start + 1:]:
        if line.startswith("[20"):
            break
        out.append(line)
    return out


def test_feedback_story_in_english() -> None:
    text = run_story("feedback_en.txt")
    assert text == run_story("feedback_en.txt")
    assert "(only sara sees) A suggestion needs at least 5 characters, up to 500" in text
    assert "(only omar sees) There are open suggestions like yours:\n" \
           "• #1 Add a channel for board games! (👍 0)\n" in text
    assert "[1 👍 #1] [2 Post mine anyway]" in text
    assert "[1 👍 Vote up] [2 👎 Vote down] [3 🔔 Follow]" in text
    assert ("(only owner sees) Suggestion #1 is new; from there it can become: under_review "
            "(under review), needs_info (needs more information), declined (declined), "
            "duplicate (duplicate).") in text
    assert "Declining needs a reason members can read: /suggestion_status 1 declined REASON" \
        in text
    # author sara, voters omar and lina (lina also follows): three people, each told once
    for step in ("under review", "planned", "in progress", "done"):
        assert f"(only owner sees) Suggestion #1 is now {step}; I told 3 members." in text
        for name in ("sara", "omar", "lina"):
            assert text.count(f"(DM to {name}) 🔔 Suggestion #1 “Add a channel for board "
                              f"games!” is now {step}.") == 1
    assert "🗺 Roadmap\nPlanned:\n• #1 Add a channel for board games! (👍 2)" in text
    assert "Suggestion #1 is done, which is final; nothing changed." in text
    assert "in progress → done, by owner. Why: it is open: #board-games" in text
    assert "By a member · status: declined" in text  # nour's anonymous idea
    assert "(DM to nour) 🔔 Suggestion #3 “Move meetups to late evening” is now declined." \
        in text
    assert ("Poll #1 “Which day for meetups?” closed (3 voters; winner: Saturday). What was "
            "done with it?") in text
    assert "(only sara sees) Sorry, /poll_outcome is only for admins." in text
    assert "There is no closed poll #9 here" in text
    for name in ("sara", "omar", "lina"):
        assert f"(DM to {name}) 🗳 What came of poll #1 “Which day for meetups?”: Meetups " \
               "move to Saturday" in text
    assert "The outcome of poll #1 is recorded; I told its 3 voters." in text
    assert _block(text, "📰 You said, we did")[1:] == [
        "", "We asked",
        "• Poll #1 “Which day for meetups?”: 3 voters; winner: Saturday.",
        "  We did: Meetups move to Saturday",
        "", "You said", "2 new suggestions:",
        "• #1 Add a channel for board games! (👍 2 · 👎 0)",
        "• #3 Move meetups to late evening (👍 0 · 👎 0)",
        "", "We did", "• #1 Add a channel for board games!: done. Why: it is open: #board-games",
        "", "Declined, and why", "• #3 Move meetups to late evening: most of us work evenings",
        "", "What's next", "Nothing is planned yet.",
        "", "Taking part", "4 members took part (4 of them for the first time).",
        "3 votes in the polls that closed.",
    ]
    assert "[2026-01-12 09:00] Majlis: 📰 You said, we did — Jan 5, 2026 to Jan 12, 2026" \
        in text
    assert "🏅 sara: Idea adopted" in text  # contributions rewarded the adopted suggestion


def test_feedback_story_in_arabic() -> None:
    text = run_story("feedback_ar.txt", "MAJLIS_LANGUAGE=ar")
    assert "يجب ألا يقل عدد أحرف الاقتراح عن 5 ولا يزيد على 500" in text
    # hamza, taa marbuta: the same idea spelled another way is offered first
    assert "(لا يراها إلا عمر) هناك اقتراحات مفتوحة تشبه اقتراحك:\n" \
           "• رقم 1: إضافة قناة لألعاب الطاولة (👍 0)" in text
    assert "[1 👍 أؤيد] [2 👎 لا أؤيد] [3 🔔 متابعة]" in text
    assert "ويمكن أن ينتقل منها إلى: under_review (قيد الدراسة)، needs_info" in text
    for step in ("قيد الدراسة", "مخطط له", "قيد التنفيذ", "منجز"):
        assert f"أصبحت حالة الاقتراح رقم 1: {step}؛ وأبلغت 3 أعضاء." in text
        for name in ("سارة", "عمر", "ليلى"):
            assert text.count(f"(رسالة خاصة إلى {name}) 🔔 أصبحت حالة الاقتراح رقم 1 "
                              f"«إضافة قناة لألعاب الطاولة»: {step}.") == 1
    assert "🗺 خريطة الطريق\nمخطط له:\n• رقم 1: إضافة قناة لألعاب الطاولة (👍 2)" in text
    assert "حالة الاقتراح رقم 1 هي «منجز»، وهي نهائية؛ لم يتغير شيء." in text
    assert "من أحد الأعضاء · الحالة: معتذر عنه" in text
    assert "أصبحت حالة الاقتراح رقم 3: معتذر عنه؛ وأبلغت عضوًا واحدًا." in text
    assert "🗳 أُغلق الاستطلاع رقم 1 «أي يوم للقاءات؟» (3 مصوّتين؛ الفائز: السبت)." in text
    assert "سُجّلت نتيجة الاستطلاع رقم 1؛ وأبلغت 3 مصوّتين." in text
    assert _block(text, "📰 قلتم، فعلنا")[1:] == [
        "", "سألناكم", "• الاستطلاع رقم 1 «أي يوم للقاءات؟»: 3 مصوّتين؛ الفائز: السبت.",
        "  ما فعلناه: تنتقل اللقاءات إلى السبت",
        "", "قلتم", "اقتراحان جديدان:",
        "• رقم 1: إضافة قناة لألعاب الطاولة (👍 2 · 👎 0)",
        "• رقم 3: نقل اللقاءات إلى آخر الليل (👍 0 · 👎 0)",
        "", "ما فعلناه", "• رقم 1: إضافة قناة لألعاب الطاولة: منجز. السبب: القناة مفتوحة الآن",
        "", "ما اعتذرنا عنه، ولماذا", "• رقم 3: نقل اللقاءات إلى آخر الليل: أغلبنا يعمل مساءً",
        "", "الخطوات القادمة", "لا شيء مخطط له بعد.",
        "", "المشاركة", "شارك 4 أعضاء (منهم 4 أعضاء لأول مرة).",
        "3 أصوات في الاستطلاعات التي أُغلقت.",
    ]
