"""Platform-neutral references to communities, members, channels and roles.

A reference is the platform name plus the platform's own id, as a string. Display
names ride along for rendering but never take part in equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CommunityRef:
    """A Discord guild, a Telegram group or a console community."""

    platform: str
    id: str
    #: The community's key in the database: ``platform:id`` (computed once: the hot path
    #: reads it several times per message).
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"{self.platform}:{self.id}")

    @classmethod
    def from_key(cls, key: str) -> CommunityRef:
        """Rebuild a reference from :attr:`key`."""
        platform, _, native = key.partition(":")
        return cls(platform, native)


@dataclass(frozen=True, slots=True)
class MemberRef:
    """A person on a platform; ``language`` is the platform's hint, if any."""

    platform: str
    id: str
    name: str = field(default="", compare=False)
    language: str | None = field(default=None, compare=False)
    is_bot: bool = field(default=False, compare=False)

    @property
    def display_name(self) -> str:
        """The name to show, falling back to the id."""
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel, thread, topic or private chat."""

    platform: str
    id: str
    name: str = field(default="", compare=False)
    private: bool = field(default=False, compare=False)
    parent: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class RoleRef:
    """A role (Discord) or a named status the platform knows."""

    platform: str
    id: str
    name: str = field(default="", compare=False)
