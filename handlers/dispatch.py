"""One entry point for every message: deduplicate, find who it is, route, save, reply.

`Conversation.handle` runs one database transaction per incoming message: the
update is marked processed, the step's data and the person's state are saved,
all or nothing. Channels call it from a worker thread (it is synchronous).
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from collections.abc import Callable
from typing import cast

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Session

from handlers.chat import Incoming, InKind, Option, Outcome, Reply
from handlers.flow import AnyFlow, Context, FlowState, Turn
from handlers.flows.deadlines import FLOW as DEADLINES
from handlers.flows.reporting import FLOW as REPORT
from handlers.flows.review import FLOW as REVIEW
from handlers.flows.votes import FLOW as VOTES
from handlers.i18n import LANGUAGES, language_of, t
from handlers.log_context import log_chat, log_officer
from handlers.renderers import reporting as render_report
from handlers.services.reporting import progress
from storage.chat import (
    OfficerView,
    claim_update,
    get_state,
    officer_for_user,
    recall_message,
    remember_message,
    save_state,
    set_officer_language,
)
from storage.db import async_session_scope, session_scope
from storage.invites import RedeemOutcome, redeem_invite
from storage.models import ChatState

Clock = Callable[[], dt.datetime]
log = logging.getLogger(__name__)

# Flows in the order their commands appear in the menu; each registers itself here.
FLOWS: list[AnyFlow] = [REPORT, REVIEW, DEADLINES, VOTES]
FLOWS_BY_NAME = {flow.name: flow for flow in FLOWS}
FLOWS_BY_PREFIX = {flow.prefix: flow for flow in FLOWS}
CORE_MENU = {"status": "cmd_status", "cancel": "cmd_cancel", "lang": "cmd_lang", "help": "cmd_help"}


def menu_commands() -> dict[str, str]:
    """The command menu (setMyCommands): command -> catalog key of its description."""
    menu: dict[str, str] = {}
    for flow in FLOWS:
        menu.update(flow.menu)
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

    async def handle_async(self, async_engine: AsyncEngine, incoming: Incoming) -> Outcome:
        """`handle` on the event loop (PostgreSQL): the same unit of work, its database waits awaited."""
        async with async_session_scope(async_engine) as session:
            # The session given is sqlmodel's (AsyncSession.sync_session_class).
            return await session.run_sync(lambda sync: self._handle(cast(Session, sync), incoming))

    def _handle(self, session: Session, incoming: Incoming) -> Outcome:
        if not claim_update(session=session, update_key=incoming.update_key):
            return Outcome(duplicate=True)
        state = get_state(session=session, channel=incoming.channel, user_id=incoming.user_id,
                          language=language_of(incoming.language_code))
        officer = officer_for_user(session=session, channel=incoming.channel, user_id=incoming.user_id)
        log_chat.set(str(incoming.chat_id))
        log_officer.set(officer.code if officer is not None else None)
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
        if command is not None:
            return self._command(session, state, officer, incoming, language, now, command)
        if incoming.kind is InKind.option:
            return self._option(session, state, officer, incoming, language, now)
        flow = FLOWS_BY_NAME.get(state.flow or "")
        if flow is not None:
            stored = self._stored_state(state, flow)
            if stored is not None:
                ctx = self._context(session, officer, incoming, language, now)
                step = flow.steps.get(stored.step)
                handler = step.on_message if step is not None else None
                turn = handler(ctx, stored) if handler is not None else flow.on_stale(ctx, stored)
                return self._finish(state, flow, ctx, turn)
        return Outcome([Reply(t(language, "idle_hint", name=officer.name))])

    # -- typed flows -------------------------------------------------------

    @staticmethod
    def _context(session: Session, officer: OfficerView, incoming: Incoming, language: str,
                 now: dt.datetime) -> Context:
        return Context(session=session, incoming=incoming, officer=officer, now=now, language=language,
                           nonce=secrets.token_hex(3))

    @staticmethod
    def _stored_state(state: ChatState, flow: AnyFlow) -> FlowState | None:
        """The flow's typed state, or None when there is none (or it no longer reads: the flow is left)."""
        if state.flow != flow.name or not state.flow_state:
            return None
        try:
            loaded: FlowState = flow.load(state.flow_state)
        except ValidationError:
            log.warning("chat state of flow %s no longer reads; the person leaves the flow", flow.name)
            state.flow = state.flow_state = None
            return None
        return loaded

    @staticmethod
    def _finish(state: ChatState, flow: AnyFlow, ctx: Context, turn: Turn) -> Outcome:
        """Store the state a step returned; keep the turn's nonce once a button of it goes out."""
        if isinstance(turn.state, FlowState):
            state.flow, state.flow_state = flow.name, turn.state.model_dump_json()
        elif turn.state is None:
            state.flow = state.flow_state = None
            state.nonce = ""
        marker = f":{ctx.nonce}:"
        # The person's own chat: the private chat it came from, or named (a group command asking privately).
        own = (None, ctx.incoming.user_id) if ctx.incoming.is_private else (ctx.incoming.user_id,)
        if any(marker in option.data for reply in turn.replies if reply.chat_id in own
               for row in reply.options for option in row):
            state.nonce = ctx.nonce
        return Outcome(list(turn.replies), notice=turn.notice)

    def _option(
        self, session: Session, state: ChatState, officer: OfficerView, incoming: Incoming, language: str,
        now: dt.datetime,
    ) -> Outcome:
        """A pressed button: its flow by prefix; the nonce checked here, once, in constant time."""
        parts = incoming.data.split(":")
        flow = FLOWS_BY_PREFIX.get(parts[0])
        if flow is None:
            return self._stale_elsewhere(language)
        ctx = self._context(session, officer, incoming, language, now)
        stored = self._stored_state(state, flow)
        if len(parts) >= 2 and parts[1] in flow.open_buttons:
            return self._finish(state, flow, ctx, flow.open_buttons[parts[1]](ctx, stored, parts[2:]))
        if stored is None:
            return self._stale_elsewhere(language)
        fresh = len(parts) >= 3 and bool(state.nonce) and hmac.compare_digest(parts[1], state.nonce)
        step = flow.steps.get(stored.step)
        handler = step.buttons.get(parts[2]) if fresh and step is not None else None
        if handler is None:
            return self._finish(state, flow, ctx, flow.on_stale(ctx, stored))
        return self._finish(state, flow, ctx, handler(ctx, stored, ":".join(parts[3:])))

    @staticmethod
    def _stale_elsewhere(language: str) -> Outcome:
        return Outcome([Reply(t(language, "stale_button_idle"))], notice=t(language, "stale_notice"))

    def _group(
        self, session: Session, state: ChatState, officer: OfficerView | None, incoming: Incoming,
        language: str, now: dt.datetime,
    ) -> Outcome:
        """In a group only group commands are answered; private ones point to the private chat."""
        command = incoming.command if incoming.kind is InKind.command else None
        flow = next((flow for flow in FLOWS if command is not None and command in flow.group_commands), None)
        if flow is not None and command is not None:
            if officer is None:
                return Outcome([Reply(t(language, "not_linked"))])
            ctx = self._context(session, officer, incoming, language, now)
            return self._finish(state, flow, ctx, flow.group_commands[command](ctx))
        if incoming.kind is InKind.option:
            return Outcome(notice=t(language, "group_use_private"))
        if command is not None and (command in menu_commands() or command == "start"):
            return Outcome([Reply(t(language, "group_use_private"))])
        return Outcome()

    def _command(
        self, session: Session, state: ChatState, officer: OfficerView, incoming: Incoming, language: str,
        now: dt.datetime, command: str,
    ) -> Outcome:
        if command == "status":
            return Outcome([self._status(session, officer, language, now)])
        if command == "cancel":
            was_busy = state.flow is not None
            state.flow = state.flow_state = None
            state.nonce = ""
            return Outcome([Reply(t(language, "cancelled" if was_busy else "nothing_to_cancel"))])
        for flow in FLOWS:
            if command in flow.commands:
                ctx = self._context(session, officer, incoming, language, now)
                return self._finish(state, flow, ctx, flow.commands[command](ctx, self._stored_state(state, flow)))
        return Outcome([Reply(t(language, "unknown_command", command=command[:40]))])

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
            if linked is None:  # just linked in this transaction
                raise LookupError(f"the officer linked by an invite to {incoming.user_id} is not found")
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
                     options=((render_report.start_option(language),),))

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

    @staticmethod
    def _status(session: Session, officer: OfficerView, language: str, now: dt.datetime) -> Reply:
        """What is done and missing for the officer's unit in the current period."""
        zone, periods = progress(session=session, officer=officer, now=now)
        return render_report.progress_reply(language, officer.unit_name, zone, periods)
