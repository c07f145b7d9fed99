"""Who the update at hand is about, for the log lines (`bot/logs.py` prints them).

Kept here, not in `bot/`, because the dispatcher sets them and `handlers` does
not import `bot`. Context variables: concurrent chats do not mix.
"""

from __future__ import annotations

from contextvars import ContextVar

log_chat: ContextVar[str | None] = ContextVar("log_chat", default=None)
log_officer: ContextVar[str | None] = ContextVar("log_officer", default=None)
