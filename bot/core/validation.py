"""Explaining refused input in the asking member's words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from bot.core.i18n import Translator

#: How much of a refused value an error quotes back (Discord allows 2,000 in all).
QUOTE_CHARS = 80


def quote(value: str, limit: int = QUOTE_CHARS) -> str:
    """``value`` cut to ``limit`` characters with an ellipsis, for quoting in an error."""
    value = " ".join(value.split()) if "\n" in value else value
    return value if len(value) <= limit else value[: limit - 1] + "…"


def explain_errors(error: ValidationError, core: Translator) -> str:
    """Every problem pydantic found, in words of the core catalog, joined by "; "."""
    return "; ".join(explain(e, core) for e in error.errors())


def explain(error: Any, core: Translator) -> str:
    """One pydantic error in words of the core catalog: what is allowed instead."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in ("greater_than_equal", "greater_than"):
        return core.plain("it must be at least {min}", min=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return core.plain("it must be at most {max}", max=ctx.get("le", ctx.get("lt")))
    if kind == "string_too_long":
        return core.plain("it can be at most {max} characters long", max=ctx.get("max_length"))
    if kind == "string_too_short":
        return core.plain("it must be at least {min} characters long", min=ctx.get("min_length"))
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return core.plain("it must be a whole number")
    if kind in ("float_parsing", "float_type"):
        return core.plain("it must be a number")
    if kind in ("bool_parsing", "bool_type"):
        return core.plain("it must be yes or no")
    if kind in ("literal_error", "enum"):
        return core.plain("it must be one of: {choices}", choices=str(ctx.get("expected", "")))
    if kind in ("string_type", "string_parsing"):
        return core.plain("it must be text")
    return core.plain("it is not a valid value")


__all__ = ["QUOTE_CHARS", "explain", "explain_errors", "quote"]
