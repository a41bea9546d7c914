"""Events in Arabic: an Arabic phrase, the preview and post in Arabic, all six plural forms."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.i18n import Catalogs, Translator
from bot.testing import FakeCommunity
from plugins.admin import Admin
from plugins.events import Events, render
from plugins.events.rsvp import Answer, Seats

WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def seats(going: int, waiting: int = 0) -> Seats:
    people = tuple(Answer(str(i), None, "going", WHEN) for i in range(going + waiting))
    return Seats(going=people[:going], waitlist=people[going:])


def test_counts_take_every_arabic_plural_form() -> None:
    ar = Translator(Catalogs(), "events", "ar", "Asia/Riyadh")
    taken = [str(render.counts(ar, seats(n), 200)) for n in (0, 1, 2, 3, 11, 100)]
    assert taken == ["لم يُحجز أي مكان من 200",
                     "حُجز مكان واحد من 200", "حُجز مكانان من 200", "حُجزت 3 أماكن من 200",
                     "حُجز 11 مكانًا من 200", "حُجز 100 مكان من 200"]
    waiting = [str(render.counts(ar, seats(1, n), 1)).split(" · ")[1] for n in (1, 2, 3, 11)]
    assert waiting == ["شخص واحد في قائمة الانتظار", "شخصان في قائمة الانتظار",
                       "3 أشخاص في قائمة الانتظار", "11 شخصًا في قائمة الانتظار"]
    open_ended = [str(render.counts(ar, seats(n), 0)) for n in (0, 1, 2, 5, 20, 101)]
    assert open_ended == ["لم يؤكد أحد الحضور", "شخص واحد سيحضر", "شخصان سيحضران",
                          "5 أشخاص سيحضرون", "20 شخصًا سيحضرون", "101 شخص سيحضرون"]


async def test_an_arabic_phrase_gives_an_arabic_preview_post_and_answer() -> None:
    async with FakeCommunity([Events, Admin], admins=["amal"], language="ar",
                             timezone="Asia/Riyadh") as c:
        await c.says("amal", '/event_create "حلقة القراءة" "كل خميس الساعة 6 مساء" '
                             'capacity=1 place="المكتبة"')
        preview = c.expect("هذه هي الفعالية. هل تُنشر؟", to="amal",
                           buttons=["انشرها", "تجاهل"])
        assert "المواعيد الـ3 القادمة:" in preview.text
        assert preview.text.count("(الرياض)") == 3 and "18:00" in preview.text
        assert "👥 مكان واحد" in preview.text
        await c.presses("amal", "انشرها")
        post = c.expect("📅 حلقة القراءة (الفعالية رقم 1)")
        assert post.buttons == ("سأحضر", "ربما", "لن أحضر", "سأحضر هذه المرة فقط",
                                "ليس هذه المرة")
        assert "لم يُحجز أي مكان من 1" in post.text
        await c.presses("sara", "سأحضر")
        c.expect("حضورك مؤكَّد في حلقة القراءة ابتداءً من", to="sara")
        await c.presses("omar", "سأحضر")
        c.expect("اكتمل العدد في حلقة القراءة؛ ترتيبك 1 في قائمة الانتظار", to="omar")
        await c.says("amal", '/event_create "x" "بعد بكرة يمكن"')
        refusal = c.expect("تعذّر فهم «بعد بكرة يمكن» كموعد بدء.", to="amal")
        assert "لم يُنشأ شيء." in refusal.text


async def test_an_arabic_post_says_the_length_exactly() -> None:
    async with FakeCommunity([Events, Admin], admins=["amal"], language="ar",
                             timezone="Asia/Riyadh") as c:
        await c.says("amal", '/event_create "حلقة القراءة" "كل خميس الساعة 6 مساء" duration=125m')
        preview = c.expect("هذه هي الفعالية. هل تُنشر؟", to="amal")
        assert "⏱ ساعتان و5 دقائق" in preview.text
        await c.presses("amal", "انشرها")
        post = c.expect("📅 حلقة القراءة (الفعالية رقم 1)")
        assert "· ساعتان و5 دقائق" in post.text


def test_a_moved_occurrence_is_told_with_every_arabic_plural_form() -> None:
    ar = Translator(Catalogs(), "events", "ar", "Asia/Riyadh")
    told = [str(ar.tn("Moved to {when}; I told {n} member who said yes.",
                      "Moved to {when}; I told {n} members who said yes.", n, when=WHEN))
            for n in (0, 1, 2, 3, 11, 100)]
    when = "الاثنين، 5 يناير 2026، 12:00 \\(الرياض\\)"  # escaped: markup
    assert told == [f"نُقل الموعد إلى {when}؛ {rest}" for rest in (
        "ولم يكن هناك من أكّد الحضور لإبلاغه.", "وأُبلغ عضو واحد كان قد أكّد الحضور.",
        "وأُبلغ عضوان كانا قد أكّدا الحضور.", "وأُبلغ 3 أعضاء كانوا قد أكّدوا الحضور.",
        "وأُبلغ 11 عضوًا كانوا قد أكّدوا الحضور.", "وأُبلغ 100 عضو كانوا قد أكّدوا الحضور.")]
