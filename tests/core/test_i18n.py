"""Catalogs are complete, and Arabic plurals pick the right one of six forms."""

from bot.core.i18n import Catalogs, Translator
from bot.i18n_check import problems


def test_every_string_is_translated_with_every_plural_form() -> None:
    assert problems() == []


def test_arabic_plural_forms() -> None:
    ar = Translator(Catalogs(), "example", "ar")
    forms = {n: str(ar.tn("You have waved {n} time.", "You have waved {n} times.", n))
             for n in (0, 1, 2, 3, 11, 100)}
    assert forms[0] == "لم تلوّح بعد."
    assert forms[1] == "لوّحت مرة واحدة."
    assert forms[2] == "لوّحت مرتين."
    assert forms[3] == "لوّحت 3 مرات."
    assert forms[11] == "لوّحت 11 مرة."
    assert forms[100] == "لوّحت 100 مرة."


def test_values_are_escaped_and_numbers_localized() -> None:
    en = Translator(Catalogs(), "example", "en")
    assert str(en.t("Welcome, {name}! 👋", name="*x*")) == "Welcome, \\*x\\*! 👋"
    assert en.number(12345) == "12,345"


def test_dates_are_written_per_language_without_seconds_and_with_the_city() -> None:
    import datetime as dt

    when = dt.datetime(2026, 1, 6, 15, 0, 30, tzinfo=dt.UTC)
    ar = Translator(Catalogs(), "polls", "ar", "Asia/Riyadh")
    en = Translator(Catalogs(), "polls", "en", "Asia/Riyadh")
    assert ar.datetime(when) == "الثلاثاء، 6 يناير 2026، 18:00 (الرياض)"
    assert en.datetime(when) == "Tue, January 6, 2026, 18:00 (Riyadh)"
    assert Translator(Catalogs(), "polls", "en", "UTC").datetime(when).endswith("15:00 (UTC)")
    # a {when} in a message is written the same way
    closes = str(ar.t("Closes {when}.", when=when))
    assert closes == "يُغلق يوم الثلاثاء، 6 يناير 2026، 18:00 \\(الرياض\\)."



def test_alternatives_are_joined_the_languages_way() -> None:
    """A choice error lists the choices with the language's own "or" (no Latin comma)."""
    core = "“{value}” is not one of the choices for “{name}”: {choices}."
    values = {"value": "x", "name": "period", "choices": ("week", "month", "all")}
    en = str(Translator(Catalogs(), "core", "en").t(core, **values))
    ar = str(Translator(Catalogs(), "core", "ar").t(core, **values))
    assert en.endswith("week, month, or all.")
    assert "week أو month أو all" in ar and "," not in ar


def test_durations_are_exact_to_the_minute_in_both_languages() -> None:
    """A 90-minute event is "1 hour and 30 minutes", never rounded up to "2 hours"."""
    import datetime as dt

    en = Translator(Catalogs(), "events", "en")
    ar = Translator(Catalogs(), "events", "ar")
    said = {
        dt.timedelta(minutes=90): ("1 hour and 30 minutes", "ساعة و30 دقيقة"),
        dt.timedelta(hours=1): ("1 hour", "ساعة"),
        dt.timedelta(hours=2): ("2 hours", "ساعتان"),
        dt.timedelta(hours=2, minutes=5): ("2 hours and 5 minutes", "ساعتان و5 دقائق"),
        dt.timedelta(days=1, hours=3): ("1 day and 3 hours", "يوم و3 ساعات"),
        dt.timedelta(minutes=45): ("45 minutes", "45 دقيقة"),
        dt.timedelta(days=1, hours=2, minutes=5): ("1 day, 2 hours, and 5 minutes",
                                                   "يوم وساعتان و5 دقائق"),
        dt.timedelta(days=11, hours=11, minutes=2): ("11 days, 11 hours, and 2 minutes",
                                                     "11 يومًا و11 ساعة ودقيقتان"),
    }
    for delta, (english, arabic) in said.items():
        assert (en.duration(delta), ar.duration(delta)) == (english, arabic)
    # a timedelta in a message is written the same way
    assert str(en.t("⏱ {length}", length=dt.timedelta(minutes=90))) == (
        "⏱ 1 hour and 30 minutes")
    assert str(ar.t("⏱ {length}", length=dt.timedelta(minutes=90))) == "⏱ ساعة و30 دقيقة"


def test_a_refused_length_counts_in_each_languages_plural_forms() -> None:
    from pydantic import BaseModel, Field, ValidationError

    from bot.core.validation import explain

    class Shelf(BaseModel):
        name: str = Field(min_length=1, max_length=2)
        tags: list[str] = Field(min_length=1, max_length=1)

    def why(language: str, **values: object) -> list[str]:
        core = Translator(Catalogs(), "core", language)
        try:
            Shelf.model_validate(values)
        except ValidationError as exc:
            return [explain(error, core) for error in exc.errors()]
        raise AssertionError("the values should be refused")

    assert why("en", name="", tags=[]) == [
        "it must be at least 1 character long", "it must have at least 1 item"]
    assert why("en", name="abc", tags=["a", "b"]) == [
        "it can be at most 2 characters long", "it can have at most 1 item"]
    assert why("ar", name="", tags=["a", "b"]) == [
        "يجب ألا يقل عدد أحرفها عن 1", "يجب ألا يزيد عدد عناصرها على 1"]
