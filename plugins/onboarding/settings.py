"""The onboarding plugin's settings: what admins change with /onboarding_setup or /config."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from bot import N_, known_languages
from plugins.onboarding.rules import PLACEHOLDERS, template_problem

MAX_INTERESTS = 20
MAX_INTRO = 2000  # the intro column's size


MAX_LABEL = 40
Label = Annotated[str, Field(min_length=1, max_length=MAX_LABEL)]


class Interest(BaseModel):
    """One interest members can pick; ``id`` never changes, ``label`` may.

    ``label`` is the community's name for it; ``labels`` names it in other languages the
    bot speaks (``{"ar": "الألعاب اللوحية"}``), so each member reads their own.
    """

    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=1)
    label: Label
    labels: dict[str, Label] = Field(default_factory=dict)
    role: str | None = Field(default=None, max_length=100)

    @field_validator("labels", mode="before")
    @classmethod
    def _known_languages(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        spoken = known_languages()
        out = {}
        for code, label in value.items():
            language = str(code).strip().lower()
            if language not in spoken:
                raise PydanticCustomError(
                    "unknown_language", "{language} is not a language the bot speaks",
                    {"language": str(code)})
            out[language] = label.strip() if isinstance(label, str) else label
        return out

    @staticmethod
    def named(items: list[Interest]) -> dict[str, Any]:
        """``interests``, ``labels`` and ``translations`` of an interests event."""
        languages = sorted({code for i in items for code in i.labels})
        return {
            "interests": tuple(str(i.id) for i in items),
            "labels": tuple(i.label for i in items),
            "translations": tuple((code, tuple(i.labels.get(code, "") for i in items))
                                  for code in languages),
        }

    def label_in(self, language: str) -> str:
        """The name a reader of ``language`` sees (the community's label when none is set)."""
        return self.labels.get(language) or self.label


class OnboardingSettings(BaseModel):
    """What admins change with /onboarding_setup (or /config onboarding)."""

    model_config = ConfigDict(extra="forbid")

    greet: bool = Field(default=True, description=N_("Greet members when they join"))
    greet_in: Literal["channel", "dm"] = Field(
        default="channel", description=N_("Where the greeting goes: channel or dm")
    )
    greeting_channel: str | None = Field(
        default=None, max_length=100,
        description=N_("Channel for greetings (empty: the community's default channel)"),
    )
    template: str = Field(
        default="", max_length=1000,
        description=N_("Greeting template with {name}, {community}, {member_count}, "
                       "{rules_link} (empty: the built-in greeting)"),
    )
    rules_text: str = Field(default="", max_length=2000, description=N_("The rules to accept"))
    rules_link: str = Field(default="", max_length=300, description=N_("A link to the rules"))
    interests: list[Interest] = Field(
        default_factory=list, max_length=MAX_INTERESTS,
        description=N_("Interests members can pick"),
        # /config takes (and shows) a list of records as JSON: this is how to write one
        examples=["""'[{"id": 1, "label": "Books", "labels": {"ar": "الكتب"}}]'"""],
    )
    step_rules: bool = Field(default=True, description=N_("Ask members to accept the rules"))
    step_interests: bool = Field(default=True, description=N_("Ask members to pick interests"))
    step_intro: bool = Field(
        default=True, description=N_("Invite members to introduce themselves")
    )
    starter_role: str | None = Field(
        default=None, max_length=100, description=N_("Role granted when onboarding is finished")
    )
    newcomer_role: str | None = Field(
        default=None, max_length=100, description=N_("Role newcomers hold until they graduate")
    )
    graduate_messages: int = Field(
        default=5, ge=0, le=1000, description=N_("Messages a newcomer posts to graduate")
    )
    graduate_days: int = Field(
        default=7, ge=0, le=365, description=N_("Days a newcomer waits to graduate")
    )
    nudge_hours: int = Field(
        default=24, ge=0, le=720,
        description=N_("Hours after finishing before a silent member is nudged (0: never)"),
    )
    next_step: str = Field(
        default="", max_length=300,
        description=N_("What the thank-you for a first message suggests doing next"),
    )
    raid_joins: int = Field(
        default=10, ge=2, le=1000,
        description=N_("Joins within the raid window that start batching"),
    )
    raid_seconds: int = Field(
        default=60, ge=10, le=3600, description=N_("The raid window, in seconds")
    )
    alert_channel: str | None = Field(
        default=None, max_length=100,
        description=N_("Channel where moderators are alerted (empty: the admin channel)"),
    )
    intro_channel: str | None = Field(
        default=None, max_length=100,
        description=N_("Channel where introductions are posted (empty: the default channel)"),
    )
    intro_max_length: int = Field(
        default=500, ge=20, le=MAX_INTRO,
        description=N_("The longest introduction, in characters"),
    )

    @field_validator("template")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        problem = template_problem(value)
        if problem is not None:
            raise ValueError(
                f"unknown placeholder {{{problem}}}; valid: "
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            )
        return value

    @field_validator("interests")
    @classmethod
    def _unique_ids(cls, value: list[Interest]) -> list[Interest]:
        ids = [i.id for i in value]
        if len(ids) != len(set(ids)):
            raise ValueError("interest ids must be unique")
        return value
