"""The onboarding buttons' payloads (they survive restarts: their meaning is their data)."""

from __future__ import annotations

from bot import Payload


class Start(Payload, prefix="onboarding.start"):
    """Open (or resume) the flow for whoever presses."""


class Accept(Payload, prefix="onboarding.accept"):
    """Accept the rules."""


class Toggle(Payload, prefix="onboarding.toggle"):
    """Pick or unpick one interest (by its stable id)."""

    interest: int


class Done(Payload, prefix="onboarding.done"):
    """Finish picking interests."""


class SkipIntro(Payload, prefix="onboarding.skip_intro"):
    """Skip the introduction step."""
