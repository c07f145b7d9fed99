"""One entry point for every message: keep it, find who it is, route, save, owe the replies.

One database transaction per incoming message: the update is marked
processed, the step's data, the person's state and the replies owed are
saved, all or nothing (`Conversation.turn_in`).
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from handlers.chat import (
    Incoming,
    InKind,
    Option,
    Outcome,
    Reply,
    address,
    chat_key,
    dump_incoming,
    load_incoming,
    parse_address,
)
from handlers.flow import AnyFlow, Context, FlowState, Turn, WebOffer
from handlers.flows.deadlines import FLOW as DEADLINES
from handlers.flows.reporting import FLOW as REPORT
from handlers.flows.review import FLOW as REVIEW
from handlers.flows.votes import FLOW as VOTES
from handlers.i18n import LANGUAGES, catalog, format_moment, language_of, t
from handlers.log_context import log_chat, log_officer
from handlers.rehearsal import mark_outcome
from handlers.renderers import reporting as render_report
from handlers.services.reporting import progress
from handlers.wire import dump_reply, load_reply
from storage.blocs import stored_bloc
from storage.chat import (
    OfficerView,
    get_state,
    officer_for_user,
    save_state,
    set_officer_language,
)
from storage.db import session_scope
from storage.groups import (
    BLOC_PREFIX,
    GroupPlan,
    group_plan,
    is_bloc_group,
    leader_officers,
    mark_group_refused,
    tell_once,
)
from storage.invites import (
    RedeemOutcome,
    clear_failed_starts,
    count_failed_start,
    redeem_invite,
    revoke_shown_codes,
    start_paused_until,
)
from storage.messages import add_outgoing, claim_incoming, claim_next_incoming, next_incoming, store_incoming
from storage.models import ChatState
from storage.roles import (
    leader_unit_of,
    linked_officer_chats,
    officer_addresses,
    officer_channels,
    remember_group_bot,
    serving_bot,
    set_preferred_channel,
    stale_menus,
)

Clock = Callable[[], dt.datetime]
# What a code tried by someone not yet linked to a bloc is shown in (the bloc's zone is not known yet).
ZONE = "Asia/Ho_Chi_Minh"
# The outcomes of `/start CODE` that count as a wrong code (towards pausing the account's attempts).
WRONG_CODES = frozenset({RedeemOutcome.unknown, RedeemOutcome.expired, RedeemOutcome.used,
                         RedeemOutcome.replaced, RedeemOutcome.revoked})
log = logging.getLogger(__name__)

# Flows in the order their commands appear in the menu; each registers itself here.
FLOWS: list[AnyFlow] = [REPORT, REVIEW, DEADLINES, VOTES]
FLOWS_BY_NAME = {flow.name: flow for flow in FLOWS}
FLOWS_BY_PREFIX = {flow.prefix: flow for flow in FLOWS}
CORE_MENU = {"status": "cmd_status", "cancel": "cmd_cancel", "lang": "cmd_lang", "channel": "cmd_channel",
             "help": "cmd_help"}
# The option of `/channel` that goes back to the channel used last (the others name a channel).
CHANNEL_LAST = "last"
# Commands only the leader and deputy units may use: a member's menu leaves them out.
LEADING_COMMANDS = frozenset({"review", "ranking", "publish", "deadline"})
# The menu of group chats (the bloc's group): what is answered there.
GROUP_MENU = {"bind": "cmd_bind"}


def menu_commands(kind: str = "leading") -> dict[str, str]:
    """A command menu (setMyCommands): command -> catalog key of its description.

    `leading`: every command (the leader and deputy units); `member`: without the
    leading units' commands (also the default menu of private chats); `group`: the
    group chats' menu.
    """
    if kind == "group":
        return dict(GROUP_MENU)
    menu: dict[str, str] = {}
    for flow in FLOWS:
        menu.update(flow.menu)
    menu.update(CORE_MENU)
    if kind == "member":
        menu = {command: key for command, key in menu.items() if command not in LEADING_COMMANDS}
    return menu


def owe(
    session: Session, *, replies: Sequence[Reply], now: dt.datetime, channel: str | None = None,
    bot: str | None = None, default_chat: str | None = None, answer: str | None = None,
    notice: str | None = None, pressed_message: int | None = None, bots: Mapping[str, str] | None = None,
) -> list[str]:
    """Write replies to the outbox in the caller's transaction; the chats owed, in order.

    `default_chat` is the platform id of the chat a reply without its own goes
    to (the chat a message came from) on `channel`, sent by `bot`. A reply with
    its own address goes through the bot that reaches it (a deployment may run
    several bots per channel, storage.roles.serving_bot): the bot its officer's
    account or its bloc's group talks through, else the bot its bloc's file
    names for that channel, else `bot` on the same channel, else `bots[<its
    channel>]` (the process's first bot of each channel). `answer` is the id of
    a pressed button, answered (with `notice`) before the first message to the
    pressing chat, in that message's row (a row of its own only when the turn
    sends that chat no message), and that chat is flushed first. `now` is the real time
    (the outbox's times are the sender's, not the bloc's calendar, which tests
    and the demo move).
    """
    chats: list[str] = []

    def add(on: str, by: str, chat_id: str, payload: dict[str, object]) -> None:
        key = chat_key(on, by, chat_id)
        add_outgoing(session=session, channel=on, bot=by, chat_id=chat_id, chat_key=key, payload=payload,
                     now=now)
        if key not in chats:
            chats.append(key)

    def through(on: str, chat_id: str) -> str | None:
        if on == channel and chat_id == default_chat:
            return bot
        return serving_bot(session=session, channel=on, chat_id=chat_id) or (
            bot if on == channel else (bots or {}).get(on))

    pressing = chat_key(channel, bot, default_chat) \
        if answer is not None and default_chat is not None and channel is not None and bot is not None else None
    unanswered = [pressing is not None]

    def one(reply: Reply) -> None:
        if reply.chat_id is None:
            if default_chat is None or channel is None:
                log.error("a reply without a chat was dropped: %.60s", reply.text)
                return
            on, chat_id = channel, default_chat
        else:
            on, chat_id = parse_address(reply.chat_id)
        by = through(on, chat_id)
        if by is None:
            log.error("no bot serves channel %s here; a reply to %s was dropped: %.60s", on, chat_id, reply.text)
            return
        if reply.menu is not None:
            # Not a message: kept apart, as a button's answer is (bot.port.decode).
            add(on, by, chat_id, {"menu": reply.menu})
            return
        here = on == channel and chat_id == default_chat
        edit = pressed_message if reply.edit and here else None
        payload: dict[str, object] = {"reply": dump_reply(reply), "edit_message_id": edit}
        if here and unanswered[0]:
            payload.update(answer=answer, notice=notice)
            unanswered[0] = False
        add(on, by, chat_id, payload)

    for reply in replies:
        plan = group_plan(session=session, address=reply.chat_id, now=now) \
            if reply.group_post and reply.chat_id is not None else None
        if plan is None:
            if reply.chat_id is not None and reply.chat_id.startswith(BLOC_PREFIX):
                log.error("a group post of a bloc without a group was dropped: %.60s", reply.text)
                continue
            one(reply)
            continue
        for copy in group_copies(session, plan, reply, now):
            one(copy)
    if pressing is not None:
        if unanswered[0]:  # no message to the pressing chat: the answer alone (after its menu, if any)
            add(channel or "", bot or "", default_chat or "", {"answer": answer, "notice": notice})
        # The spinning button first, as when its answer was a row of its own written first.
        chats.sort(key=lambda key: key != pressing)
    return chats


def group_copies(session: Session, plan: GroupPlan, reply: Reply, now: dt.datetime) -> list[Reply]:
    """A group post as the messages it becomes: to the group if it can be used, in private to each officer
    it does not reach (on another channel, or every officer when it cannot be used), and the leader
    unit's one notice why (storage/groups.py).

    An edit of a kept group message (a ballot's turnout after each vote) is not copied in private:
    Zalo cannot edit, and a new message to every officer at every vote would spend the month's
    quota; the officers get the turnout when the ballot opens and the result when it closes (on
    Telegram too: one rule for every private copy).
    """
    copies = [replace(reply, chat_id=plan.group, group_post=False)] if plan.group is not None else []
    if not plan.private or (reply.edit_key is not None and reply.remember_as is None):
        return copies
    copies += [replace(reply, chat_id=found, group_post=False, remember_as=None, edit_key=None, edit=False)
               for found in plan.private]
    if plan.reason is not None and tell_once(session=session, bloc_id=plan.bloc_id, reason=plan.reason, now=now):
        copies += [Reply(t(language, f"group_private_{plan.reason}", bloc=plan.bloc_name), chat_id=found)
                   for found, language in leader_officers(session=session, bloc_id=plan.bloc_id, now=now)]
    return copies


def reroute_refused(session: Session, *, channel: str, bot: str, chat_id: str, payload: Mapping[str, object],
                    now: dt.datetime, bots: Mapping[str, str] | None = None) -> list[str]:
    """A post the platform refused for good in a bloc's group: the group marked as refused, and the post
    owed instead to each unit's officers in private (in the sender's transaction that records the refusal,
    so it is owed once); the chats owed."""
    if not is_bloc_group(session=session, channel=channel, chat_id=chat_id) or "reply" not in payload:
        return []
    mark_group_refused(session=session, channel=channel, chat_id=chat_id, now=now)
    reply = replace(load_reply(payload["reply"]), chat_id=address(channel, chat_id), group_post=True)  # type: ignore[arg-type]
    return owe(session, replies=[reply], now=now, channel=channel, bot=bot, bots=bots)


def _channel_name(ctx: Context, channel: str) -> str:
    """A channel as officers call it (`Zalo`); its code when the catalog does not name it."""
    key = f"channel_name_{channel}"
    return ctx.text(key) if key in catalog(ctx.language) else channel


def system_clock() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class Conversation:
    """The channel-neutral bot: one call per incoming message.

    The durable path, which every channel of `python -m bot run` takes: `keep`
    stores an update in the inbox (before the platform is told it arrived), then
    `turn_in` handles the oldest update a chat has waiting, in one transaction
    that claims it and writes the replies it decided to the outbox; a sender
    delivers them (bot/outbox.py). `handle` does all of it in one call and
    returns the replies instead (the terminal, tests).
    """

    def __init__(self, engine: Engine, *, clock: Clock = system_clock,
                 bots: Mapping[str, str] | None = None, web: WebOffer | None = None,
                 console_ballots: bool = False) -> None:
        self.engine = engine
        self.clock = clock
        # The web pages, when the HTTP server serves them: the chat offers the report form.
        self.web = web
        # Whether the terminal (channel "console") may cast a unit's ballot: only when the
        # operator asked for it (`shell --allow-ballots`, audited by the command line).
        self.console_ballots = console_ballots
        # Per channel, the bot that sends what is addressed to that channel's people
        # from another channel's turn (a ballot to a voter on Zalo, started on Telegram).
        self.bots: dict[str, str] = dict(bots or {})

    # -- the durable path -------------------------------------------------

    def refresh_menus(self, session: Session, *, channel: str, bot: str) -> list[str]:
        """Owe a new command menu to each account on `channel` whose unit's role or language changed it;
        the chats owed (at start, and at each pass of the scheduler: two queries when nothing changed)."""
        replies = [Reply("", chat_id=address(channel, external_id), menu=menu)
                   for external_id, menu in stale_menus(session=session, channel=channel, year=self.clock().year)]
        return owe(session, channel=channel, bot=bot, replies=replies, now=system_clock())

    def keep_in(self, session: Session, incomings: Sequence[Incoming]) -> list[bool]:
        """Store updates in the inbox in the caller's transaction; True for each one new."""
        return [self._keep(session, incoming) for incoming in incomings]

    def _keep(self, session: Session, incoming: Incoming) -> bool:
        return store_incoming(session=session, channel=incoming.channel, bot=incoming.bot,
                              update_id=incoming.update_id, chat_key=incoming.chat_key,
                              payload=dump_incoming(incoming), now=system_clock()) is not None

    def turn_in(self, session: Session, chat: str) -> tuple[bool, Outcome | None]:
        """Handle the oldest update `chat` has waiting, in the caller's transaction: (done, outcome).

        The outcome is None when the chat has nothing waiting. The replies go to
        the outbox in the same transaction (their chats are in `Outcome.chats`);
        `Outcome.waiting` says whether the chat had another update waiting.
        A turn that fails saves nothing of the update: the update is marked
        failed and the person is told so, with the step they are really at. Not
        done when another process claimed the update first: the caller commits
        (nothing was written) and calls again for the next one.
        """
        claimed = self._claim(session, chat)
        if claimed is None:
            return True, None
        inbox_id, incoming, waiting = claimed
        if inbox_id < 0:
            return False, None
        try:
            outcome = self._turn(session, incoming)
        except Exception:
            log.exception("turn failed for update %s of chat %s", incoming.update_id, chat)
            # Nothing of the failed step is kept, nor the claim: the update is claimed again, as
            # failed. (A savepoint around every turn would spare that, at two statements a turn.)
            session.rollback()
            if not claim_incoming(session=session, inbox_id=inbox_id, now=system_clock(), outcome="failed"):
                return False, None  # another process took it meanwhile
            outcome = self._failed(session, incoming)
        outcome.waiting = waiting
        return True, outcome

    def _claim(self, session: Session, chat: str) -> tuple[int, Incoming, bool] | None:
        """The chat's oldest waiting update, claimed in this transaction (id -1: taken by another).

        The flag says whether another update of the chat was waiting behind it.
        """
        claimed = claim_next_incoming(session=session, chat_key=chat, now=system_clock())
        if claimed is not None:
            inbox_id, payload, waiting = claimed
            return inbox_id, load_incoming(payload), waiting
        found = next_incoming(session=session, chat_key=chat)  # none waits, or another process claimed it
        if found is None:
            return None
        _, payload, waiting = found
        return -1, load_incoming(payload), waiting

    def _turn(self, session: Session, incoming: Incoming) -> Outcome:
        outcome = self._process(session, incoming)
        outcome.chats = self._owe(session, incoming, outcome)
        return outcome

    def _owe(self, session: Session, incoming: Incoming, outcome: Outcome) -> list[str]:
        """Write an outcome's replies (and the answer to a pressed button) to the outbox."""
        answer = incoming.option_id if incoming.kind is InKind.option and incoming.option_id else None
        return owe(session, channel=incoming.channel, bot=incoming.bot, replies=outcome.replies,
                   now=system_clock(), default_chat=incoming.chat_id, answer=answer, notice=outcome.notice,
                   pressed_message=incoming.message_id, bots=self.bots)

    def _failed(self, session: Session, incoming: Incoming) -> Outcome:
        """What a person is told when their message could not be handled: the truth, from what is committed."""
        state = get_state(session=session, channel=incoming.channel, user_id=incoming.user_id,
                          language=language_of(incoming.language_code))
        officer = officer_for_user(session=session, channel=incoming.channel, user_id=incoming.user_id)
        language = officer.language if officer is not None else state.language
        header = t(language, "error_not_saved")
        outcome = Outcome([Reply(header)], notice=t(language, "error_not_saved_notice"))
        flow = FLOWS_BY_NAME.get(state.flow or "")
        if flow is not None and flow.again is not None and officer is not None and incoming.is_private:
            stored = self._stored_state(state, flow)
            if stored is not None:
                try:
                    with session.begin_nested():
                        ctx = self._context(session, officer, incoming, language, self.clock())
                        turn = flow.again(ctx, stored, header)
                        # Stored like any step's turn, so that the buttons shown again are live.
                        outcome = Outcome(self._finish(state, flow, ctx, turn).replies, notice=outcome.notice)
                except Exception:
                    log.exception("the current step could not be shown again after a failed turn")
        outcome.chats = self._owe(session, incoming, outcome)
        return outcome

    # -- one call: kept, handled, answered ------------------------------------

    def handle(self, incoming: Incoming) -> Outcome:
        """Process one message in one transaction and return what to send."""
        with session_scope(self.engine) as session:
            return self._handle(session, incoming)

    def _handle(self, session: Session, incoming: Incoming) -> Outcome:
        if not self._keep(session, incoming):
            return Outcome(duplicate=True)
        return self._process(session, incoming)

    def _process(self, session: Session, incoming: Incoming) -> Outcome:
        state = get_state(session=session, channel=incoming.channel, user_id=incoming.user_id,
                          language=language_of(incoming.language_code))
        officer = officer_for_user(session=session, channel=incoming.channel, user_id=incoming.user_id,
                                   bot=incoming.bot if incoming.is_private else None)
        if officer is not None and officer.via_console and self.console_ballots:
            officer = replace(officer, may_cast_ballots=True)
        log_chat.set(str(incoming.chat_id))
        log_officer.set(officer.code if officer is not None else None)
        language = officer.language if officer is not None else state.language
        outcome = self._route(session, state, officer, incoming, language)
        save_state(session=session, state=state)
        if officer is None and incoming.kind is InKind.command and incoming.command == "start":
            officer = officer_for_user(session=session, channel=incoming.channel, user_id=incoming.user_id)
        if officer is not None:
            try:
                config = stored_bloc(session=session, bloc_id=officer.bloc_id).config
            except LookupError:
                return outcome
            outcome = mark_outcome(config, outcome)
        return outcome

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
        if incoming.kind is InKind.edited:
            return Outcome([Reply(t(language, "edited_not_read" if officer else "not_linked"))])
        if incoming.kind is InKind.option and incoming.data.startswith("lang:"):
            return self._set_language(session, state, officer, incoming)
        if command == "lang":
            return self._ask_language(language)
        if command == "help":
            return Outcome([Reply(t(language, "help" if officer else "help_guest"))])
        if officer is None:
            outcome = Outcome([Reply(t(language, "not_linked"))])
            if incoming.kind is InKind.option:
                outcome.notice = t(language, "not_linked_notice")
            return outcome
        if command == "channel":
            return self._ask_channel(self._context(session, officer, incoming, language, now))
        if incoming.kind is InKind.option and incoming.data.startswith("chan:"):
            return self._set_channel(self._context(session, officer, incoming, language, now))
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

    def _context(self, session: Session, officer: OfficerView, incoming: Incoming, language: str,
                 now: dt.datetime) -> Context:
        return Context(session=session, incoming=incoming, officer=officer, now=now, language=language,
                       nonce=secrets.token_hex(3), web=self.web)

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
        own = (None, ctx.incoming.user_address) if ctx.incoming.is_private else (ctx.incoming.user_address,)
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
        shown = " ".join((incoming.text, *incoming.args))
        if incoming.kind in (InKind.text, InKind.command, InKind.edited) and shown.strip():
            revoked = self._revoke_shown_codes(session, incoming, shown, language, now)
            if revoked is not None:
                return revoked
        flow = next((flow for flow in FLOWS if command is not None and command in flow.group_commands), None)
        if flow is not None and command is not None:
            if officer is None:
                return Outcome([Reply(t(language, "not_linked"))])
            ctx = self._context(session, officer, incoming, language, now)
            outcome = self._finish(state, flow, ctx, flow.group_commands[command](ctx))
            session.flush()  # a group bound by this command, too
            remember_group_bot(session=session, channel=incoming.channel, chat_id=incoming.chat_id,
                               bot=incoming.bot)
            return outcome
        if incoming.kind is InKind.option:
            return Outcome(notice=t(language, "group_use_private"))
        if command is not None and (command in menu_commands() or command == "start"):
            return Outcome([Reply(t(language, "group_use_private"))])
        return Outcome()

    @staticmethod
    def _menu(session: Session, incoming: Incoming, now: dt.datetime) -> list[Reply]:
        """The account's command menu, when its role or language changed it (just linked, a new language)."""
        return [Reply("", menu=menu) for _account, menu in stale_menus(
            session=session, channel=incoming.channel, year=now.year, external_id=incoming.user_id)]

    @staticmethod
    def _revoke_shown_codes(session: Session, incoming: Incoming, text: str, language: str,
                            now: dt.datetime) -> Outcome | None:
        """An invite code shown in a group is no longer secret: revoked; its officer and the leader unit told."""
        where = f"{incoming.channel}:{incoming.chat_id}"
        revoked = revoke_shown_codes(session=session, text=text, where=where, now=now)
        if not revoked:
            return None
        log.warning("%d invite code(s) shown in group %s revoked", len(revoked), where)
        replies = [Reply(t(language, "invite_shown_in_group"))]
        for one in revoked:
            told: set[str] = set()
            own = officer_addresses(session=session, officer_ids=[one.officer_id]).get(one.officer_id)
            if own is not None:
                told.add(own)
                replies.append(Reply(t(language, "invite_revoked_officer", name=one.officer_name,
                                       unit=one.unit_name), chat_id=own))
            leader = leader_unit_of(session=session, bloc_id=one.bloc_id, year=now.year)
            for chat, chat_language in linked_officer_chats(session=session, unit_id=leader) if leader else []:
                if chat not in told:
                    told.add(chat)
                    replies.append(Reply(t(chat_language, "invite_revoked_leader", name=one.officer_name,
                                           unit=one.unit_name, code=one.officer_code), chat_id=chat))
        return Outcome(replies)

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
        paused = start_paused_until(session=session, channel=incoming.channel, external_id=incoming.user_id,
                                    now=now)
        if paused is not None:
            # Not even looked up: a paused account learns nothing about the codes it tries.
            return Outcome([Reply(t(language, "start_paused", until=format_moment(paused, ZONE, language)))])
        redeemed = (redeem_invite(session=session, code=code, channel=incoming.channel,
                                  external_id=incoming.user_id, now=now, bot=incoming.bot)
                    if len(code) <= 64 else None)
        if redeemed is None or redeemed.outcome in WRONG_CODES:
            failures, pause = count_failed_start(session=session, channel=incoming.channel,
                                                 external_id=incoming.user_id, now=now)
            outcome = redeemed.outcome.value if redeemed is not None else "too_long"
            log.warning("wrong invite code (%s) from %s:%s, %d in a row", outcome, incoming.channel,
                        incoming.user_id, failures)
            if pause is not None:
                log.warning("invite codes from %s:%s paused until %s after %d wrong codes", incoming.channel,
                            incoming.user_id, pause.isoformat(), failures)
                return Outcome([Reply(t(language, "start_paused", until=format_moment(pause, ZONE, language)))])
            if redeemed is None:
                return Outcome([Reply(t(language, "start_unknown"))])
        if redeemed.outcome is RedeemOutcome.linked:
            clear_failed_starts(session=session, channel=incoming.channel, external_id=incoming.user_id)
            linked = officer_for_user(session=session, channel=incoming.channel,
                                      user_id=incoming.user_id)
            if linked is None:  # just linked in this transaction
                raise LookupError(f"the officer linked by an invite to {incoming.user_id} is not found")
            set_officer_language(session=session, officer_id=linked.id, language=state.language)
            state.officer_id = linked.id
            return Outcome([self._welcome(linked, state.language, again=False),
                            *self._menu(session, incoming, now)])
        if redeemed.outcome is RedeemOutcome.account_taken and officer is not None:
            return Outcome([Reply(t(language, "start_account_taken", name=officer.name,
                                    unit=officer.unit_name))])
        key = {
            RedeemOutcome.unknown: "start_unknown",
            RedeemOutcome.expired: "start_expired",
            RedeemOutcome.used: "start_used",
            RedeemOutcome.replaced: "start_replaced",
            RedeemOutcome.revoked: "start_revoked",
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
        self, session: Session, state: ChatState, officer: OfficerView | None, incoming: Incoming
    ) -> Outcome:
        choice = incoming.data.removeprefix("lang:")
        if choice not in LANGUAGES:
            return Outcome([Reply(t(state.language, "stale_button_idle"))])
        state.language = choice
        if officer is not None:
            set_officer_language(session=session, officer_id=officer.id, language=choice)
            return Outcome([Reply(t(choice, "lang_set"), edit=True), *self._menu(session, incoming, self.clock())])
        return Outcome([Reply(t(choice, "lang_set"), edit=True)])

    @staticmethod
    def _ask_channel(ctx: Context) -> Outcome:
        """`/channel`: where the bot writes first, for an officer linked on two channels or more."""
        channels, chosen = officer_channels(session=ctx.session, officer_id=ctx.officer.id)
        if len(channels) < 2:
            name = _channel_name(ctx, channels[0] if channels else ctx.incoming.channel)
            return Outcome([Reply(ctx.text("channel_only_one", channel=name))])
        current = _channel_name(ctx, chosen) if chosen in channels else ctx.text("channel_current_last")
        options = ((Option(ctx.text("channel_btn_last"), f"chan:{CHANNEL_LAST}"),),
                   tuple(Option(_channel_name(ctx, channel), f"chan:{channel}") for channel in channels))
        return Outcome([Reply(ctx.text("channel_pick", current=current), options=options)])

    @staticmethod
    def _set_channel(ctx: Context) -> Outcome:
        """The officer's choice of `/channel`: a channel they have an account on, or the one used last."""
        choice = ctx.incoming.data.removeprefix("chan:")
        channels, _ = officer_channels(session=ctx.session, officer_id=ctx.officer.id)
        if choice == CHANNEL_LAST:
            set_preferred_channel(session=ctx.session, officer_id=ctx.officer.id, channel=None)
            return Outcome([Reply(ctx.text("channel_set_last"), edit=True)])
        if choice not in channels:
            return Outcome([Reply(ctx.text("channel_gone", channel=_channel_name(ctx, choice[:16])))])
        set_preferred_channel(session=ctx.session, officer_id=ctx.officer.id, channel=choice)
        return Outcome([Reply(ctx.text("channel_set", channel=_channel_name(ctx, choice)), edit=True)])

    @staticmethod
    def _status(session: Session, officer: OfficerView, language: str, now: dt.datetime) -> Reply:
        """What is done and missing for the officer's unit in the current period."""
        zone, periods = progress(session=session, officer=officer, now=now)
        return render_report.progress_reply(language, officer.unit_name, zone, periods)
