"""One entry point for every message: deduplicate, find who it is, route, save, reply.

`Conversation.handle` runs one database transaction per incoming message: the
update is marked processed, the step's data and the person's state are saved,
all or nothing. Channels call it from a worker thread (it is synchronous).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session

from handlers.chat import Incoming, InKind, Option, Outcome, Reply
from handlers.context import Context, Feature, stale_elsewhere
from handlers.deadlines import FEATURE as DEADLINES
from handlers.i18n import LANGUAGES, Safe, format_moment, language_of, t
from handlers.reporting import FEATURE as REPORT
from handlers.reporting import unit_items
from handlers.review import FEATURE as REVIEW
from handlers.votes import FEATURE as VOTES
from storage.blocs import bloc_by_id
from storage.chat import (
    OfficerView,
    claim_update,
    entries_of,
    find_submission,
    get_state,
    officer_for_user,
    open_periods,
    periods_for_reporting,
    recall_message,
    remember_message,
    save_state,
    set_officer_language,
)
from storage.db import session_scope
from storage.invites import RedeemOutcome, redeem_invite
from storage.models import ChatState

Clock = Callable[[], dt.datetime]

# Features in the order their commands appear in the menu; each registers itself here.
FEATURES: list[Feature] = [REPORT, REVIEW, DEADLINES, VOTES]
CORE_MENU = {"status": "cmd_status", "cancel": "cmd_cancel", "lang": "cmd_lang", "help": "cmd_help"}


def menu_commands() -> dict[str, str]:
    """The command menu (setMyCommands): command -> catalog key of its description."""
    menu: dict[str, str] = {}
    for feature in FEATURES:
        menu.update(feature.menu)
    menu.update(CORE_MENU)
    return menu


def system_clock() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class Conversation:
    """The channel-neutral bot: one call per incoming message."""

    def __init__(self, engine: Engine, *, clock: Clock = system_clock) -> None:
        self.engine = engine
        self.clock = clock

    def handle(self, incoming: Incoming) -> Outcome:
        """Process one message in one transaction and return what to send."""
        with session_scope(self.engine) as session:
            return self._handle(session, incoming)

    def _handle(self, session: Session, incoming: Incoming) -> Outcome:
        if not claim_update(session=session, update_key=incoming.update_key):
            return Outcome(duplicate=True)
        state = get_state(session=session, channel=incoming.channel, user_id=incoming.user_id,
                          language=language_of(incoming.language_code))
        officer = officer_for_user(session=session, channel=incoming.channel, user_id=incoming.user_id)
        language = officer.language if officer is not None else state.language
        outcome = self._route(session, state, officer, incoming, language)
        save_state(session=session, state=state)
        return outcome

    def remember(self, key: str, chat_id: int, message_id: int) -> None:
        """Keep a sent message's id (called by channels after sending a `remember_as` reply)."""
        with session_scope(self.engine) as session:
            remember_message(session=session, key=key, chat_id=chat_id, message_id=message_id)

    def recall(self, key: str) -> tuple[int, int] | None:
        """The chat and message id kept under a key."""
        with session_scope(self.engine) as session:
            return recall_message(session=session, key=key)

    def _route(
        self, session: Session, state: ChatState, officer: OfficerView | None, incoming: Incoming,
        language: str,
    ) -> Outcome:
        now = self.clock()
        command = incoming.command if incoming.kind is InKind.command else None
        if not incoming.is_private:
            return self._group(session, state, officer, incoming, language, now)
        if command == "start":
            return self._start(session, state, officer, incoming, language, now)
        if incoming.kind is InKind.option and incoming.data.startswith("lang:"):
            return self._set_language(session, state, officer, incoming.data)
        if command == "lang":
            return self._ask_language(language)
        if command == "help":
            return Outcome([Reply(t(language, "help" if officer else "help_guest"))])
        if officer is None:
            outcome = Outcome([Reply(t(language, "not_linked"))])
            if incoming.kind is InKind.option:
                outcome.notice = t(language, "not_linked_notice")
            return outcome
        ctx = Context(session=session, state=state, incoming=incoming, officer=officer, now=now,
                      language=language)
        if command is not None:
            return self._command(ctx, command)
        if incoming.kind is InKind.option:
            parts = incoming.data.split(":")
            for feature in FEATURES:
                if feature.option_prefix == parts[0] and feature.on_option is not None:
                    return feature.on_option(ctx, parts)
            return stale_elsewhere(ctx)
        for feature in FEATURES:
            if feature.name == state.flow and feature.on_message is not None:
                return feature.on_message(ctx)
        return Outcome([Reply(t(language, "idle_hint", name=officer.name))])

    def _group(
        self, session: Session, state: ChatState, officer: OfficerView | None, incoming: Incoming,
        language: str, now: dt.datetime,
    ) -> Outcome:
        """In a group only group commands are answered; private ones point to the private chat."""
        command = incoming.command if incoming.kind is InKind.command else None
        handler = next((feature.group_commands[command] for feature in FEATURES
                        if command is not None and command in feature.group_commands), None)
        if handler is not None:
            if officer is None:
                return Outcome([Reply(t(language, "not_linked"))])
            return handler(Context(session=session, state=state, incoming=incoming, officer=officer,
                                   now=now, language=language))
        if incoming.kind is InKind.option:
            return Outcome(notice=t(language, "group_use_private"))
        if command is not None and (command in menu_commands() or command == "start"):
            return Outcome([Reply(t(language, "group_use_private"))])
        return Outcome()

    def _command(self, ctx: Context, command: str) -> Outcome:
        if command == "status":
            return Outcome([self._status(ctx)])
        if command == "cancel":
            was_busy = ctx.state.flow is not None
            ctx.leave_flow()
            return Outcome([Reply(t(ctx.language, "cancelled" if was_busy else "nothing_to_cancel"))])
        for feature in FEATURES:
            if command in feature.commands:
                return feature.commands[command](ctx)
        return Outcome([Reply(t(ctx.language, "unknown_command", command=command[:40]))])

    def _start(
        self, session: Session, state: ChatState, officer: OfficerView | None, incoming: Incoming,
        language: str, now: dt.datetime,
    ) -> Outcome:
        code = incoming.args[0] if incoming.args else ""
        if not code:
            if officer is not None:
                return Outcome([self._welcome(officer, language, again=True)])
            return Outcome([Reply(t(language, "start_no_code"))])
        if len(code) > 64:
            return Outcome([Reply(t(language, "start_unknown"))])
        redeemed = redeem_invite(session=session, code=code, telegram_user_id=incoming.user_id, now=now)
        if redeemed.outcome is RedeemOutcome.linked:
            linked = officer_for_user(session=session, channel=incoming.channel,
                                      user_id=incoming.user_id)
            if not (linked is not None):
                raise RuntimeError('invariant broken: linked is not None')
            set_officer_language(session=session, officer_id=linked.id, language=state.language)
            state.officer_id = linked.id
            return Outcome([self._welcome(linked, state.language, again=False)])
        if redeemed.outcome is RedeemOutcome.account_taken and officer is not None:
            return Outcome([Reply(t(language, "start_account_taken", name=officer.name,
                                    unit=officer.unit_name))])
        key = {
            RedeemOutcome.unknown: "start_unknown",
            RedeemOutcome.expired: "start_expired",
            RedeemOutcome.used: "start_used",
            RedeemOutcome.already_linked: "start_already_linked",
            RedeemOutcome.account_taken: "start_used",
        }[redeemed.outcome]
        return Outcome([Reply(t(language, key))])

    def _welcome(self, officer: OfficerView, language: str, *, again: bool) -> Reply:
        key = "welcome_back" if again else "welcome"
        return Reply(t(language, key, name=officer.name, unit=officer.unit_name),
                     options=((Option(t(language, "btn_report"), "r:start"),),))

    def _ask_language(self, language: str) -> Outcome:
        options = ((Option("Tiếng Việt", "lang:vi"), Option("English", "lang:en")),)
        return Outcome([Reply(t(language, "lang_pick"), options=options)])

    def _set_language(
        self, session: Session, state: ChatState, officer: OfficerView | None, data: str
    ) -> Outcome:
        choice = data.removeprefix("lang:")
        if choice not in LANGUAGES:
            return Outcome([Reply(t(state.language, "stale_button_idle"))])
        state.language = choice
        if officer is not None:
            set_officer_language(session=session, officer_id=officer.id, language=choice)
        return Outcome([Reply(t(choice, "lang_set"), edit=True)])

    def _status(self, ctx: Context) -> Reply:
        """What is done and missing for the officer's unit in the current period."""
        session, officer, language = ctx.session, ctx.officer, ctx.language
        periods = open_periods(session=session, bloc_id=officer.bloc_id, now=ctx.now) \
            or periods_for_reporting(session=session, bloc_id=officer.bloc_id)[:1]
        if not periods:
            return Reply(t(language, "report_no_period"))
        bloc = bloc_by_id(session=session, bloc_id=officer.bloc_id)
        if not (bloc is not None):
            raise RuntimeError('invariant broken: bloc is not None')
        items = unit_items(bloc.config, officer.unit_code)
        lines = []
        for period in periods:
            if not (period.id is not None):
                raise RuntimeError('invariant broken: period.id is not None')
            submission = find_submission(session=session, period_id=period.id, unit_id=officer.unit_id)
            entries = entries_of(session=session, submission_id=submission.id) \
                if submission is not None and submission.id is not None else {}
            missing = [item.code for item in items
                       if item.code not in entries or entries[item.code].value is None]
            status = submission.status if submission else "not_started"
            lines.append(t(
                language, "status_line", year=period.year, kind=t(language, f"kind_{period.kind}"),
                status=t(language, f"status_{status}"), done=len(items) - len(missing), total=len(items),
                deadline=format_moment(period.reporting_deadline, bloc.config.bloc.timezone, language),
            ))
            if missing:
                lines.append(t(language, "status_missing", codes=", ".join(missing)))
        return Reply(Safe("\n".join([t(language, "status_title", unit=officer.unit_name), *lines])),
                     options=((Option(t(language, "btn_report"), "r:start"),),))
