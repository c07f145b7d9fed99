"""The guided report: each indicator's actual, each self-scored criterion, evidence, submit.

Every step's state is saved in the same transaction as the value it collects
(the dispatcher commits both together), so a crash or a restart resumes at the
step the officer was on with every confirmed value kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from handlers.chat import InKind, Option, Outcome, Reply
from handlers.context import Context, Feature, small_number, stale_elsewhere
from handlers.i18n import Safe, format_moment, points, t
from rules.config import BlocConfig, CriterionKind, Direction
from rules.numbers import NumberError, format_number, format_percent, parse_number
from rules.scoring import ScoreSheet, UnitResults, achievement
from storage.blocs import bloc_by_id
from storage.chat import (
    add_evidence,
    entries_of,
    evidence_counts,
    find_submission,
    periods_for_reporting,
)
from storage.models import Entry, Period, Submission, SubmissionStatus
from storage.results import get_or_create_submission, set_entry, set_status

ABSURD_PERCENT = Decimal(1000)
MAX_NOTE = 1000
EDITABLE = {SubmissionStatus.not_started.value, SubmissionStatus.in_progress.value,
            SubmissionStatus.returned.value}


@dataclass(frozen=True)
class Item:
    """One thing the unit reports: an indicator's actual or a criterion's self score."""

    code: str
    is_indicator: bool
    text: str
    measure: str = ""
    target: Decimal = Decimal(0)
    direction: Direction = Direction.higher
    maximum: Decimal = Decimal(0)


def unit_items(config: BlocConfig, unit_code: str) -> list[Item]:
    """The unit's items in reporting order: indicators, self criteria, then bonus criteria."""
    items = [
        Item(code=indicator.code, is_indicator=True, text=indicator.text, measure=indicator.measure,
             target=indicator.target, direction=indicator.direction)
        for indicator in config.indicators_of(unit_code)
    ]
    for criterion in config.pact.criteria():
        if criterion.kind in (CriterionKind.self, CriterionKind.bonus):
            items.append(Item(code=criterion.code, is_indicator=False,
                              text=f"{criterion.code}. {criterion.name}", maximum=criterion.max))
    return items


class ReportFlow:
    """The steps of the report for one officer's unit."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        bloc = bloc_by_id(session=ctx.session, bloc_id=ctx.officer.bloc_id)
        if not (bloc is not None):
            raise RuntimeError('invariant broken: bloc is not None')
        self.bloc = bloc
        self.config = bloc.config
        self.items = unit_items(self.config, ctx.officer.unit_code)
        self.by_code = {item.code: item for item in self.items}
        self._cached_submission: Submission | None = None
        self._cached_entries: dict[str, Entry] | None = None

    # -- entry points ------------------------------------------------------

    def start(self) -> Outcome:
        """`/report`: choose the period, or resume where the officer stopped."""
        ctx = self.ctx
        state = ctx.state
        if state.flow == "report" and state.period_id is not None:
            period = ctx.session.get(Period, state.period_id)
            if period is not None and self._is_open(period):
                return Outcome([Reply(t(ctx.language, "report_resume")), *self.prompt()])
        periods = [period for period in periods_for_reporting(session=ctx.session, bloc_id=ctx.officer.bloc_id)
                   if self._is_open(period)]
        if not periods:
            return Outcome([self._closed_reply()])
        if len(periods) > 1:
            state.flow, state.step, state.period_id = "report", "period", None
            nonce = ctx.new_nonce()
            options = tuple(
                (Option(t(ctx.language, "period_label", year=period.year,
                          kind=t(ctx.language, f"kind_{period.kind}")),
                        f"r:{nonce}:period:{period.id}"),)
                for period in periods
            )
            return Outcome([Reply(t(ctx.language, "report_pick_period"), options=options)])
        return self._enter_period(periods[0])

    def on_option(self, action: str, argument: str) -> Outcome:
        """A pressed button of the report (its nonce already checked)."""
        handlers: dict[str, Callable[[str], Outcome]] = {
            "period": self._picked_period,
            "ok": lambda _: self._confirm(with_evidence=False),
            "okev": lambda _: self._confirm(with_evidence=True),
            "retype": lambda _: self._retype(),
            "pick": self._picked_reading,
            "next": lambda _: self._advance(),
            "submit": lambda _: self._submit(),
            "edits": lambda _: self._pick_item(),
            "edit": self._edit_item,
            "reopen": lambda _: self._reopen(),
            "summary": lambda _: Outcome([self._summary()]),
            "continue": lambda _: self._continue_missing(),
        }
        handler = handlers.get(action)
        if handler is None:
            return self.stale()
        if action != "period" and not self._period_usable():
            return Outcome([self._closed_reply()])
        return handler(argument)

    def on_message(self) -> Outcome:
        """Text, a file or something else while the report is under way."""
        ctx = self.ctx
        if not self._period_usable():
            return Outcome([self._closed_reply()])
        step = ctx.state.step
        if step == "value":
            return self._read_value()
        if step == "evidence":
            return self._read_evidence()
        if step in ("confirm", "pick"):
            return Outcome(self.prompt(prefix=t(ctx.language, "press_a_button")))
        return Outcome(self.prompt())

    def stale(self) -> Outcome:
        """A button from an older message: refuse politely and show the current step."""
        outcome = Outcome(self.prompt(prefix=t(self.ctx.language, "stale_button")))
        outcome.notice = t(self.ctx.language, "stale_notice")
        return outcome

    # -- steps -------------------------------------------------------------

    def prompt(self, prefix: str = "") -> list[Reply]:
        """The message of the current step (sent again on resume, stale buttons, bad input)."""
        ctx = self.ctx
        step = ctx.state.step
        head = f"{prefix}\n\n" if prefix else ""
        if step == "period":
            return [Reply(Safe(head + t(ctx.language, "report_pick_period_again")))]
        item = self.by_code.get(ctx.state.item_code or "")
        if step == "value" and item is not None:
            return [Reply(Safe(head + self._item_prompt(item)))]
        if step == "confirm" and item is not None:
            return [self._confirm_reply(item, prefix=head)]
        if step == "pick" and item is not None:
            return [self._ambiguous_reply(item, prefix=head)]
        if step == "evidence" and item is not None:
            ctx.new_nonce()
            return [Reply(Safe(head + t(ctx.language, "evidence_prompt", item=item.text)),
                          options=((ctx.option("btn_next", "next"),),))]
        if step == "submitted":
            return [self._submitted_reply(prefix=head)]
        return [self._summary(prefix=head)]

    def _enter_period(self, period: Period) -> Outcome:
        ctx = self.ctx
        state = ctx.state
        state.flow, state.period_id, state.return_to = "report", period.id, None
        submission = self._submission(create=False)
        if submission is not None and submission.status not in EDITABLE:
            state.step = "submitted"
            return Outcome(self.prompt())
        # A report returned after the reporting deadline may be corrected until the review deadline.
        late = ctx.now >= period.reporting_deadline and period.review_deadline is not None
        until = period.review_deadline if late and period.review_deadline else period.reporting_deadline
        deadline = format_moment(until, self.config.bloc.timezone, ctx.language)
        intro = t(ctx.language, "report_intro", unit=ctx.officer.unit_name, count=len(self.items),
                  year=period.year, kind=t(ctx.language, f"kind_{period.kind}"), deadline=deadline)
        if submission is not None and submission.status == SubmissionStatus.returned.value:
            intro = Safe(intro + "\n\n" + t(ctx.language, "report_returned",
                                            reason=submission.return_reason or "—"))
        missing = self._first_missing()
        if missing is None:
            state.step = "summary"
            return Outcome([Reply(intro), self._summary()])
        state.step, state.item_code = "value", missing.code
        return Outcome([Reply(intro), *self.prompt()])

    def _picked_period(self, argument: str) -> Outcome:
        ctx = self.ctx
        period_id = small_number(argument)
        if ctx.state.step != "period" or period_id is None:
            return self.stale()
        period = ctx.session.get(Period, period_id)
        if period is None or period.bloc_id != ctx.officer.bloc_id or not self._is_open(period):
            return Outcome([self._closed_reply()])
        return self._enter_period(period)

    def _item_prompt(self, item: Item) -> str:
        ctx = self.ctx
        position = self.items.index(item) + 1
        if item.is_indicator:
            key = "prompt_indicator_lower" if item.direction is Direction.lower else "prompt_indicator"
            return t(ctx.language, key, n=position, total=len(self.items), text=item.text,
                     target=format_number(item.target, locale=ctx.language), measure=item.measure)
        return t(ctx.language, "prompt_criterion", n=position, total=len(self.items), text=item.text,
                 max=format_number(item.maximum, locale=ctx.language))

    def _read_value(self) -> Outcome:
        ctx = self.ctx
        item = self.by_code[ctx.state.item_code or ""]
        incoming = ctx.incoming
        if incoming.kind is not InKind.text or not incoming.text.strip():
            return Outcome(self.prompt(prefix=t(ctx.language, "err_need_number")))
        try:
            parsed = parse_number(incoming.text)
        except NumberError as error:
            if error.reason == "ambiguous":
                ctx.state.step = "pick"
                ctx.state.pending = json.dumps({"candidates": [str(c) for c in error.candidates]})
                return Outcome(self.prompt())
            key = "err_too_long" if error.reason == "too_long" else "err_not_number"
            return Outcome(self.prompt(prefix=t(ctx.language, key, example=self._example(item))))
        return self._accept_reading(item, parsed.value, parsed.percent)

    def _accept_reading(self, item: Item, value: Decimal, percent: bool) -> Outcome:
        ctx = self.ctx
        if value < 0:
            return Outcome(self.prompt(prefix=t(ctx.language, "err_negative")))
        if item.is_indicator:
            if percent and item.measure.strip() != "%":
                # "102%" for a count means percent of plan: the actual follows from the target.
                value = (item.target * value / 100).quantize(Decimal("0.0001")).normalize()
            ctx.state.pending = json.dumps({"value": str(value)})
        else:
            if percent or value > item.maximum:
                return Outcome(self.prompt(prefix=t(
                    ctx.language, "err_range", max=format_number(item.maximum, locale=ctx.language))))
            ctx.state.pending = json.dumps({"value": str(value)})
        ctx.state.step = "confirm"
        return Outcome(self.prompt())

    def _pending_value(self) -> Decimal | None:
        pending = json.loads(self.ctx.state.pending or "{}")
        return Decimal(pending["value"]) if "value" in pending else None

    def _confirm_reply(self, item: Item, prefix: str = "") -> Reply:
        ctx = self.ctx
        value = self._pending_value()
        if value is None:
            ctx.state.step = "value"
            return Reply(Safe(prefix + self._item_prompt(item)))
        ctx.new_nonce()
        if item.is_indicator:
            achieved = achievement(value, item.target, item.direction)
            echo = t(ctx.language, "echo_indicator", value=format_number(value, locale=ctx.language),
                     measure=item.measure, percent=format_percent(achieved, locale=ctx.language))
            if achieved > ABSURD_PERCENT:
                echo = Safe(echo + "\n" + t(ctx.language, "warn_absurd"))
        else:
            echo = t(ctx.language, "echo_criterion", value=format_number(value, locale=ctx.language),
                     max=format_number(item.maximum, locale=ctx.language))
        text = Safe(prefix + t(ctx.language, "confirm_question", item=item.text, echo=echo))
        options = (
            (ctx.option("btn_ok", "ok"), ctx.option("btn_retype", "retype")),
            (ctx.option("btn_ok_evidence", "okev"),),
        )
        return Reply(text, options=options)

    def _ambiguous_reply(self, item: Item, prefix: str = "") -> Reply:
        ctx = self.ctx
        candidates = [Decimal(c) for c in json.loads(ctx.state.pending or "{}").get("candidates", [])]
        nonce = ctx.new_nonce()
        options = tuple(
            (Option(format_number(candidate, locale=ctx.language), f"r:{nonce}:pick:{index}"),)
            for index, candidate in enumerate(candidates)
        )
        return Reply(Safe(prefix + t(ctx.language, "ambiguous", text=ctx.incoming.text.strip()[:40]
                                     if ctx.incoming.kind is InKind.text else "")),
                     options=options + ((ctx.option("btn_retype", "retype"),),))

    def _retype(self) -> Outcome:
        ctx = self.ctx
        if ctx.state.step not in ("confirm", "pick"):
            return self.stale()
        ctx.state.step, ctx.state.pending = "value", None
        return Outcome(self.prompt(prefix=t(ctx.language, "retype")))

    def _picked_reading(self, argument: str) -> Outcome:
        ctx = self.ctx
        candidates = json.loads(ctx.state.pending or "{}").get("candidates", [])
        index = small_number(argument)
        if ctx.state.step != "pick" or index is None or index >= len(candidates):
            return self.stale()
        item = self.by_code[ctx.state.item_code or ""]
        return self._accept_reading(item, Decimal(candidates[index]), percent=False)

    def _confirm(self, *, with_evidence: bool) -> Outcome:
        ctx = self.ctx
        value = self._pending_value()
        item = self.by_code.get(ctx.state.item_code or "")
        if ctx.state.step != "confirm" or value is None or item is None:
            return self.stale()
        submission = self._submission(create=True)
        if not (submission is not None):
            raise RuntimeError('invariant broken: submission is not None')
        if submission.status not in EDITABLE:
            ctx.state.step = "submitted"
            return Outcome(self.prompt())
        set_entry(session=ctx.session, submission=submission,
                  item_type="indicator" if item.is_indicator else "criterion", item_code=item.code,
                  value=value, actor=self._actor(), bloc_id=ctx.officer.bloc_id,
                  unit_code=ctx.officer.unit_code, entries=self._entries())
        if submission.status == SubmissionStatus.not_started.value:
            set_status(session=ctx.session, submission=submission, status=SubmissionStatus.in_progress,
                       actor=self._actor(), bloc_id=ctx.officer.bloc_id, unit_code=ctx.officer.unit_code)
        ctx.state.pending = None
        saved = t(ctx.language, "saved", item=item.code)
        if with_evidence:
            ctx.state.step = "evidence"
            return Outcome(self.prompt(prefix=saved), notice=saved)
        outcome = self._advance()
        outcome.notice = saved
        return outcome

    def _read_evidence(self) -> Outcome:
        ctx = self.ctx
        incoming = ctx.incoming
        item = self.by_code[ctx.state.item_code or ""]
        entry = self._entries().get(item.code)
        if entry is None or entry.id is None:
            ctx.state.step = "value"
            return Outcome(self.prompt())
        if incoming.kind is InKind.file and incoming.file is not None:
            add_evidence(session=ctx.session, entry_id=entry.id, file_id=incoming.file.file_id,
                         file_name=incoming.file.file_name, file_size=incoming.file.file_size, note=None)
            size = format_number(Decimal(incoming.file.file_size or 0) / 1024, decimals=0,
                                 locale=ctx.language)
            received = t(ctx.language, "evidence_file", name=incoming.file.file_name, kb=size)
        elif incoming.kind is InKind.text and incoming.text.strip():
            note = incoming.text.strip()
            if len(note) > MAX_NOTE:
                return Outcome(self.prompt(prefix=t(ctx.language, "err_note_long", max=MAX_NOTE)))
            add_evidence(session=ctx.session, entry_id=entry.id, file_id=None, file_name=None,
                         file_size=None, note=note)
            received = t(ctx.language, "evidence_note")
        else:
            return Outcome(self.prompt(prefix=t(ctx.language, "err_evidence_kind")))
        return Outcome(self.prompt(prefix=received))

    def _advance(self) -> Outcome:
        """After an item: back to the summary when editing from it, else the next missing item."""
        ctx = self.ctx
        if ctx.state.step not in ("confirm", "evidence"):
            return self.stale()
        ctx.state.pending = None
        if ctx.state.return_to == "summary":
            ctx.state.return_to = None
            ctx.state.step, ctx.state.item_code = "summary", None
            return Outcome([self._summary()])
        following = self._first_missing(after=ctx.state.item_code)
        if following is None:
            ctx.state.step, ctx.state.item_code = "summary", None
            return Outcome([self._summary()])
        ctx.state.step, ctx.state.item_code = "value", following.code
        return Outcome(self.prompt())

    def _continue_missing(self) -> Outcome:
        missing = self._first_missing()
        if missing is None:
            return Outcome([self._summary()])
        self.ctx.state.step, self.ctx.state.item_code = "value", missing.code
        return Outcome(self.prompt())

    def _summary(self, prefix: str = "") -> Reply:
        """Every item with its value and points, the total, and what is missing."""
        ctx = self.ctx
        ctx.state.step, ctx.state.item_code = "summary", None
        entries = self._entries()
        values = {code: entry.value for code, entry in entries.items() if entry.value is not None}
        sheet = ScoreSheet.build(self.config.pact, self.config.indicators_of(ctx.officer.unit_code))
        score = sheet.score(UnitResults(
            unit_code=ctx.officer.unit_code,
            actuals={item.code: values[item.code] for item in self.items if item.is_indicator and item.code in values},
            self_scores={item.code: values[item.code] for item in self.items
                         if not item.is_indicator and item.code in values},
        ))
        counts = evidence_counts(session=ctx.session,
                                 entry_ids=[entry.id for entry in entries.values() if entry.id is not None])
        lines: list[str] = [t(ctx.language, "summary_title", unit=ctx.officer.unit_name)]
        missing = []
        for item in self.items:
            value = values.get(item.code)
            if value is None:
                missing.append(item.code)
                lines.append(t(ctx.language, "summary_missing", code=item.code))
                continue
            evidence = counts.get(entries[item.code].id or 0, 0)
            clip = f" 📎{evidence}" if evidence else ""
            if item.is_indicator:
                lines.append(t(ctx.language, "summary_indicator", code=item.code,
                               value=format_number(value, locale=ctx.language), measure=item.measure,
                               percent=format_percent(score.achievements.get(item.code, Decimal(0)),
                                                      locale=ctx.language)) + clip)
            else:
                lines.append(t(ctx.language, "summary_criterion", code=item.code,
                               value=points(value, ctx.language),
                               max=format_number(item.maximum, locale=ctx.language)) + clip)
        for section in self.config.pact.sections:
            lines.append(t(ctx.language, "summary_section", code=section.code,
                           points=points(score.sections.get(section.code, Decimal(0)), ctx.language),
                           max=format_number(section.max, locale=ctx.language)))
        lines.append(t(ctx.language, "summary_total", total=points(score.total, ctx.language),
                       bonus=points(score.bonus, ctx.language),
                       standard=format_number(self.config.pact.standard_score, locale=ctx.language)))
        ctx.new_nonce()
        if missing:
            lines.append(t(ctx.language, "summary_missing_count", count=len(missing)))
            options = ((ctx.option("btn_continue", "continue"),), (ctx.option("btn_edit", "edits"),))
        else:
            lines.append(t(ctx.language, "summary_ready"))
            options = ((ctx.option("btn_submit", "submit"),), (ctx.option("btn_edit", "edits"),))
        head = prefix if prefix else ""
        return Reply(Safe(head + "\n".join(lines)), options=options)

    def _pick_item(self) -> Outcome:
        ctx = self.ctx
        if ctx.state.step not in ("summary",):
            return self.stale()
        ctx.state.step = "choose"
        nonce = ctx.new_nonce()
        options = tuple(
            (Option(_short(f"{item.code} · {item.text}" if item.is_indicator else item.text, 40),
                    f"r:{nonce}:edit:{item.code}"),)
            for item in self.items
        )
        return Outcome([Reply(t(ctx.language, "pick_item"),
                              options=options + ((ctx.option("btn_summary", "summary"),),))])

    def _edit_item(self, code: str) -> Outcome:
        ctx = self.ctx
        if ctx.state.step != "choose" or code not in self.by_code:
            return self.stale()
        ctx.state.step, ctx.state.item_code, ctx.state.return_to = "value", code, "summary"
        return Outcome(self.prompt())

    def _submit(self) -> Outcome:
        ctx = self.ctx
        if ctx.state.step != "summary" or self._first_missing() is not None:
            return self.stale()
        submission = self._submission(create=True)
        if not (submission is not None):
            raise RuntimeError('invariant broken: submission is not None')
        if submission.status in EDITABLE:
            set_status(session=ctx.session, submission=submission, status=SubmissionStatus.submitted,
                       actor=self._actor(), bloc_id=ctx.officer.bloc_id, unit_code=ctx.officer.unit_code)
        ctx.state.step = "submitted"
        return Outcome([self._submitted_reply(just_now=True)])

    def _submitted_reply(self, prefix: str = "", just_now: bool = False) -> Reply:
        ctx = self.ctx
        period = self._period()
        submission = self._submission(create=False)
        deadline = format_moment(period.reporting_deadline, self.config.bloc.timezone, ctx.language)
        key = "submitted_now" if just_now else "submitted_already"
        status = submission.status if submission else SubmissionStatus.submitted.value
        text = t(ctx.language, key, unit=ctx.officer.unit_name, deadline=deadline,
                 status=t(ctx.language, f"status_{status}"))
        ctx.new_nonce()
        options: tuple[tuple[Option, ...], ...] = ((ctx.option("btn_summary", "summary"),),)
        if status == SubmissionStatus.submitted.value:
            options = ((ctx.option("btn_reopen", "reopen"),), *options)
        return Reply(Safe(prefix + text), options=options)

    def _reopen(self) -> Outcome:
        ctx = self.ctx
        submission = self._submission(create=False)
        if ctx.state.step != "submitted" or submission is None \
                or submission.status != SubmissionStatus.submitted.value:
            return self.stale()
        set_status(session=ctx.session, submission=submission, status=SubmissionStatus.in_progress,
                   actor=self._actor(), bloc_id=ctx.officer.bloc_id, unit_code=ctx.officer.unit_code)
        return Outcome([Reply(t(ctx.language, "reopened")), self._summary()])

    # -- helpers -----------------------------------------------------------

    def _actor(self) -> str:
        return f"officer:{self.ctx.officer.code}"

    def _period(self) -> Period:
        period = self.ctx.session.get(Period, self.ctx.state.period_id)
        if not (period is not None):
            raise RuntimeError('invariant broken: period is not None')
        return period

    def _is_open(self, period: Period) -> bool:
        """Whether the unit may edit its report for the period now.

        Until the reporting deadline; after it only a report the leader returned for
        correction, until the review deadline. A published ranking locks its period
        until the leader reopens it.
        """
        now = self.ctx.now
        if period.published_at is not None or now < period.reporting_opens:
            return False
        if now < period.reporting_deadline:
            return True
        if period.review_deadline is not None and now >= period.review_deadline:
            return False
        if period.id is None:
            return False
        submission = find_submission(session=self.ctx.session, period_id=period.id, unit_id=self.ctx.officer.unit_id)
        return submission is not None and submission.status == SubmissionStatus.returned.value

    def _period_usable(self) -> bool:
        state = self.ctx.state
        if state.period_id is None:
            return state.step == "period"
        period = self.ctx.session.get(Period, state.period_id)
        if period is None or not self._is_open(period):
            state.flow = state.step = state.item_code = state.pending = None
            return False
        return True

    def _submission(self, *, create: bool) -> Submission | None:
        """The unit's submission for the period in the state, looked up once per message."""
        ctx = self.ctx
        if ctx.state.period_id is None:
            raise RuntimeError("no period chosen")
        if self._cached_submission is None or self._cached_submission.period_id != ctx.state.period_id:
            self._cached_submission = find_submission(session=ctx.session, period_id=ctx.state.period_id,
                                                      unit_id=ctx.officer.unit_id)
        if self._cached_submission is None and create:
            self._cached_submission = get_or_create_submission(
                session=ctx.session, period_id=ctx.state.period_id, unit_id=ctx.officer.unit_id)
        return self._cached_submission

    def _entries(self) -> dict[str, Entry]:
        """The submission's entries, looked up once per message (refreshed after a save)."""
        if self._cached_entries is None:
            submission = self._submission(create=False)
            self._cached_entries = entries_of(session=self.ctx.session, submission_id=submission.id) \
                if submission is not None and submission.id is not None else {}
        return self._cached_entries

    def _first_missing(self, after: str | None = None) -> Item | None:
        entries = self._entries()
        start = 0
        if after is not None and after in self.by_code:
            start = self.items.index(self.by_code[after]) + 1
        ordered = self.items[start:] + self.items[:start]
        for item in ordered:
            entry = entries.get(item.code)
            if entry is None or entry.value is None:
                return item
        return None

    def _example(self, item: Item) -> str:
        if item.is_indicator:
            return format_number(item.target, locale=self.ctx.language)
        return format_number(item.maximum * Decimal("0.95"), decimals=1, locale=self.ctx.language)

    def _closed_reply(self) -> Reply:
        ctx = self.ctx
        periods = periods_for_reporting(session=ctx.session, bloc_id=ctx.officer.bloc_id)
        if any(p.published_at is not None and p.reporting_opens <= ctx.now < p.reporting_deadline for p in periods):
            return Reply(t(ctx.language, "publish_report_locked"))
        zone = self.config.bloc.timezone
        upcoming = [p for p in periods if p.reporting_opens > ctx.now]
        if upcoming:
            first = min(upcoming, key=lambda p: p.reporting_opens)
            return Reply(t(ctx.language, "report_not_yet",
                           opens=format_moment(first.reporting_opens, zone, ctx.language)))
        if periods:
            return Reply(t(ctx.language, "report_closed",
                           deadline=format_moment(periods[0].reporting_deadline, zone, ctx.language)))
        return Reply(t(ctx.language, "report_no_period"))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _report_option(ctx: Context, parts: list[str]) -> Outcome:
    """Buttons `r:<nonce>:<action>[:<arg>]` of the report, and `r:start` from other messages."""
    flow = ReportFlow(ctx)
    if parts[1:2] == ["start"]:
        return flow.start()
    if ctx.state.flow != "report" or len(parts) < 3 or not ctx.state.nonce or parts[1] != ctx.state.nonce:
        return flow.stale() if ctx.state.flow == "report" else stale_elsewhere(ctx)
    return flow.on_option(parts[2], parts[3] if len(parts) > 3 else "")


FEATURE = Feature(
    name="report",
    commands={"report": lambda ctx: ReportFlow(ctx).start()},
    option_prefix="r",
    on_option=_report_option,
    on_message=lambda ctx: ReportFlow(ctx).on_message(),
    menu={"report": "cmd_report"},
)
