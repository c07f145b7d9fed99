"""Logging, configured once: timestamps, LOG_LEVEL, the chat and officer at hand, and never a secret.

- Every line reads `2019-01-24T03:00:00.123Z INFO telegram.ext [chat=900 officer=tttt-head] ...`;
  the chat and the officer come from context variables that the dispatcher sets
  for the update being handled (:func:`set_log_context`), `-` where unknown.
- Secrets are redacted from every line and every traceback by a filter on the one
  handler, so records of every logger pass through it: the secrets given
  (the Telegram and Zalo tokens, the webhook secret), anything shaped like a
  Telegram bot token (`123456:AA…`), the token in Bot API URLs (`/bot<TOKEN>/`,
  which httpx and aiohttp print in their request lines and errors), and invite
  codes after `/start` or `?start=`.
- An uncaught exception is logged through the same handler (`sys.excepthook`), so
  its traceback is redacted too.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterable
from types import TracebackType

from handlers.log_context import log_chat as chat_var
from handlers.log_context import log_officer as officer_var

REDACTED = "[REDACTED]"
FORMAT = "%(asctime)s %(levelname)s %(name)s [chat=%(chat)s officer=%(officer)s] %(message)s"
_TOKEN_SHAPE = re.compile(r"\b\d{5,16}:[A-Za-z0-9_-]{30,}")
_URL_TOKEN = re.compile(r"(/bot|/file/bot)[^/\s'\"]+")
_INVITE = re.compile(r"((?:/start|\?start=|&start=)\s*)[A-Za-z0-9_-]{6,}")
_HANDLER_NAME = "khoithidua"


def set_log_context(*, chat: object | None = None, officer: str | None = None) -> None:
    """Name the chat and the officer of the update being handled in every line logged meanwhile."""
    chat_var.set(None if chat is None else str(chat))
    officer_var.set(officer)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """The text with the given secrets, token-shaped strings, Bot API URL tokens and invite codes hidden."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _TOKEN_SHAPE.sub(REDACTED, text)
    text = _URL_TOKEN.sub(lambda match: match.group(1) + REDACTED, text)
    return _INVITE.sub(lambda match: match.group(1) + REDACTED, text)


class ContextFilter(logging.Filter):
    """Adds the chat and officer of the update at hand (`-` when unknown) to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate; never drops a record."""
        record.chat = chat_var.get() or "-"
        record.officer = officer_var.get() or "-"
        return True


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record's message and traceback before any formatter sees them."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secret for secret in secrets if secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the message (its arguments merged in) and the traceback; never drops a record."""
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(text, self.secrets)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


class UTCFormatter(logging.Formatter):
    """ISO 8601 timestamps in UTC with milliseconds, and a traceback text already redacted."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        """`2019-01-24T03:00:00.123Z`."""
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (a test's capture, a redirected stream)."""

    def emit(self, record: logging.LogRecord) -> None:
        """Emit to the current stderr."""
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str = "INFO", *, secrets: Iterable[str] = ()) -> None:
    """Configure the root logger once (called again: the level and the secrets are updated)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = _StderrHandler()
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(UTCFormatter(FORMAT))
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
    for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
        handler.removeFilter(old)
    handler.addFilter(RedactingFilter(secrets))
    named = logging.getLevelNamesMapping().get(level.upper())
    if named is None:
        raise ValueError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    root.setLevel(named)
    # One line per Bot API request at INFO is noise, and its URL holds the token (redacted anyway).
    logging.getLogger("httpx").setLevel(max(root.level, logging.WARNING))
    # Each migration step at every command's start, likewise (DEBUG shows them).
    logging.getLogger("alembic").setLevel(root.level if root.level <= logging.DEBUG else logging.WARNING)
    logging.captureWarnings(True)

    def log_uncaught(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, trace)
            return
        logging.getLogger("bot").critical("uncaught exception", exc_info=(kind, error, trace))

    sys.excepthook = log_uncaught
