"""Scripted console stories: the same script gives the same transcript, in both languages."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def run_story(name: str, *env: str) -> str:
    result = subprocess.run(
        [sys.executable, "run.py", "console", "--script", f"stories/{name}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env={"PATH": "", "PYTHONIOENCODING": "utf-8", **dict(e.split("=", 1) for e in env)},
        check=True,
    )
    return result.stdout


def test_example_story_in_english_is_deterministic() -> None:
    first = run_story("example_en.txt")
    assert first == run_story("example_en.txt")
    lines = first.splitlines()
    assert "[2026-01-05 09:00] Majlis: Welcome, sara! 👋 [1 Wave back]" in lines
    assert "[2026-01-05 09:00] Majlis: You have waved 1 time." in lines
    assert any(
        "“soon” is not a duration" in line and "90m, 2h, 3d or 1w" in line for line in lines
    )
    assert (
        "[2026-01-05 11:00] Majlis: ⏰ @sara, you asked me to remind you: call the venue" in lines
    )


def test_example_story_in_arabic() -> None:
    out = run_story("example_ar.txt", "MAJLIS_LANGUAGE=ar")
    lines = out.splitlines()
    assert "[2026-01-05 09:00] Majlis: أهلًا وسهلًا يا سارة! 👋 [1 لوّح بالمقابل]" in lines
    assert "[2026-01-05 09:00] Majlis: لوّحت مرة واحدة." in lines
    assert any("«قريبا» ليست مدة" in line for line in lines)
    assert "[2026-01-05 11:00] Majlis: ⏰ @سارة، طلبت مني أن أذكّرك: اتصل بالقاعة" in lines


def test_playground_story_in_english() -> None:
    out = run_story("playground_en.txt")
    lines = [line.split("] ", 1)[1] for line in out.splitlines() if "] " in line]
    assert lines[0] == "Directives (anything else is a message; /help lists commands):"
    for refusal in ("(:as needs a name, like :as sara)", "(ghost is not a member here)",
                    "(“zz” is not a language here; choose one of: ar or en)",
                    "(there is no message with buttons to press)",
                    "(:react needs an emoji, like :react 👍)",
                    "(unknown directive :frobnicate; :help lists them)"):
        assert refusal in lines
    rank = next(line for line in lines if "(image: rank.png" in line)
    assert rank.endswith(" → data/attachments/20260105-0900-m9-rank.png)")
    assert (ROOT / "data/attachments/20260105-0900-m9-rank.png").is_file()
    assert out == run_story("playground_en.txt")


def test_playground_story_in_arabic() -> None:
    out = run_story("playground_ar.txt", "MAJLIS_LANGUAGE=ar")
    lines = [line.split("] ", 1)[1] for line in out.splitlines() if "] " in line]
    assert lines[0] == "التوجيهات (وكل ما عداها رسالة؛ اكتب /help لعرض الأوامر):"
    for refusal in ("(يحتاج :as إلى اسم، مثل :as سارة)", "(لا يوجد عضو باسم شبح هنا)",
                    "(«zz» ليست لغة متاحة هنا؛ اختر واحدة من: ar أو en)",
                    "(لا توجد رسالة فيها أزرار للضغط عليها)",
                    "(يحتاج :react إلى رمز تعبيري، مثل :react 👍)",
                    "(يحتاج :advance إلى مدة مثل 90m أو 2h أو 3d، لا «قريبا»)",
                    "(لا يوجد توجيه :رقص؛ اكتب :help لعرض التوجيهات)"):
        assert refusal in lines
    assert any("(صورة: rank.png" in line and "→ data/attachments/" in line for line in lines)
    # the console's own labels speak the playground's language too
    assert not [line for line in lines
                if any(label in line for label in ("(only ", "(DM to ", " joined", "(image: ",
                                                   " pressed [", "(time passes", "(badge for"))]
    assert any(line.startswith("→ انضمام: ") for line in lines)
