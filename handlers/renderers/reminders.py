"""The texts of deadlines and reminders: the scheduler's messages, and the /deadline prompts.

The scheduler's messages (a unit's reminder, the leader's digest, who missed,
who is unreachable) are written in each recipient's language. A reminder says
what is missing and carries a button that resumes the report (`r:start`,
handled by the reporting flow).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from handlers.chat import Option, Reply
from handlers.flow import Buttons
from handlers.i18n import Safe, format_moment, t
from handlers.rehearsal import mark
from handlers.services.reminders import Deadline, Moved
from handlers.services.reporting import unit_items
from rules.config import BlocConfig
from rules.reminders import DueMessage, ReminderKind, WorkCalendar, days_left
from storage.reminders import PeriodWorld, UnitReport

MISSING_SHOWN = 12  # item codes listed in a reminder before "and N more"


class ReminderRenderer:
    """Texts of the scheduler's messages for one bloc at one moment.

    A unit's items and a period's units by id are looked up once each, so a
    pass over a bloc stays linear in its units, however many messages are due.
    """

    def __init__(self, config: BlocConfig, calendar: WorkCalendar, now: dt.datetime) -> None:
        self.config = config
        self.calendar = calendar
        self.now = now
        self._items: dict[str, list[str]] = {}
        self._units: dict[int, dict[int, UnitReport]] = {}

    def items(self, unit_code: str) -> list[str]:
        """The item codes a unit reports, in reporting order."""
        if unit_code not in self._items:
            self._items[unit_code] = [item.code for item in unit_items(self.config, unit_code)]
        return self._items[unit_code]

    def unit(self, period: PeriodWorld, unit_id: int) -> UnitReport:
        """A unit of the period by its id."""
        units = self._units.get(period.period_id)
        if units is None:
            units = self._units[period.period_id] = {unit.unit_id: unit for unit in period.units}
        return units[unit_id]

    def render(self, period: PeriodWorld, due: DueMessage, language: str) -> Reply:
        """One message in the recipient's language (a rehearsed bloc's says it is a rehearsal)."""
        return mark(self.config, [self._render(period, due, language)])[0]

    def _render(self, period: PeriodWorld, due: DueMessage, language: str) -> Reply:
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
        unit = self.unit(period, due.unit_id)
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
        unit = self.unit(period, due.unit_id)
        blocked = period.blocked.get(unit.unit_id, frozenset())
        names = ", ".join(officer.name for officer in unit.officers if officer.officer_id in blocked) or "—"
        reachable = [officer for officer in unit.officers if officer.officer_id not in blocked]
        key = "remind_unreachable_partly" if reachable else "remind_unreachable"
        return Reply(t(language, key, officers=names, unit=unit.name,
                       kind=t(language, f"kind_{period.kind}"), year=period.year))


# -- /deadline ----------------------------------------------------------------------------


def _what(language: str, deadline: Deadline) -> dict[str, object]:
    return {"what": t(language, f"deadline_what_{deadline.field.value}"), "year": deadline.year,
            "kind": t(language, f"kind_{deadline.kind}")}


def moment(language: str, deadline: Deadline, when: dt.datetime) -> str:
    """A moment in the bloc's time zone, as people read it."""
    return format_moment(when, deadline.timezone, language)


def deadline_pick(language: str, deadlines: list[Deadline], buttons: Buttons) -> Reply:
    """The deadlines ahead that may be moved, one button each."""
    options = tuple(
        (buttons(t(language, "deadline_label", deadline=moment(language, deadline, deadline.current),
                   **_what(language, deadline)), "pick", deadline.period_id, deadline.field.value),)
        for deadline in deadlines
    )
    return Reply(t(language, "deadline_pick"), options=options)


def deadline_ask(language: str, deadline: Deadline) -> Safe:
    """The deadline as it stands, and how to type the new one."""
    local = deadline.current.astimezone(ZoneInfo(deadline.timezone))
    return t(language, "deadline_ask", deadline=moment(language, deadline, deadline.current),
             time=local.strftime("%H:%M"), **_what(language, deadline))


def deadline_value_prompt(language: str, deadline: Deadline, buttons: Buttons) -> Reply:
    """Type the new deadline (or cancel)."""
    return Reply(deadline_ask(language, deadline), options=((buttons(t(language, "deadline_btn_cancel"), "cancel"),),))


def deadline_retry(language: str, deadline: Deadline, problem: Safe) -> Reply:
    """What was wrong with the typed deadline, and the question again."""
    return Reply(Safe(problem + "\n\n" + deadline_ask(language, deadline)))


def deadline_confirm(language: str, deadline: Deadline, after: dt.datetime, buttons: Buttons) -> Reply:
    """The change, to confirm, type again or cancel."""
    text = t(language, "deadline_confirm", before=moment(language, deadline, deadline.current),
             after=moment(language, deadline, after), **_what(language, deadline))
    options = ((buttons(t(language, "deadline_btn_ok"), "ok"), buttons(t(language, "deadline_btn_retype"), "retype")),
               (buttons(t(language, "deadline_btn_cancel"), "cancel"),))
    return Reply(text, options=options)


def deadline_moved(language: str, moved: Moved, unit_name: str) -> list[Reply]:
    """Done, to the officer who moved it; the notice to every other linked officer, in their language."""
    deadline, change = moved.deadline, moved.change
    replies = [Reply(t(language, "deadline_done", after=moment(language, deadline, change.after),
                       **_what(language, deadline)), edit=True)]
    replies.extend(
        Reply(t(contact.language, "deadline_notice", **_what(contact.language, deadline),
                before=moment(contact.language, deadline, change.before),
                after=moment(contact.language, deadline, change.after), unit=unit_name),
              chat_id=contact.chat_id)
        for contact in moved.told
    )
    return replies
