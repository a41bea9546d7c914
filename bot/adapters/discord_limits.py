"""Discord's limits as named constants (never magic numbers elsewhere) and the rate profile.

Values follow Discord's documentation for API v10.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from bot.core.capabilities import Limits, NativePollLimits
from bot.core.ratelimit import Limit, RateProfile

# -- sending ------------------------------------------------------------------------------
#: Requests per second across the whole bot.
GLOBAL_REQUESTS_PER_SECOND: Final = 50
#: Messages per window in one channel.
CHANNEL_MESSAGES: Final = 5
#: The per-channel window in seconds.
CHANNEL_WINDOW_SECONDS: Final = 5.0
#: Sends in flight at once.
CONCURRENCY: Final = 16

RATE_PROFILE: Final = RateProfile(
    "discord",
    (
        Limit("global", GLOBAL_REQUESTS_PER_SECOND, 1.0),
        Limit("channel", CHANNEL_MESSAGES, CHANNEL_WINDOW_SECONDS),
    ),
    CONCURRENCY,
)

# -- text ---------------------------------------------------------------------------------
MESSAGE_CHARS: Final = 2000
EMBED_TITLE_CHARS: Final = 256
EMBED_DESCRIPTION_CHARS: Final = 4096
EMBED_FIELDS: Final = 25
EMBED_FIELD_NAME_CHARS: Final = 256
EMBED_FIELD_VALUE_CHARS: Final = 1024
EMBED_FOOTER_CHARS: Final = 2048
EMBED_TOTAL_CHARS: Final = 6000
EMBEDS_PER_MESSAGE: Final = 10
ATTACHMENTS_PER_MESSAGE: Final = 10

# -- components ---------------------------------------------------------------------------
CUSTOM_ID_CHARS: Final = 100
BUTTON_LABEL_CHARS: Final = 80
ACTION_ROWS: Final = 5
BUTTONS_PER_ROW: Final = 5

# -- application commands -----------------------------------------------------------------
COMMAND_NAME_PATTERN: Final = r"^[-_\w]{1,32}$"
COMMAND_NAME_CHARS: Final = 32
COMMAND_DESCRIPTION_CHARS: Final = 100
COMMAND_OPTIONS: Final = 25
COMMAND_CHOICES: Final = 25
CHOICE_NAME_CHARS: Final = 100
CHOICE_VALUE_CHARS: Final = 100
GLOBAL_COMMANDS: Final = 100
GUILD_COMMANDS: Final = 100
#: Command creations a day per guild (why sync happens only when the set changed).
COMMAND_CREATES_PER_DAY: Final = 200
AUTOCOMPLETE_CHOICES: Final = 25
OPTION_STRING_CHARS: Final = 6000

# -- interactions -------------------------------------------------------------------------
#: An interaction must be acknowledged within this many seconds.
INTERACTION_ACK_SECONDS: Final = 3.0
#: Follow-ups work for this long after the interaction.
INTERACTION_FOLLOWUP_SECONDS: Final = 15 * 60.0

# -- native polls -------------------------------------------------------------------------
POLL_ANSWERS: Final = 10
POLL_QUESTION_CHARS: Final = 300
POLL_ANSWER_CHARS: Final = 55
POLL_MIN_HOURS: Final = 1
POLL_MAX_HOURS: Final = 32 * 24

# -- threads ------------------------------------------------------------------------------
THREAD_NAME_CHARS: Final = 100
#: Minutes of inactivity before a thread the bot opens is archived (one day).
THREAD_ARCHIVE_MINUTES: Final = 1440
#: Channel type of a public thread (``POST /channels/{id}/threads`` without a message).
PUBLIC_THREAD: Final = 11

# -- guild scheduled events -----------------------------------------------------------------
EVENT_NAME_CHARS: Final = 100
EVENT_DESCRIPTION_CHARS: Final = 1000
EVENT_LOCATION_CHARS: Final = 100
#: ``privacy_level``: the only one Discord accepts (guild members only).
EVENT_GUILD_ONLY: Final = 2
#: ``entity_type`` values.
EVENT_STAGE: Final = 1
EVENT_VOICE: Final = 2
EVENT_EXTERNAL: Final = 3
#: ``status`` that cancels a scheduled event (PATCH).
EVENT_CANCELED: Final = 4
#: External events need an end time; without one they last this long.
EVENT_DEFAULT_SECONDS: Final = 3600

# -- errors (JSON codes) ------------------------------------------------------------------
UNKNOWN_INTERACTION: Final = 10062
CANNOT_MESSAGE_USER: Final = 50007
MISSING_ACCESS: Final = 50001
MISSING_PERMISSIONS: Final = 50013
UNKNOWN_SCHEDULED_EVENT: Final = 10070

# -- locales ------------------------------------------------------------------------------
#: Every locale Discord clients report (there is no Arabic one).
LOCALES: Final = (
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu",
    "nl", "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru",
    "uk", "hi", "th", "zh-CN", "ja", "zh-TW", "ko",
)  # fmt: skip


#: What plugins may know about Discord (``ctx.limits``).
LIMITS: Final = Limits(
    text_length=MESSAGE_CHARS,
    native_poll=NativePollLimits(
        max_options=POLL_ANSWERS,
        max_option_length=POLL_ANSWER_CHARS,
        max_question_length=POLL_QUESTION_CHARS,
        max_duration=timedelta(hours=POLL_MAX_HOURS),
        anonymous_votes_visible=True,
    ),
)
