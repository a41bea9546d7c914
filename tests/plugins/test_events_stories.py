"""The events stories on the console, in English and Arabic: the lines a person reads."""

from __future__ import annotations

from tests.test_stories import run_story

ONLY_EVENTS = 'MAJLIS_PLUGINS=["events"]'


def test_events_story_in_english() -> None:
    first = run_story("events_en.txt", ONLY_EVENTS, "MAJLIS_TIMEZONE=Europe/Berlin")
    assert first == run_story("events_en.txt", ONLY_EVENTS, "MAJLIS_TIMEZONE=Europe/Berlin")
    text = first.replace("\r", "")
    assert "I could not read “sometime soonish” as a start time." in text
    assert "for example: 2026-03-05 18:00, tomorrow 18:00, next friday 7pm" in text
    assert "Nothing was created." in text
    assert ("The next 3 times:\n• Thu, January 8, 2026, 18:00 (Berlin)\n"
            "• Thu, January 15, 2026, 18:00 (Berlin)\n• Thu, January 22, 2026, 18:00 (Berlin)\n"
            "[1 Post it] [2 Discard]") in text
    assert "[1 Going] [2 Maybe] [3 Can't come] [4 Going, just this one] [5 Not this one]" in text
    assert ("(only lina sees) Book club is full; you are number 1 on the waitlist for Thu, "
            "January 8, 2026, 18:00 (Berlin).") in text
    assert ("(only omar sees) You can't come to Book club on Thu, January 8, 2026, 18:00 "
            "(Berlin).") in text
    assert ("(DM to lina) 🎉 A place freed up: you are going to Book club on Thu, January 8, "
            "2026, 18:00 (Berlin).") in text
    assert "Places taken: 2 of 2 · 1 maybe · 1 can't come" in text
    # omar's "not this one" is for the 8th only: on the 15th lina waits again
    assert ("• #1 Book club — Thu, January 15, 2026, 18:00 (Berlin)\n"
            "  Places taken: 2 of 2 · 1 on the waitlist · 1 maybe") in text
    assert text.count("[2026-01-07 17:00] Majlis: (DM to") == 2  # 24 h before: sara, lina
    assert "[2026-01-08 16:00] Majlis: (DM to lina) ⏰ Reminder: Book club starts" in text
    assert "(DM to omar) ⏰" not in text and "(DM to hadi) ⏰" not in text
    assert ("[2026-01-08 17:00] Majlis: @sara @lina ▶️ Book club starts now. Press “Check in” "
            "when you are there. [1 Check in]") in text
    assert "(only sara sees) Checked in to Book club. Thanks for coming!" in text
    assert ("• Thu, January 8, 2026, 18:00 (Berlin): 1 came; 1 of 2 who said going (50%)"
            in text)
    assert "(DM to omar) ❌ Book club on Thu, January 15, 2026, 18:00 (Berlin) is cancelled. " \
           "Reason: the hall is closed" in text
    assert "(DM to hadi) ❌" not in text  # maybe is not yes
    assert "(only owner sees) Cancelled; I told 3 members who said yes." in text
    # after the 8th ends, the post shows the 22nd (the 15th is cancelled)
    assert "🕒 Thu, January 22, 2026, 18:00 (Berlin) · 2 hours" in text
    assert "The calendar file for Book club. (file: event-1.ics" in text
    # one evening moved: onto the 22nd is refused, to Friday the 30th it goes, with its answers
    assert ("(only owner sees) Book club already takes place on Thu, January 22, 2026, 18:00 "
            "(Berlin); one occurrence cannot move onto another. Nothing was changed.") in text
    assert all(
        f"(DM to {who}) ✏️ Book club on Thu, January 29, 2026, 18:00 (Berlin) moves to Fri, "
        "January 30, 2026, 19:00 (Berlin), this time only:\n⏱ 2 hours\n📍 Room 4" in text
        for who in ("sara", "omar", "lina"))
    assert "(DM to hadi) ✏️" not in text
    assert ("(only owner sees) Moved to Fri, January 30, 2026, 19:00 (Berlin); I told 3 "
            "members who said yes.") in text
    assert ("• #1 Book club — Fri, January 30, 2026, 19:00 (Berlin)\n"
            "  Places taken: 2 of 2 · 1 on the waitlist · 1 maybe") in text
    assert "January 29" not in text.rpartition("sara: /events")[2]  # the last listing


def test_events_story_in_arabic() -> None:
    text = run_story("events_ar.txt", ONLY_EVENTS, "MAJLIS_LANGUAGE=ar",
                     "MAJLIS_TIMEZONE=Asia/Riyadh").replace("\r", "")
    assert "تعذّر فهم «في وقت ما» كموعد بدء." in text
    assert "مثل: 2026-03-05 18:00، غدا 6 مساء، الجمعة القادمة 19:00" in text
    assert "لم يُنشأ شيء." in text
    assert "المواعيد الـ3 القادمة:\n• الخميس، 8 يناير 2026، 18:00 (الرياض)" in text
    assert "[1 سأحضر] [2 ربما] [3 لن أحضر] [4 سأحضر هذه المرة فقط] [5 ليس هذه المرة]" in text
    assert "اكتمل العدد في حلقة القراءة؛ ترتيبك 1 في قائمة الانتظار" in text
    assert ("(رسالة خاصة إلى lina) 🎉 فرغ مكان: حضورك مؤكَّد الآن في حلقة القراءة يوم الخميس، "
            "8 يناير 2026، 18:00 (الرياض).") in text
    assert "حُجز مكانان من 2 · شخص واحد ربما · معتذر واحد" in text
    assert "(رسالة خاصة إلى sara) ⏰ تذكير: تبدأ حلقة القراءة يوم الخميس، 8 يناير 2026" in text
    assert "@sara @lina ▶️ تبدأ حلقة القراءة الآن." in text
    assert "سُجّل حضورك في حلقة القراءة. شكرًا على الحضور!" in text
    assert "الحضور 1؛ منهم 1 من 2 أكّدوا (50%)" in text
    assert "السبب: القاعة مغلقة" in text and "(رسالة خاصة إلى hadi) ❌" not in text
    assert "أُلغيت؛ وأُبلغ 3 أعضاء كانوا قد أكّدوا الحضور." in text
    assert "ملف التقويم لفعالية «حلقة القراءة»." in text
    assert ("لفعالية «حلقة القراءة» موعد يوم الخميس، 22 يناير 2026، 18:00 (الرياض) بالفعل؛ "
            "ولا يُنقل موعد فوق موعد آخر. لم يتغيّر شيء.") in text
    assert ("(رسالة خاصة إلى sara) ✏️ نُقل موعد حلقة القراءة يوم الخميس، 29 يناير 2026، 18:00 "
            "(الرياض) إلى الجمعة، 30 يناير 2026، 19:00 (الرياض)، هذه المرة فقط:") in text
    assert "نُقل الموعد إلى الجمعة، 30 يناير 2026، 19:00 (الرياض)؛ وأُبلغ 3 أعضاء" in text
    assert "• رقم 1 حلقة القراءة — الجمعة، 30 يناير 2026، 19:00 (الرياض)" in text
