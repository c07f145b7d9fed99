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
from handlers.i18n import LANGUAGES, Safe, format_moment, language_of, t
from handlers.reporting import Context, ReportFlow, unit_items
from storage.blocs import find_bloc
from storage.chat import (
    OfficerView,
    claim_update,
    entries_of,
    find_submission,
    get_state,
    officer_for_user,
    open_periods,
    periods_for_reporting,
    save_state,
    set_officer_language,
)
from storage.db import session_scope
from storage.invites import RedeemOutcome, redeem_invite
from storage.models import ChatState

Clock = Callable[[], dt.datetime]

# The command menu (setMyCommands), in the order shown: command -> catalog key.
COMMANDS = {
    "report": "cmd_report",
    "status": "cmd_status",
    "cancel": "cmd_cancel",
    "lang": "cmd_lang",
    "help": "cmd_help",
}


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
            if not claim_update(session=session, update_key=incoming.update_key):
                return Outcome(duplicate=True)
            state = get_state(session=session, channel=incoming.channel, user_id=incoming.user_id,
                              language=language_of(incoming.language_code))
            officer = officer_for_user(session=session, channel=incoming.channel,
                                       user_id=incoming.user_id)
            language = officer.language if officer is not None else state.language
            outcome = self._route(session, state, officer, incoming, language)
            save_state(session=session, state=state)
            return outcome

    def _route(
        self, session: Session, state: ChatState, officer: OfficerView | None, incoming: Incoming,
        language: str,
    ) -> Outcome:
        now = self.clock()
        if not incoming.is_private:
            # Nothing private is answered in a group; members are pointed to the private chat.
            if incoming.kind is InKind.command and incoming.command in (*COMMANDS, "start"):
                return Outcome([Reply(t(language, "group_use_private"))])
            return Outcome()
        if incoming.kind is InKind.command and incoming.command == "start":
            return self._start(session, state, officer, incoming, language, now)
        if incoming.kind is InKind.option and incoming.data.startswith("lang:"):
            return self._set_language(session, state, officer, incoming.data)
        if incoming.kind is InKind.command and incoming.command == "lang":
            return self._ask_language(language)
        if incoming.kind is InKind.command and incoming.command == "help":
            return Outcome([Reply(t(language, "help" if officer else "help_guest"))])
        if officer is None:
            outcome = Outcome([Reply(t(language, "not_linked"))])
            if incoming.kind is InKind.option:
                outcome.notice = t(language, "not_linked_notice")
            return outcome
        ctx = Context(session=session, state=state, incoming=incoming, officer=officer, now=now,
                      language=language)
        if incoming.kind is InKind.command:
            return self._command(ctx)
        if incoming.kind is InKind.option:
            return self._option(ctx)
        if state.flow == "report":
            return ReportFlow(ctx).on_message()
        return Outcome([Reply(t(language, "idle_hint", name=officer.name))])

    def _command(self, ctx: Context) -> Outcome:
        command = ctx.incoming.command
        if command == "report":
            return ReportFlow(ctx).start()
        if command == "status":
            return Outcome([self._status(ctx)])
        if command == "cancel":
            was_reporting = ctx.state.flow == "report"
            ctx.state.flow = ctx.state.step = ctx.state.item_code = ctx.state.pending = None
            ctx.state.return_to, ctx.state.nonce = None, ""
            return Outcome([Reply(t(ctx.language, "cancelled" if was_reporting else "nothing_to_cancel"))])
        return Outcome([Reply(t(ctx.language, "unknown_command", command=command[:40]))])

    def _option(self, ctx: Context) -> Outcome:
        parts = ctx.incoming.data.split(":", 3)
        if len(parts) >= 3 and parts[0] == "r" and ctx.state.flow == "report":
            _, nonce, action, *rest = parts
            flow = ReportFlow(ctx)
            if not ctx.state.nonce or nonce != ctx.state.nonce:
                return flow.stale()
            return flow.on_option(action, rest[0] if rest else "")
        if len(parts) >= 2 and parts[0] == "r" and parts[1] == "start":
            return ReportFlow(ctx).start()
        outcome = Outcome([Reply(t(ctx.language, "stale_button_idle"))])
        outcome.notice = t(ctx.language, "stale_notice")
        return outcome

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
        bloc = find_bloc(session=session, bloc_code=officer.bloc_code)
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
