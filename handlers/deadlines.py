"""Deadlines and reminders: `/deadline` for the leader, and the scheduler's messages.

`/deadline` (officers of the leader or deputy unit of the period's year): choose
a deadline, type the new date the Vietnamese way (`17:00 20/01/2019` or
`20/01/2019`), confirm with a button. The change is audited and every unit's
linked officers are told. Authorization is checked again on every press and
typed answer. Button data is `dl:<nonce>:<action>[:<argument>...]`.

The scheduler's side: :func:`due_messages` loads a bloc (storage), asks the pure
rules what is due now (rules.reminders) and renders each message here, in its
recipient's language: a reminder that says what is missing, with a button that
resumes the report (`r:start`, handled by the reporting feature); the leader's
digest the day before; who missed the deadline; who cannot be reached.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlmodel import Session

from handlers.chat import InKind, Option, Outcome, Reply
from handlers.context import Context, Feature, small_number, stale_elsewhere
from handlers.i18n import Safe, format_moment, t
from handlers.services.reporting import unit_items
from rules.config import BlocConfig
from rules.reminders import (
    DueMessage,
    MomentError,
    PeriodProgress,
    ReminderKind,
    UnitProgress,
    WorkCalendar,
    days_left,
    due_reminders,
    parse_local_moment,
)
from storage.blocs import bloc_by_id
from storage.chat import periods_for_reporting
from storage.models import Period
from storage.reminders import (
    DeadlineField,
    OfficerContact,
    PeriodWorld,
    UnitReport,
    bloc_config,
    deadline_of,
    linked_officers,
    load_bloc_world,
    set_deadline,
)
from storage.roles import BlocRole, unit_role

PREFIX = "dl"
FLOW = "deadline"
LEADING = (BlocRole.leader, BlocRole.deputy)
MISSING_SHOWN = 12  # item codes listed in a reminder before "and N more"


# -- the scheduler's messages ----------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A due message, rendered, with where it goes."""

    bloc_id: int
    message: DueMessage
    chat_id: int
    reply: Reply


def due_messages(*, session: Session, bloc_id: int, now: dt.datetime) -> list[Outgoing]:
    """What the scheduler should send for a bloc at `now`, rendered (nothing outside working hours)."""
    config = bloc_config(session=session, bloc_id=bloc_id)
    if config is None:
        return []
    calendar = WorkCalendar.of(config.reminders, config.bloc.timezone)
    if not config.reminders.enabled or not calendar.is_working(now):
        return []
    world = load_bloc_world(session=session, bloc_id=bloc_id, now=now)
    if world is None:
        return []
    renderer = _Renderer(config, calendar, now)
    outgoing: list[Outgoing] = []
    for period in world.periods:
        progress = PeriodProgress(
            period_id=period.period_id, opens=period.opens, deadline=period.deadline,
            review_deadline=period.review_deadline, leader_unit_id=period.leader_unit_id,
            units=tuple(
                UnitProgress(unit_id=unit.unit_id, submitted=unit.submitted,
                             officer_ids=tuple(officer.officer_id for officer in unit.officers),
                             blocked_officer_ids=period.blocked.get(unit.unit_id, frozenset()))
                for unit in period.units
            ),
        )
        contacts = {officer.officer_id: officer for unit in period.units for officer in unit.officers}
        for due in due_reminders(period=progress, reminders=config.reminders, calendar=calendar, now=now,
                                 sent=period.sent):
            contact = contacts[due.officer_id]
            outgoing.append(Outgoing(bloc_id=bloc_id, message=due, chat_id=contact.chat_id,
                                     reply=renderer.render(period, due, contact.language)))
    return outgoing


class _Renderer:
    """Texts of the scheduler's messages for one bloc at one moment."""

    def __init__(self, config: BlocConfig, calendar: WorkCalendar, now: dt.datetime) -> None:
        self.config = config
        self.calendar = calendar
        self.now = now
        self._items: dict[str, list[str]] = {}

    def items(self, unit_code: str) -> list[str]:
        """The item codes a unit reports, in reporting order."""
        if unit_code not in self._items:
            self._items[unit_code] = [item.code for item in unit_items(self.config, unit_code)]
        return self._items[unit_code]

    def render(self, period: PeriodWorld, due: DueMessage, language: str) -> Reply:
        """One message in the recipient's language."""
        if due.kind is ReminderKind.remind:
            return self.reminder(period, due, language)
        if due.kind is ReminderKind.digest:
            return self.digest(period, language)
        if due.kind is ReminderKind.missed:
            return self.missed(period, language)
        return self.unreachable(period, due, language)

    def _deadline(self, period: PeriodWorld, language: str) -> str:
        return format_moment(period.deadline, self.config.bloc.timezone, language)

    def _when(self, period: PeriodWorld, language: str) -> Safe:
        left = days_left(now=self.now, deadline=period.deadline, calendar=self.calendar)
        deadline = self._deadline(period, language)
        if left <= 0:
            return t(language, "remind_deadline_today", deadline=deadline)
        return t(language, "remind_deadline_days", deadline=deadline, days=left)

    def _title(self, key: str, period: PeriodWorld, language: str) -> Safe:
        return t(language, key, kind=t(language, f"kind_{period.kind}"), year=period.year)

    def reminder(self, period: PeriodWorld, due: DueMessage, language: str) -> Reply:
        """To a unit that has not submitted: when, how far it got, what is missing, how to finish."""
        unit = next(unit for unit in period.units if unit.unit_id == due.unit_id)
        items = self.items(unit.code)
        missing = [code for code in items if code not in unit.done_codes]
        done = len(items) - len(missing)
        lines: list[str] = [self._title("remind_title", period, language), self._when(period, language)]
        if unit.status == "returned":
            lines.append(t(language, "remind_status_returned", unit=unit.name, reason=unit.return_reason or "—",
                           done=done, total=len(items)))
        elif done == 0:
            lines.append(t(language, "remind_status_not_started", unit=unit.name, total=len(items)))
        else:
            lines.append(t(language, "remind_status_in_progress", unit=unit.name, done=done, total=len(items)))
        if missing:
            shown = ", ".join(missing[:MISSING_SHOWN])
            if len(missing) > MISSING_SHOWN:
                shown += t(language, "remind_missing_more", count=len(missing) - MISSING_SHOWN)
            lines.append(t(language, "remind_missing", codes=shown))
            lines.append(t(language, "remind_how"))
        else:
            lines.append(t(language, "remind_ready"))
        return Reply(Safe("\n".join(lines)), options=((Option(t(language, "remind_btn_resume"), "r:start"),),))

    def _pending_lines(self, units: list[UnitReport], language: str) -> list[str]:
        lines: list[str] = []
        for unit in units:
            items = self.items(unit.code)
            done = len([code for code in items if code in unit.done_codes])
            line = t(language, "remind_unit_line", unit=unit.name,
                     status=t(language, f"status_{unit.status}"), done=done, total=len(items))
            if not unit.officers:
                line = Safe(line + t(language, "remind_unit_unlinked"))
            lines.append(line)
        return lines

    def digest(self, period: PeriodWorld, language: str) -> Reply:
        """To the leader the day before: who has submitted, who has not."""
        handed_in = [unit for unit in period.units if unit.submitted]
        pending = [unit for unit in period.units if not unit.submitted]
        total = len(period.units)
        lines: list[str] = [self._title("remind_digest_title", period, language), self._when(period, language),
                 t(language, "remind_digest_submitted", count=len(handed_in), total=total,
                   units=", ".join(unit.name for unit in handed_in) or "—")]
        if pending:
            lines.append(t(language, "remind_digest_pending", count=len(pending), total=total))
            lines.extend(self._pending_lines(pending, language))
        else:
            lines.append(t(language, "remind_digest_all_in"))
        return Reply(Safe("\n".join(lines)))

    def missed(self, period: PeriodWorld, language: str) -> Reply:
        """To the leader after the deadline: who missed it."""
        pending = [unit for unit in period.units if not unit.submitted]
        total = len(period.units)
        lines: list[str] = [self._title("remind_missed_title", period, language),
                 t(language, "remind_missed_deadline", deadline=self._deadline(period, language))]
        if pending:
            lines.append(t(language, "remind_missed_list", count=len(pending), total=total))
            lines.extend(self._pending_lines(pending, language))
        else:
            lines.append(t(language, "remind_missed_none", total=total))
        return Reply(Safe("\n".join(lines)))

    def unreachable(self, period: PeriodWorld, due: DueMessage, language: str) -> Reply:
        """To the leader: reminders cannot reach a unit's officer (403, blocked the bot)."""
        unit = next(unit for unit in period.units if unit.unit_id == due.unit_id)
        blocked = period.blocked.get(unit.unit_id, frozenset())
        names = ", ".join(officer.name for officer in unit.officers if officer.officer_id in blocked) or "—"
        reachable = [officer for officer in unit.officers if officer.officer_id not in blocked]
        key = "remind_unreachable_partly" if reachable else "remind_unreachable"
        return Reply(t(language, key, officers=names, unit=unit.name,
                       kind=t(language, f"kind_{period.kind}"), year=period.year))


# -- /deadline ------------------------------------------------------------------------------


class DeadlineFlow:
    """Choose a deadline, type the new one, confirm."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        bloc = bloc_by_id(session=ctx.session, bloc_id=ctx.officer.bloc_id)
        if not (bloc is not None):
            raise RuntimeError('invariant broken: bloc is not None')
        self.config = bloc.config
        self.zone = bloc.config.bloc.timezone

    def _t(self, key: str, **params: object) -> Safe:
        return t(self.ctx.language, key, **params)

    def _moment(self, moment: dt.datetime) -> str:
        return format_moment(moment, self.zone, self.ctx.language)

    def _option(self, label_key: str, action: str, **params: object) -> Option:
        return Option(self._t(label_key, **params), f"{PREFIX}:{self.ctx.state.nonce}:{action}")

    def _may_change(self, period: Period) -> bool:
        role = unit_role(session=self.ctx.session, bloc_id=self.ctx.officer.bloc_id,
                         unit_id=self.ctx.officer.unit_id, year=period.year)
        return role in LEADING

    def _what(self, field: DeadlineField, period: Period) -> dict[str, object]:
        return {"what": self._t(f"deadline_what_{field.value}"), "year": period.year,
                "kind": self._t(f"kind_{period.kind}")}

    def start(self) -> Outcome:
        """`/deadline`: the deadlines still ahead that the officer's unit may move."""
        ctx = self.ctx
        periods = periods_for_reporting(session=ctx.session, bloc_id=ctx.officer.bloc_id)
        allowed = [period for period in periods if self._may_change(period)]
        if not allowed:
            return Outcome([Reply(self._t("deadline_not_allowed"))])
        choices: list[tuple[Period, DeadlineField, dt.datetime]] = []
        for period in allowed:
            for field in DeadlineField:
                _opens, deadline = deadline_of(period, field)
                if deadline is not None and deadline > ctx.now:
                    choices.append((period, field, deadline))
        if not choices:
            return Outcome([Reply(self._t("deadline_none"))])
        ctx.leave_flow()
        ctx.state.flow, ctx.state.step = FLOW, "pick"
        nonce = ctx.new_nonce()
        options = tuple(
            (Option(self._t("deadline_label", deadline=self._moment(deadline), **self._what(field, period)),
                    f"{PREFIX}:{nonce}:pick:{period.id}:{field.value}"),)
            for period, field, deadline in choices
        )
        return Outcome([Reply(self._t("deadline_pick"), options=options)])

    def on_option(self, action: str, arguments: list[str]) -> Outcome:
        """A pressed button of this flow (its nonce already checked)."""
        step = self.ctx.state.step
        if action == "pick" and step == "pick" and len(arguments) == 2:
            return self._picked(arguments[0], arguments[1])
        if action == "ok" and step == "confirm":
            return self._confirmed()
        if action == "retype" and step == "confirm":
            self.ctx.state.step = "value"
            self.ctx.new_nonce()
            return Outcome([Reply(self._ask(), options=((self._option("deadline_btn_cancel", "cancel"),),))])
        if action == "cancel":
            self.ctx.leave_flow()
            return Outcome([Reply(self._t("deadline_cancelled"), edit=True)])
        return self.stale()

    def on_message(self) -> Outcome:
        """The typed new deadline (or anything else while a button is expected)."""
        ctx = self.ctx
        if ctx.state.step != "value":
            return Outcome([Reply(self._t("deadline_press_button"))])
        loaded = self._pending_period()
        if loaded is None:
            return self._gone()
        period, field = loaded
        opens, current = deadline_of(period, field)
        if not (current is not None):
            raise RuntimeError('invariant broken: current is not None')
        if ctx.incoming.kind is not InKind.text:
            return Outcome([Reply(Safe(self._t("deadline_err_format") + "\n\n" + self._ask()))])
        local_time = current.astimezone(self.config.zone()).time()
        try:
            day, time = parse_local_moment(ctx.incoming.text, default_time=local_time)
        except MomentError as error:
            key = "deadline_err_date" if str(error) in ("no_such_date", "no_such_time") else "deadline_err_format"
            return Outcome([Reply(Safe(self._t(key) + "\n\n" + self._ask()))])
        new = dt.datetime.combine(day, time, tzinfo=self.config.zone()).astimezone(dt.UTC)
        if new <= ctx.now:
            return Outcome([Reply(Safe(self._t("deadline_err_past", now=self._moment(ctx.now)) + "\n\n"
                                       + self._ask()))])
        if opens is not None and new <= opens:
            return Outcome([Reply(Safe(self._t("deadline_err_before_opens", opens=self._moment(opens)) + "\n\n"
                                       + self._ask()))])
        ctx.state.step = "confirm"
        ctx.state.pending = json.dumps({"field": field.value, "before": current.isoformat(),
                                        "after": new.isoformat()})
        ctx.new_nonce()
        text = self._t("deadline_confirm", before=self._moment(current), after=self._moment(new),
                       **self._what(field, period))
        options = ((self._option("deadline_btn_ok", "ok"), self._option("deadline_btn_retype", "retype")),
                   (self._option("deadline_btn_cancel", "cancel"),))
        return Outcome([Reply(text, options=options)])

    def stale(self) -> Outcome:
        """A button of an older prompt: nothing changes."""
        outcome = stale_elsewhere(self.ctx)
        outcome.replies = [Reply(self._t("deadline_stale"))]
        return outcome

    def _pending(self) -> dict[str, str]:
        loaded: dict[str, str] = json.loads(self.ctx.state.pending or "{}")
        return loaded

    def _pending_period(self) -> tuple[Period, DeadlineField] | None:
        """The period and field being changed, if it still exists and may still be changed."""
        state = self.ctx.state
        field_name = self._pending().get("field", "")
        if state.period_id is None or field_name not in DeadlineField.__members__:
            return None
        period = self.ctx.session.get(Period, state.period_id)
        if period is None or period.bloc_id != self.ctx.officer.bloc_id or not self._may_change(period):
            return None
        return period, DeadlineField(field_name)

    def _gone(self) -> Outcome:
        self.ctx.leave_flow()
        return Outcome([Reply(self._t("deadline_not_allowed"))])

    def _ask(self) -> Safe:
        loaded = self._pending_period()
        if loaded is None:
            return self._t("deadline_not_allowed")
        period, field = loaded
        _opens, current = deadline_of(period, field)
        if not (current is not None):
            raise RuntimeError('invariant broken: current is not None')
        local = current.astimezone(self.config.zone())
        return self._t("deadline_ask", deadline=self._moment(current), time=local.strftime("%H:%M"),
                       **self._what(field, period))

    def _picked(self, period_id: str, field_name: str) -> Outcome:
        ctx = self.ctx
        number = small_number(period_id)
        if number is None or field_name not in DeadlineField.__members__:
            return self.stale()
        period = ctx.session.get(Period, number)
        if period is None or period.bloc_id != ctx.officer.bloc_id or not self._may_change(period):
            return self._gone()
        _opens, current = deadline_of(period, DeadlineField(field_name))
        if current is None:
            return self.stale()
        ctx.state.step, ctx.state.period_id = "value", period.id
        ctx.state.pending = json.dumps({"field": field_name})
        ctx.new_nonce()
        return Outcome([Reply(self._ask(), options=((self._option("deadline_btn_cancel", "cancel"),),))])

    def _confirmed(self) -> Outcome:
        ctx = self.ctx
        loaded = self._pending_period()
        pending = self._pending()
        if loaded is None or "after" not in pending:
            return self._gone()
        period, field = loaded
        _opens, current = deadline_of(period, field)
        if current is None or current != dt.datetime.fromisoformat(pending["before"]):
            ctx.state.step = "value"
            ctx.new_nonce()
            moved = self._moment(current) if current is not None else "—"
            return Outcome([Reply(Safe(self._t("deadline_changed_meanwhile", deadline=moved) + "\n\n"
                                       + self._ask()))])
        if not (period.id is not None):
            raise RuntimeError('invariant broken: period.id is not None')
        after = dt.datetime.fromisoformat(pending["after"])
        change = set_deadline(session=ctx.session, period_id=period.id, field=field, deadline=after,
                              actor=f"officer:{ctx.officer.code}", unit_code=ctx.officer.unit_code)
        ctx.leave_flow()
        what = self._what(field, period)
        replies = [Reply(self._t("deadline_done", after=self._moment(change.after), **what), edit=True)]
        replies.extend(self._notices(change.before, change.after, field, period))
        return Outcome(replies, notice=self._t("deadline_saved"))

    def _notices(self, before: dt.datetime, after: dt.datetime, field: DeadlineField,
                 period: Period) -> list[Reply]:
        """Every unit's linked officers are told (the officer who changed it already knows)."""
        officers: list[OfficerContact] = linked_officers(session=self.ctx.session, bloc_id=self.ctx.officer.bloc_id)
        notices = []
        for officer in officers:
            if officer.officer_id == self.ctx.officer.id:
                continue
            language = officer.language
            notices.append(Reply(
                t(language, "deadline_notice", what=t(language, f"deadline_what_{field.value}"),
                  kind=t(language, f"kind_{period.kind}"), year=period.year,
                  before=format_moment(before, self.zone, language),
                  after=format_moment(after, self.zone, language), unit=self.ctx.officer.unit_name),
                chat_id=officer.chat_id,
            ))
        return notices


def _on_option(ctx: Context, parts: list[str]) -> Outcome:
    """Buttons `dl:<nonce>:<action>[:<argument>...]`: the nonce must be the person's current one."""
    if ctx.state.flow != FLOW or len(parts) < 3 or not ctx.state.nonce or parts[1] != ctx.state.nonce:
        return DeadlineFlow(ctx).stale() if ctx.state.flow == FLOW else stale_elsewhere(ctx)
    return DeadlineFlow(ctx).on_option(parts[2], parts[3:])


FEATURE = Feature(
    name=FLOW,
    commands={"deadline": lambda ctx: DeadlineFlow(ctx).start()},
    option_prefix=PREFIX,
    on_option=_on_option,
    on_message=lambda ctx: DeadlineFlow(ctx).on_message(),
    menu={"deadline": "deadline_cmd"},
)
