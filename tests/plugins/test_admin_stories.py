"""The admin stories: an admin configures plugins and the language; a member cannot."""

from __future__ import annotations

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
