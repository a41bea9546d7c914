"""Keep the Telegram bot token out of every log record and start-up error.

The token is part of every Bot API URL (``/bot<token>/method``), so it shows up in httpx's
request lines, in PTB's ``InvalidToken("The token `...` was rejected by the server.")`` and
in the repr of exceptions that quote either. Filters on named loggers miss records of
child loggers and of loggers created later, so the redaction runs where every record is
made: a :class:`RedactToken` filter applied by the log record factory, which rewrites the
message, the formatted exception and the stack of each record before any handler sees it.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any, Final

#: What a secret is replaced with.
REDACTED: Final = "<token>"
#: Loggers that log request URLs at INFO (each one carries the token): kept at WARNING.
URL_LOGGERS: Final = ("httpx", "httpcore")


class RedactToken(logging.Filter):
    """Replaces the secrets it knows with ``<token>`` in a record; never drops a record."""

    def __init__(self) -> None:
        """Start with no secret."""
        super().__init__()
        self.secrets: set[str] = set()

    def redact(self, text: str) -> str:
        """``text`` with every known secret replaced."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message, exception text and stack of ``record`` when they hold one."""
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it later; nothing to hide
            message = str(record.msg)
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # Formatters use ``exc_text`` when set, so the traceback is formatted once, here.
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            redacted = self.redact(text)
            if redacted != text:
                record.exc_text = redacted
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_FILTER: Final = RedactToken()
_LOCK: Final = threading.Lock()
_installed = False


def redact(text: str) -> str:
    """``text`` without any token registered with :func:`hide_token`."""
    return _FILTER.redact(text)


def hide_token(token: str) -> None:
    """Redact ``token`` from every log record made from now on, in every logger."""
    global _installed
    if token:
        _FILTER.secrets.add(token)
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:  # NOTSET too: it would inherit INFO or DEBUG
            logger.setLevel(logging.WARNING)
    with _LOCK:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _FILTER.filter(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
