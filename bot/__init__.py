"""Majlis: a plugin-based bot that nurtures online communities.

Plugins import only the public names re-exported here.
"""

from bot.core.capabilities import Capability, Limits, NativePollLimits
from bot.core.clock import Clock, ManualClock, SystemClock
from bot.core.commands import ArgumentError, Duration, Param
from bot.core.context import Context
from bot.core.events import (
    ButtonPressed,
    CommandInvoked,
    CommunityJoined,
    ContributionMade,
    Event,
    InterestsChosen,
    InterestsNamed,
    MemberJoined,
    MemberLeft,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PollAnswered,
    PollClosed,
    ReactionAdded,
    ReactionRemoved,
    internal_id,
)
from bot.core.i18n import N_
from bot.core.markup import Markup, escape
from bot.core.messages import Attachment, Button, ButtonStyle, Card, CardField, Content, Reward
from bot.core.payloads import Payload
from bot.core.plugin import Plugin, command, job, on, on_button
from bot.core.plugin_settings import SettingError
from bot.core.privilege import Privilege
from bot.core.refs import ChannelRef, CommunityRef, MemberRef, RoleRef
from bot.core.scheduler import Misfire, ScheduleError, next_occurrence
from bot.core.storage import UTCDateTime, plugin_metadata
from bot.core.validation import (
    find_timezone,
    known_languages,
    quote,
    show_setting,
    timezone_suggestions,
)

__all__ = [
    "N_",
    "ArgumentError",
    "Attachment",
    "Button",
    "ButtonPressed",
    "ButtonStyle",
    "Capability",
    "Card",
    "CardField",
    "ChannelRef",
    "Clock",
    "CommandInvoked",
    "CommunityJoined",
    "CommunityRef",
    "Content",
    "Context",
    "ContributionMade",
    "Duration",
    "Event",
    "InterestsChosen",
    "InterestsNamed",
    "Limits",
    "ManualClock",
    "Markup",
    "MemberJoined",
    "MemberLeft",
    "MemberRef",
    "MessageDeleted",
    "MessageEdited",
    "MessagePosted",
    "Misfire",
    "NativePollLimits",
    "Param",
    "Payload",
    "Plugin",
    "PollAnswered",
    "PollClosed",
    "Privilege",
    "ReactionAdded",
    "ReactionRemoved",
    "Reward",
    "RoleRef",
    "ScheduleError",
    "SettingError",
    "SystemClock",
    "UTCDateTime",
    "command",
    "escape",
    "find_timezone",
    "internal_id",
    "job",
    "known_languages",
    "next_occurrence",
    "on",
    "on_button",
    "pictures",
    "plugin_metadata",
    "quote",
    "show_setting",
    "timezone_suggestions",
]


def __getattr__(name: str) -> object:
    # ``pictures`` (text in pictures) loads Pillow and matplotlib: only when first asked for.
    if name == "pictures":
        import importlib

        return importlib.import_module("bot.pictures")
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
