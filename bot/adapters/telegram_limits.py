"""Telegram Bot API limits, as named constants, and the adapter's rate profile.

Sources: the Bot API reference (https://core.telegram.org/bots/api) and the Bots FAQ on
broadcasting ("30 messages per second", "20 messages per minute to the same group",
"avoid more than one message per second in a particular chat").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from bot.core.capabilities import Limits, NativePollLimits
from bot.core.ratelimit import Limit, RateProfile

#: ``callback_data`` of an inline keyboard button, in bytes (UTF-8).
CALLBACK_DATA_BYTES: Final = 64
#: ``/start PARAMETER`` of a deep link: characters from ``A-Za-z0-9_-``.
START_PARAMETER_CHARS: Final = 64
#: Text of one message after entity parsing.
MESSAGE_TEXT_CHARS: Final = 4096
#: Caption of a photo or document after entity parsing.
CAPTION_CHARS: Final = 1024
#: Text of ``answerCallbackQuery`` (a toast or an alert).
CALLBACK_ANSWER_CHARS: Final = 200
#: Options of a native poll.
POLL_OPTIONS_MIN: Final = 2
POLL_OPTIONS_MAX: Final = 12
#: Characters of a poll question and of one option.
POLL_QUESTION_CHARS: Final = 300
POLL_OPTION_CHARS: Final = 100
#: ``open_period`` of a poll, in seconds. The bot closes its native polls through
#: ``open_period``, so a longer poll must be refused (or made with buttons) before it is
#: confirmed: delivery refuses it.
POLL_OPEN_PERIOD_MIN: Final = 5
POLL_OPEN_PERIOD_MAX: Final = 600
#: ``setMyCommands``: commands per scope and language, name and description lengths.
COMMANDS_MAX: Final = 100
COMMAND_NAME_CHARS: Final = 32
COMMAND_DESCRIPTION_MIN_CHARS: Final = 1
COMMAND_DESCRIPTION_CHARS: Final = 256
#: Name of a forum topic (``createForumTopic``).
FORUM_TOPIC_NAME_CHARS: Final = 128
#: Custom title of an administrator (``setChatAdministratorCustomTitle``).
CUSTOM_TITLE_CHARS: Final = 16
#: Name of an invite link.
INVITE_LINK_NAME_CHARS: Final = 32
#: ``member_limit`` of an invite link (1 = single use).
INVITE_LINK_MEMBER_LIMIT_MAX: Final = 99_999
#: Files the bot may upload through the Bot API server, in bytes.
UPLOAD_BYTES: Final = 50 * 1024 * 1024
PHOTO_BYTES: Final = 10 * 1024 * 1024

#: How long a callback query waits for the handler's reply to answer it with (an alert
#: only the member sees) before it is answered empty. Telegram stops accepting the answer a
#: few seconds after the press ("query is too old"; the limit is not documented) and the
#: member's client shows a spinner until then; a reply that comes later goes to the
#: member's private chat instead. Two seconds leave a busy bot room to confirm in place
#: while keeping the spinner short for presses that get no reply.
CALLBACK_REPLY_WAIT_SECONDS: Final = 2.0

#: Limit names (``Limit.scope``) of the rate profile, as :meth:`rate_keys` returns them.
GLOBAL: Final = "global"
CHAT: Final = "chat"
GROUP: Final = "group"
CALLBACK: Final = "callback"
#: The key of the one global bucket: ``(GLOBAL, GLOBAL_KEY)`` is the core's
#: :data:`bot.core.ratelimit.GLOBAL`, which a global "retry after" blocks and by which the
#: outbox lets the busiest chats go first when the global limit holds everyone.
GLOBAL_KEY: Final = "*"

#: Messages per second for the whole bot.
GLOBAL_PER_SECOND: Final = 30
#: Messages per minute to one group (messages *to* that group; not DMs nor callbacks).
GROUP_PER_MINUTE: Final = 20
#: Messages per second to one chat (a private chat or a group).
CHAT_PER_SECOND: Final = 1
#: Callback answers per second. Telegram documents no limit for them and they count
#: against no chat; this only keeps a burst of presses from flooding the API.
CALLBACK_PER_SECOND: Final = 30

RATE_PROFILE: Final = RateProfile(
    "telegram",
    (
        Limit(GLOBAL, GLOBAL_PER_SECOND, 1.0, paced=True),
        Limit(GROUP, GROUP_PER_MINUTE, 60.0),
        Limit(CHAT, CHAT_PER_SECOND, 1.0),
        Limit(CALLBACK, CALLBACK_PER_SECOND, 1.0),
    ),
    concurrency=8,
)


#: What plugins may know about Telegram (``ctx.limits``): a native poll the bot closes must
#: use ``open_period``, so it lasts at most ten minutes, and anonymous votes are not reported.
LIMITS: Final = Limits(
    text_length=MESSAGE_TEXT_CHARS,
    native_poll=NativePollLimits(
        max_options=POLL_OPTIONS_MAX,
        max_option_length=POLL_OPTION_CHARS,
        max_question_length=POLL_QUESTION_CHARS,
        max_duration=timedelta(seconds=POLL_OPEN_PERIOD_MAX),
        anonymous_votes_visible=False,
    ),
)
