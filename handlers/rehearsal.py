"""Every message of a rehearsed bloc says it is a rehearsal (`init FILE --rehearse`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from handlers.chat import Outcome, Reply
from handlers.i18n import Safe, t
from rules.config import BlocConfig


def mark(config: BlocConfig, replies: Sequence[Reply]) -> list[Reply]:
    """The replies, each under the rehearsal's marker when the bloc is a rehearsal."""
    if config.bloc.rehearsal_days is None:
        return list(replies)
    marker = t(config.bloc.language, "rehearsal_mark")
    return [replace(reply, text=Safe(f"{marker}\n{reply.text}")) for reply in replies]


def mark_outcome(config: BlocConfig, outcome: Outcome) -> Outcome:
    """An outcome whose replies (and toast) say it is a rehearsal when the bloc is one."""
    if config.bloc.rehearsal_days is None:
        return outcome
    outcome.replies = mark(config, outcome.replies)
    if outcome.notice:
        outcome.notice = f"{t(config.bloc.language, 'rehearsal_notice')} {outcome.notice}"
    return outcome
