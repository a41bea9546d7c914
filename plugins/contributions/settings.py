"""What admins can change with ``/config contributions`` (a pydantic model, checked typed).

Structured settings are typed, so a bad value is refused before it is stored (issue 11.3):
``weights`` maps each known contribution kind to whole XP, ``role_rewards`` maps
``level:N`` / ``badge:NAME`` to a role id, ``thanks_phrases`` is a list. Each accepts the
text admins type (``poll_voted=5, event_attended=20``; ``merci, danke``; Arabic commas and
digits too) as well as the parsed value, and values stored as text by older versions.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bot import N_
from plugins.contributions.rules import BADGES

#: Phrases that turn a message mentioning someone into kudos (case-insensitive).
DEFAULT_PHRASES = ("thanks", "thank you", "thx", "شكرا", "شكراً", "مشكور", "جزاك الله خير")
#: The contribution kinds other plugins report (``ContributionMade.kind``).
Kind = Literal["poll_voted", "event_attended", "suggestion_adopted", "met_peer"]
KINDS: tuple[str, ...] = get_args(Kind)
DEFAULT_WEIGHTS: dict[Kind, int] = {"poll_voted": 5, "event_attended": 20,
                                   "suggestion_adopted": 50, "met_peer": 15}
#: ``level:N`` (N a whole number) or ``badge:NAME`` (a badge this plugin awards).
REWARD_KEY = rf"^(level:[0-9]{{1,4}}|badge:({'|'.join(BADGES)}))$"

Weight = Annotated[int, Field(ge=0, le=10_000)]
RewardKey = Annotated[str, StringConstraints(pattern=REWARD_KEY)]
RoleId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^\S+$")]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_COMMAS = str.maketrans({"،": ",", "؛": ","})


def _items(text: str) -> list[str]:
    """``a, b،c`` split at commas (Arabic ones too), blanks dropped."""
    return [item.strip() for item in text.translate(_COMMAS).split(",") if item.strip()]


def _pairs(value: Any) -> Any:
    """Typed text ``a=1, b=2`` read into a dict; digits made Latin; other values as they are.

    A part without ``=`` is kept with an empty value, so the model says what is missing.
    """
    if isinstance(value, str):
        out: dict[str, str] = {}
        for item in _items(value):
            key, _, text = item.partition("=")
            out[key.strip().translate(_DIGITS)] = text.strip().translate(_DIGITS)
        return out
    if isinstance(value, dict):
        return {str(k).strip().translate(_DIGITS):
                v.strip().translate(_DIGITS) if isinstance(v, str) else v
                for k, v in value.items()}
    return value


class ContributionsSettings(BaseModel):
    """What admins can change with /config contributions."""

    model_config = ConfigDict(extra="forbid")
    channel_scoped: ClassVar[frozenset[str]] = frozenset({"multiplier", "earn_xp"})

    xp_per_message: int = Field(default=15, ge=0, le=1000,
                                description=N_("XP one message earns"))
    cooldown_seconds: int = Field(
        default=60, ge=0, le=86400,
        description=N_("Seconds before a member's next message earns XP"))
    min_length: int = Field(default=5, ge=0, le=500,
                            description=N_("Shortest message (in characters) that earns XP"))
    multiplier: float = Field(default=1.0, ge=0, le=10,
                              description=N_("XP multiplier (can be set per channel)"))
    earn_xp: bool = Field(default=True,
                          description=N_("Whether messages earn XP (set per channel to exclude)"))
    curve: Literal["quadratic", "linear", "flat"] = Field(
        default="quadratic", description=N_("Level curve: quadratic, linear or flat"))
    level_up: Literal["channel", "dm", "off"] = Field(
        default="channel", description=N_("Where level-ups are announced: channel, dm or off"))
    thanks_phrases: list[Phrase] = Field(
        default_factory=lambda: list(DEFAULT_PHRASES), max_length=30,
        examples=["thanks, merci, شكرا"],
        description=N_("Phrases that give kudos to the members a message mentions"))
    kudos_daily_cap: int = Field(default=5, ge=0, le=100,
                                 description=N_("Kudos one member may give per day"))
    kudos_pair_cap: int = Field(
        default=2, ge=1, le=100,
        description=N_("Kudos one member may give the same member per day"))
    kudos_xp: int = Field(default=10, ge=0, le=1000,
                          description=N_("XP a member receives with each kudos"))
    reaction_xp: int = Field(default=2, ge=0, le=100,
                             description=N_("XP for each reaction received on a message"))
    reactions_per_message: int = Field(
        default=5, ge=0, le=100, description=N_("Reactions per message that earn XP"))
    weights: dict[Kind, Weight] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS),
        examples=["poll_voted=5, event_attended=20, suggestion_adopted=50, met_peer=15"],
        description=N_("XP for contributions other plugins report: kind=XP, ..."))
    helper_kudos: int = Field(default=10, ge=1, le=10000,
                              description=N_("Kudos received for the Helper badge"))
    event_regular: int = Field(default=5, ge=1, le=1000,
                               description=N_("Events attended for the Event regular badge"))
    role_rewards: dict[RewardKey, RoleId] = Field(
        default_factory=dict, max_length=100,
        examples=["level:5=123456789, badge:helper=987654321"],
        description=N_("Roles to grant, like level:5=ROLE, badge:helper=ROLE (role ids)"))
    role_mode: Literal["stack", "replace"] = Field(
        default="stack", description=N_("Level roles: stack them or replace the previous one"))
    active_days: int = Field(default=30, ge=0, le=365,
                             description=N_("Days of activity for active-member status (0: off)"))
    spotlight: bool = Field(default=True, description=N_("Post a weekly spotlight"))
    decay_after_days: int = Field(
        default=0, ge=0, le=3650,
        description=N_("Days without activity before a member's XP decays (0: off)"))
    decay_percent: int = Field(
        default=10, ge=1, le=50,
        description=N_("Percent of XP an inactive member loses each decay period"))

    @field_validator("thanks_phrases", mode="before")
    @classmethod
    def _phrase_list(cls, value: Any) -> Any:
        """``merci, danke`` typed as text is a list of two phrases."""
        return _items(value) if isinstance(value, str) else value

    @field_validator("weights", "role_rewards", mode="before")
    @classmethod
    def _pair_map(cls, value: Any) -> Any:
        """``key=value, ...`` typed as text (or stored as text before) is a mapping."""
        return _pairs(value)

    @field_validator("role_rewards", mode="after")
    @classmethod
    def _level_keys(cls, value: dict[str, str]) -> dict[str, str]:
        """``level:05`` and ``level:5`` are the same reward."""
        out: dict[str, str] = {}
        for key, role in value.items():
            kind, _, rest = key.partition(":")
            out[f"level:{int(rest)}" if kind == "level" else key] = role
        return out

    def role_for(self, reward: str) -> str | None:
        """The role id granted with a reward key (``level:5``, ``badge:helper``), if any."""
        return self.role_rewards.get(reward)

    def weight(self, kind: str) -> int:
        """XP a reported contribution of ``kind`` earns (0 for kinds without a weight)."""
        return self.weights.get(kind, 0)  # type: ignore[call-overload]
