"""The words ``phrases.parse_when`` knows, in English and Arabic, already folded.

Arabic entries are written as :func:`plugins.events.arabic_text.fold` leaves them: no hamza
on alef (اول), haa for taa marbuta (الجمعه), yaa for alef maqsura, no diacritics. Weekday
names are listed without the article; the parser strips a leading "ال" (and "و", "and").
"""

from __future__ import annotations

WEEKDAY_WORDS: dict[str, int] = {
    # Monday = 0, as datetime.weekday()
    "monday": 0, "mon": 0, "mondays": 0,
    "tuesday": 1, "tue": 1, "tues": 1, "tuesdays": 1,
    "wednesday": 2, "wed": 2, "wednesdays": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "thursdays": 3,
    "friday": 4, "fri": 4, "fridays": 4,
    "saturday": 5, "sat": 5, "saturdays": 5,
    "sunday": 6, "sun": 6, "sundays": 6,
    "اثنين": 0, "اتنين": 0,
    "ثلاثاء": 1, "ثلاثا": 1, "تلات": 1, "تلاتاء": 1,
    "اربعاء": 2, "اربعا": 2, "اربع": 2,
    "خميس": 3,
    "جمعه": 4,
    "سبت": 5,
    "احد": 6, "حد": 6,
}  # fmt: skip
# "mondays" means every Monday
PLURAL_WEEKDAYS = frozenset(w for w in WEEKDAY_WORDS if w.endswith("days"))
# Arabic "اربع" alone is "four"; it is a weekday only with the article (الاربع is rare too)
BARE_NOT_WEEKDAY = frozenset({"اربع", "حد"})

MONTH_WORDS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3,
    "april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7,
    "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10,
    "november": 11, "nov": 11, "december": 12, "dec": 12,
    "يناير": 1, "فبراير": 2, "مارس": 3, "ابريل": 4, "مايو": 5, "يونيو": 6,
    "يوليو": 7, "اغسطس": 8, "سبتمبر": 9, "اكتوبر": 10, "نوفمبر": 11, "ديسمبر": 12,
    "شباط": 2, "اذار": 3, "نيسان": 4, "ايار": 5, "حزيران": 6, "تموز": 7, "اب": 8,
    "ايلول": 9,
}  # fmt: skip
# Levantine names of two words
MONTH_PAIRS: dict[tuple[str, str], int] = {
    ("كانون", "الثاني"): 1,
    ("تشرين", "الاول"): 10,
    ("تشرين", "الثاني"): 11,
    ("كانون", "الاول"): 12,
}

ORDINALS: dict[str, int] = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
    "4th": 4, "fifth": 5, "5th": 5, "last": -1,
    "اول": 1, "الاول": 1, "الاولي": 1, "ثاني": 2, "الثاني": 2, "الثانيه": 2,
    "ثالث": 3, "الثالث": 3, "الثالثه": 3, "رابع": 4, "الرابع": 4, "الرابعه": 4,
    "خامس": 5, "الخامس": 5, "الخامسه": 5, "اخر": -1, "الاخير": -1, "الاخيره": -1,
}  # fmt: skip
ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})

# unit words: (unit, count); a dual ("يومين", two days) carries its count
UNITS: dict[str, tuple[str, int]] = {
    "day": ("day", 1), "days": ("day", 1),
    "week": ("week", 1), "weeks": ("week", 1), "fortnight": ("week", 2),
    "month": ("month", 1), "months": ("month", 1),
    "يوم": ("day", 1), "ايام": ("day", 1), "يومين": ("day", 2), "اليوم": ("day", 1),
    "اسبوع": ("week", 1), "الاسبوع": ("week", 1), "اسابيع": ("week", 1),
    "اسبوعين": ("week", 2),
    "شهر": ("month", 1), "الشهر": ("month", 1), "اشهر": ("month", 1),
    "شهور": ("month", 1), "شهرين": ("month", 2),
}  # fmt: skip
# one word that is already "every <unit>"
EVERY_UNIT: dict[str, tuple[str, int]] = {
    "daily": ("day", 1), "weekly": ("week", 1), "monthly": ("month", 1),
    "biweekly": ("week", 2), "fortnightly": ("week", 2),
    "يوميا": ("day", 1), "اسبوعيا": ("week", 1), "شهريا": ("month", 1),
}  # fmt: skip
EVERY = frozenset({"every", "each", "كل"})
OTHER = frozenset({"other", "alternate"})  # "every other monday": every second one
WEEKDAYS_WORDS = frozenset({"weekday", "weekdays"})  # Monday to Friday
WEEKEND_WORDS = frozenset({"weekend", "weekends"})  # Saturday and Sunday

NUMBER_WORDS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a": 1, "an": 1,
    "ثلاث": 3, "ثلاثه": 3, "اربعه": 4, "خمس": 5, "خمسه": 5, "ست": 6, "سته": 6,
    "سبع": 7, "سبعه": 7, "ثماني": 8, "ثمانيه": 8, "تسع": 9, "تسعه": 9, "عشر": 10,
    "عشره": 10,
}  # fmt: skip

# relative days: today = 0, tomorrow = 1, ...
RELATIVE_DAYS: dict[str, int] = {
    "today": 0, "tonight": 0, "tomorrow": 1, "tmrw": 1, "tomorow": 1, "overmorrow": 2,
    "اليوم": 0, "الليله": 0, "غدا": 1, "غد": 1, "الغد": 1, "بكره": 1, "بكرا": 1,
    "باكر": 1,
}  # fmt: skip
TONIGHT = frozenset({"tonight", "الليله"})

NEXT_WORDS = frozenset(
    {"next", "coming", "القادم", "القادمه", "المقبل", "المقبله", "الجاي", "الجايه", "الجاييه"}
)
THIS_WORDS = frozenset({"this"})
IN_WORDS = frozenset({"in", "بعد", "خلال"})  # "in 3 days", "بعد 3 ايام"
AT_WORDS = frozenset({"at", "@", "الساعه", "ساعه", "بالساعه", "عند", "تمام"})
FILLERS = frozenset(
    {
        "on", "the", "of", "and", "in", "from", "starting", "beginning", "&", "-", "o'clock",
        "oclock", "sharp", "في", "من", "و", "على", "علي", "ابتداء", "اعتبارا",
        "بدءا", "بدايه", "الموافق", "for", "لمده",
    }
)  # fmt: skip

# meridiem words: the part of the day a 12-hour clock reading belongs to
MERIDIEM: dict[str, str] = {
    "am": "am", "a.m": "am", "morning": "am", "ص": "am", "صباحا": "am", "صباح": "am",
    "الصبح": "am", "الصباح": "am", "صبحا": "am",
    "pm": "pm", "p.m": "pm", "evening": "pm", "م": "pm", "مساء": "pm", "مساءا": "pm",
    "المساء": "pm", "مسا": "pm", "afternoon": "afternoon", "عصرا": "afternoon",
    "العصر": "afternoon", "عصر": "afternoon", "night": "night", "ليلا": "night",
    "الليل": "night", "بالليل": "night", "ظهرا": "noon", "الظهر": "noon", "ظهر": "noon",
    "فجرا": "dawn", "الفجر": "dawn",
}  # fmt: skip
# a clock time named by a word
CLOCK_WORDS: dict[str, tuple[int, int]] = {"noon": (12, 0), "midday": (12, 0), "midnight": (0, 0)}
CLOCK_PAIRS: dict[tuple[str, str], tuple[int, int]] = {("منتصف", "الليل"): (0, 0)}

# Arabic hours said as words after "الساعه": الساعه السادسه مساء
HOUR_WORDS: dict[str, int] = {
    "الواحده": 1, "الثانيه": 2, "الثالثه": 3, "الرابعه": 4, "الخامسه": 5, "السادسه": 6,
    "السابعه": 7, "الثامنه": 8, "التاسعه": 9, "العاشره": 10,
}  # fmt: skip
HOUR_PAIRS: dict[tuple[str, str], int] = {("الحاديه", "عشر"): 11, ("الثانيه", "عشر"): 12}
HOUR_PAIRS.update({(a, b + "ه"): h for (a, b), h in list(HOUR_PAIRS.items())})
# minutes after the hour: "السادسه والنصف" is 6:30, "السابعه الا ربع" 6:45
MINUTE_WORDS: dict[str, int] = {
    "والنصف": 30, "ونصف": 30, "ونص": 30, "والنص": 30, "والربع": 15, "وربع": 15,
    "والثلث": 20, "وثلث": 20,
}  # fmt: skip
MINUS_QUARTER: tuple[tuple[str, str], ...] = (("الا", "ربع"), ("الا", "الربع"), ("الا", "ربعا"))

# the end of a series: "until 2027-03-01", "حتى نهايه مارس" is not read, "حتي 1 مارس" is
UNTIL_WORDS = frozenset({"until", "till", "til", "through", "حتي", "لغايه", "لحد", "الي"})
# "10 times", "10 مرات"; "مرتين" is twice
TIMES_WORDS: dict[str, int] = {"times": 1, "مرات": 1, "مره": 1, "مرتين": 2}
