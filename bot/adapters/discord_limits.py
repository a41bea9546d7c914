"""Discord's limits as named constants (never magic numbers elsewhere) and the rate profile.

Values follow Discord's documentation for API v10.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from bot.core.capabilities import Limits, NativePollLimits
from bot.core.ratelimit import Limit, RateProfile

# -- sending ------------------------------------------------------------------------------
# Discord says not to hard-code per-route limits (they come back in the X-RateLimit-*
# headers, and a 429 corrects any guess); these are the values Discord answers today, so the
# outbox rarely gets to the 429 at all. Each limit is named after the route it models and
# keyed by the route's major parameter (channel_id, guild_id, webhook id + token).

#: Requests per second across the whole bot (interaction responses do not count).
GLOBAL_REQUESTS_PER_SECOND: Final = 50
#: Messages per window in one channel.
CHANNEL_MESSAGES: Final = 5
#: The per-channel window in seconds.
CHANNEL_WINDOW_SECONDS: Final = 5.0
#: Edits per window in one channel.
CHANNEL_EDITS: Final = 5
CHANNEL_EDIT_WINDOW_SECONDS: Final = 5.0
#: Follow-ups per window on one interaction's webhook (id + token).
WEBHOOK_MESSAGES: Final = 5
WEBHOOK_WINDOW_SECONDS: Final = 2.0
#: Role changes per window in one guild.
GUILD_ROLE_CHANGES: Final = 10
GUILD_ROLE_WINDOW_SECONDS: Final = 10.0
#: Threads opened per window in one channel.
CHANNEL_THREADS: Final = 5
CHANNEL_THREAD_WINDOW_SECONDS: Final = 5.0
#: Scheduled-event changes per window in one guild.
GUILD_EVENT_CHANGES: Final = 5
GUILD_EVENT_WINDOW_SECONDS: Final = 5.0
#: Sends in flight at once.
CONCURRENCY: Final = 16

#: Limit names (``Limit.scope``): the global one and one per route.
GLOBAL: Final = "global"
#: The key of the global limit (one bucket for the whole bot).
GLOBAL_KEY: Final = "*"
ROUTE_MESSAGES: Final = "route:POST /channels/{channel_id}/messages"
ROUTE_EDIT: Final = "route:PATCH /channels/{channel_id}/messages/{message_id}"
ROUTE_FOLLOWUP: Final = "route:POST /webhooks/{application_id}/{interaction_token}"
ROUTE_ROLES: Final = "route:PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
ROUTE_THREADS: Final = "route:POST /channels/{channel_id}/threads"
ROUTE_EVENTS: Final = "route:POST /guilds/{guild_id}/scheduled-events"

RATE_PROFILE: Final = RateProfile(
    "discord",
    (
        Limit(GLOBAL, GLOBAL_REQUESTS_PER_SECOND, 1.0, paced=True),
        Limit(ROUTE_MESSAGES, CHANNEL_MESSAGES, CHANNEL_WINDOW_SECONDS),
        Limit(ROUTE_EDIT, CHANNEL_EDITS, CHANNEL_EDIT_WINDOW_SECONDS),
        Limit(ROUTE_FOLLOWUP, WEBHOOK_MESSAGES, WEBHOOK_WINDOW_SECONDS),
        Limit(ROUTE_ROLES, GUILD_ROLE_CHANGES, GUILD_ROLE_WINDOW_SECONDS),
        Limit(ROUTE_THREADS, CHANNEL_THREADS, CHANNEL_THREAD_WINDOW_SECONDS),
        Limit(ROUTE_EVENTS, GUILD_EVENT_CHANGES, GUILD_EVENT_WINDOW_SECONDS),
    ),
    CONCURRENCY,
)

#: Discord's ``nonce`` is at most this many characters.
NONCE_CHARS: Final = 25

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
UNKNOWN_CHANNEL: Final = 10003
UNKNOWN_GUILD: Final = 10004
UNKNOWN_MEMBER: Final = 10007
UNKNOWN_MESSAGE: Final = 10008
UNKNOWN_ROLE: Final = 10011
UNKNOWN_USER: Final = 10013
UNKNOWN_WEBHOOK: Final = 10015
UNKNOWN_INTERACTION: Final = 10062
UNKNOWN_SCHEDULED_EVENT: Final = 10070
MISSING_ACCESS: Final = 50001
CANNOT_MESSAGE_USER: Final = 50007
CANNOT_SEND_IN_VOICE_CHANNEL: Final = 50008
MISSING_PERMISSIONS: Final = 50013
INVALID_WEBHOOK_TOKEN: Final = 50027
INVALID_FORM_BODY: Final = 50035
#: "An invalid/expired interaction token" shows up as either of these.
EXPIRED_INTERACTION: Final = frozenset({UNKNOWN_WEBHOOK, UNKNOWN_INTERACTION,
                                        INVALID_WEBHOOK_TOKEN})
#: "API resource overloaded, try again later".
RESOURCE_OVERLOADED: Final = 130000

# -- gateway supervision --------------------------------------------------------------------
#: Backoff between reconnects after the gateway connection ended: first, factor, ceiling.
RECONNECT_FIRST_SECONDS: Final = 1.0
RECONNECT_FACTOR: Final = 2.0
RECONNECT_MAX_SECONDS: Final = 120.0
#: Connections in a row that end without reaching READY before the adapter gives up.
RECONNECT_ATTEMPTS: Final = 8

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
