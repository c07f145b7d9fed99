"""The bloc configuration file: pydantic models, validated before anything is stored.

Everything a province may decide differently is here, as data (DOMAIN.md, "Rules
are data, not code"). Numbers in the file may be written the Vietnamese way
(`29.945`, `96,5`); they are read by :func:`rules.numbers.parse_number`, which
is why the YAML loader in `bot/loading.py` leaves floats as strings.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rules.numbers import NumberError, check_digits, parse_number

# Sensible maxima of what the file names and describes: every one is echoed in chat
# messages and documents, where a 30 MB name would be a denial of service.
NAME_MAX = 200  # a bloc's, a unit's, an officer's name
SHORT_NAME_MAX = 50  # a short name, a measure, a band, a phone number, a user name
TEXT_MAX = 1000  # a criterion's or an indicator's text


def _vn_decimal(value: Any, info: ValidationInfo) -> Any:
    """Read a number the Vietnamese way when it comes as text typed by a person.

    A configuration read back from the database (context ``{"stored": True}``)
    holds canonical Decimal text (``30.544`` there means thirty and a bit), so
    it is read as such.
    """
    if isinstance(value, bool):
        raise ValueError("a number is expected, not true/false")
    if isinstance(value, str) and info.context and info.context.get("stored"):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return parse_number(value).value
        except NumberError as exc:
            raise ValueError(str(exc)) from exc
    if isinstance(value, float):
        # Floats never reach here from our YAML loader; accept them from Python callers.
        return Decimal(repr(value))
    return value


def _capped_digits(value: Decimal) -> Decimal:
    """The digit cap of typed numbers, for files too (a 60-digit actual fits no column)."""
    try:
        return check_digits(value)
    except NumberError as exc:
        raise ValueError(str(exc)) from exc


VNDecimal = Annotated[Decimal, BeforeValidator(_vn_decimal), AfterValidator(_capped_digits)]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._\-]+$")]


class Frozen(BaseModel):
    """Base for every configuration model: unknown keys are an error, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Bloc(Frozen):
    """The bloc itself."""

    code: Code
    name: str = Field(min_length=1, max_length=NAME_MAX)
    province: str = Field(min_length=1, max_length=NAME_MAX)
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Literal["vi", "en"] = "vi"
    # How the bot addresses officers in Vietnamese, as an official letter would: "đồng chí" or "anh/chị".
    address: str = Field(default="đồng chí", min_length=1, max_length=20)
    # Which bot serves the bloc on each channel when a deployment runs several: the bot's id
    # (the digits before the colon of its token; `python -m bot run` prints it). Unset: the
    # channel's first bot. An officer's replies go through the bot they talk to.
    bots: dict[Literal["telegram", "zalo"], str] = Field(default_factory=dict)

    @field_validator("bots", mode="before")
    @classmethod
    def _bot_ids_as_text(cls, value: object) -> object:
        # A Telegram bot id written as a number in YAML (`telegram: 7012345678`) is the same id.
        if isinstance(value, dict):
            return {key: str(bot).strip() if isinstance(bot, int | str) else bot for key, bot in value.items()}
        return value
    # A rehearsal (`init FILE --rehearse`): the file's dates moved by this many days; every message says so.
    rehearsal_days: int | None = None

    @field_validator("address")
    @classmethod
    def _address_in_lower_case(cls, value: str) -> str:
        # Written mid-sentence; the catalog capitalises it at the start of one.
        return value.strip().lower()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}, e.g. Asia/Ho_Chi_Minh") from exc
        return value


class Unit(Frozen):
    """A member unit; membership is valid from/to dates (departments merge)."""

    code: Code
    name: str = Field(min_length=1, max_length=NAME_MAX)
    short_name: str = Field(min_length=1, max_length=SHORT_NAME_MAX)
    valid_from: dt.date = dt.date(1900, 1, 1)
    valid_to: dt.date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Unit:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self

    def is_member_in(self, year: int) -> bool:
        """Whether the unit belongs to the bloc at any time during the year."""
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        return self.valid_from <= end and (self.valid_to is None or self.valid_to >= start)


class OfficerRole(StrEnum):
    """What an officer does for the unit."""

    reporter = "reporter"
    unit_head = "unit_head"


class Officer(Frozen):
    """A person who acts for a unit in the bot."""

    code: Code
    name: str = Field(min_length=1, max_length=NAME_MAX)
    unit: Code
    role: OfficerRole = OfficerRole.reporter
    voter: bool | None = None
    phone: str | None = Field(default=None, max_length=SHORT_NAME_MAX)
    telegram_username: str | None = Field(default=None, max_length=SHORT_NAME_MAX)

    @property
    def votes_for_unit(self) -> bool:
        """Whether this officer casts the unit's ballot (the unit head unless designated)."""
        return self.voter if self.voter is not None else self.role is OfficerRole.unit_head


class Window(Frozen):
    """An opening and a deadline, local time of the bloc when no offset is given."""

    opens: dt.datetime
    deadline: dt.datetime

    @model_validator(mode="after")
    def _in_order(self) -> Window:
        if _naive(self.deadline) <= _naive(self.opens):
            raise ValueError("deadline must be after opens")
        return self


def _naive(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


class PeriodKind(StrEnum):
    """The two reporting rounds of a year."""

    mid_year = "mid-year"
    year_end = "year-end"


class Period(Frozen):
    """A reporting round with its deadlines."""

    year: int = Field(ge=2000, le=2100)
    kind: PeriodKind = PeriodKind.year_end
    reporting: Window
    review: Window | None = None
    votes: Window | None = None


class RuleKind(StrEnum):
    """How an indicator's achievement becomes points."""

    proportional = "proportional"
    threshold = "threshold"
    stepped = "stepped"


class OverPlan(Frozen):
    """Bonus points per percent above plan, up to a cap; they count as bonus."""

    points_per_percent: VNDecimal = Field(ge=0)
    cap: VNDecimal = Field(ge=0)


class ScoringRule(Frozen):
    """The rule of an indicator criterion."""

    kind: RuleKind = RuleKind.proportional
    step_percent: VNDecimal | None = Field(default=None, gt=0)
    step_points: VNDecimal | None = Field(default=None, ge=0)
    over_plan: OverPlan | None = None

    @model_validator(mode="after")
    def _stepped_has_steps(self) -> ScoringRule:
        steps_missing = self.step_percent is None or self.step_points is None
        if self.kind is RuleKind.stepped and steps_missing:
            raise ValueError("a stepped rule needs step_percent and step_points")
        return self


# The rule of an indicator criterion that names none (shared: the model is frozen).
_PROPORTIONAL = ScoringRule()


class CriterionKind(StrEnum):
    """Where a criterion's points come from."""

    indicator = "indicator"
    self = "self"
    bonus = "bonus"
    deduction = "deduction"


class Criterion(Frozen):
    """A scored line of the sheet."""

    code: Code
    name: str = Field(min_length=1, max_length=TEXT_MAX)
    kind: CriterionKind = CriterionKind.self
    max: VNDecimal = Field(gt=0)
    rule: ScoringRule | None = None

    @model_validator(mode="after")
    def _rule_only_for_indicators(self) -> Criterion:
        if self.rule is not None and self.kind is not CriterionKind.indicator:
            raise ValueError("only an indicator criterion has a rule")
        return self

    @property
    def scoring_rule(self) -> ScoringRule:
        """The rule, proportional when none is given."""
        return self.rule or _PROPORTIONAL


class Section(Frozen):
    """A part of the pact (Nội dung I, II, III) with its maximum."""

    code: Code
    name: str = Field(min_length=1, max_length=TEXT_MAX)
    max: VNDecimal = Field(gt=0)
    criteria: list[Criterion] = Field(min_length=1)

    @field_validator("criteria")
    @classmethod
    def _only_scored_kinds(cls, criteria: list[Criterion]) -> list[Criterion]:
        for index, criterion in enumerate(criteria):
            if criterion.kind not in (CriterionKind.indicator, CriterionKind.self):
                raise ValueError(
                    f"criteria[{index}] ({criterion.code}): a section holds indicator or self "
                    "criteria; put bonus and deduction criteria under pact.bonus / pact.deductions"
                )
        return criteria


class Extras(Frozen):
    """Bonus or deduction criteria outside the sections, with a cap on their sum."""

    max: VNDecimal = Field(ge=0)
    criteria: list[Criterion] = Field(default_factory=list)


class Pact(Frozen):
    """The signed score sheet."""

    standard_score: VNDecimal = Field(gt=0)
    sections: list[Section] = Field(min_length=1)
    bonus: Extras = Extras(max=Decimal(0))
    deductions: Extras = Extras(max=Decimal(0))

    @model_validator(mode="after")
    def _consistent(self) -> Pact:
        total = sum((section.max for section in self.sections), Decimal(0))
        # Some provinces count the bonus inside the standard (950 + 50 = 1.000).
        if total not in (self.standard_score, self.standard_score - self.bonus.max):
            raise ValueError(
                f"the sections' maxima sum to {total}, not to the standard score "
                f"{self.standard_score} (nor to it less the bonus maximum); make them add up"
            )
        extras_by_kind = (
            (CriterionKind.bonus, self.bonus),
            (CriterionKind.deduction, self.deductions),
        )
        for kind, extras in extras_by_kind:
            for criterion in extras.criteria:
                if criterion.kind is not kind:
                    raise ValueError(f"criterion {criterion.code} must have kind {kind.value}")
        return self

    def criteria(self) -> list[Criterion]:
        """Every criterion, sections first, then bonus, then deductions."""
        found = [criterion for section in self.sections for criterion in section.criteria]
        return found + list(self.bonus.criteria) + list(self.deductions.criteria)

    def section_of(self, criterion_code: str) -> Section | None:
        """The section a criterion belongs to, None for bonus and deductions."""
        for section in self.sections:
            if any(criterion.code == criterion_code for criterion in section.criteria):
                return section
        return None


class Direction(StrEnum):
    """Whether more is better (households served) or less (accidents)."""

    higher = "higher"
    # The member shadows str.lower on Direction values: call str.lower(value) on a
    # Direction, never value.lower(). The name stays because other packages use it.
    lower = "lower"  # type: ignore[assignment]


class Indicator(Frozen):
    """A quantitative target a unit registered, feeding one indicator criterion."""

    code: Code
    unit: Code
    criterion: Code
    text: str = Field(min_length=1, max_length=TEXT_MAX)
    measure: str = Field(min_length=1, max_length=SHORT_NAME_MAX)
    target: VNDecimal = Field(ge=0)
    direction: Direction = Direction.higher
    weight: VNDecimal = Field(default=Decimal(1), gt=0)
    # The largest actual the bot takes for it; none: `reporting.max_times_target` times the target.
    max_actual: VNDecimal | None = Field(default=None, gt=0)


class Reporting(Frozen):
    """What the bot takes as a plausible figure in a report."""

    # An actual above this many times its target (times 1 when the target is 0) is refused
    # as a typing slip (a unit of measure mistaken, digits repeated), unless the indicator
    # names its own `max_actual`.
    max_times_target: VNDecimal = Field(default=Decimal(100), gt=1)


class Awards(Frozen):
    """How many flags and certificates, and the minimum % of the standard score."""

    flags: int = Field(default=1, ge=0)
    flag_min_percent: VNDecimal = Field(default=Decimal(90), ge=0)
    certificates: int = Field(default=1, ge=0)
    certificate_min_percent: VNDecimal = Field(default=Decimal(85), ge=0)


class Band(Frozen):
    """A named band by % of the standard score."""

    name: str = Field(min_length=1, max_length=SHORT_NAME_MAX)
    min_percent: VNDecimal = Field(ge=0)


def _default_bands() -> list[Band]:
    return [
        Band(name="Xuất sắc", min_percent=Decimal(96)),
        Band(name="Tốt", min_percent=Decimal(92)),
        Band(name="Khá", min_percent=Decimal(80)),
        Band(name="Đạt", min_percent=Decimal(0)),
    ]


class TieRule(StrEnum):
    """What an election does when the top candidates are tied."""

    runoff = "runoff"
    no_winner = "no_winner"


class BallotRules(Frozen):
    """Quorum and pass share of one kind of ballot."""

    secret: bool = True
    quorum: VNDecimal = Field(default=Decimal("0.5"), ge=0, le=1)
    pass_share: VNDecimal = Field(default=Decimal("0.5"), ge=0, lt=1)
    pass_base: Literal["members", "votes_cast"] = "members"  # noqa: S105 (not a password)
    closing_hours: int = Field(default=48, ge=1)
    min_hours: int = Field(default=1, ge=1)
    max_hours: int = Field(default=168, ge=1)


class ElectionRules(BallotRules):
    """How next year's leader and deputy are chosen."""

    method: Literal["election", "rotation", "appointed"] = "election"
    candidates: Literal["members"] | list[Code] = "members"
    self_vote: bool = False
    tie: TieRule = TieRule.runoff
    next_leader: Code | None = None
    next_deputy: Code | None = None

    @model_validator(mode="after")
    def _method_has_result(self) -> ElectionRules:
        if self.method != "election" and (self.next_leader is None or self.next_deputy is None):
            raise ValueError(f"method {self.method} needs next_leader and next_deputy")
        return self


class Votes(Frozen):
    """The acclaim of the leading unit and the election.

    `working_hours` is the working day a ballot closes in (a close that would fall
    outside it moves to the start of the next working period); by default the
    reminders' `working_hours`.
    """

    acclaim: BallotRules = BallotRules()
    election: ElectionRules = ElectionRules()
    working_hours: WorkingHours | None = None


class TieBreak(StrEnum):
    """Keys that order units with equal totals; a section's points is `section:<code>`."""

    indicators_met = "indicators_met"
    bonus = "bonus"
    fewer_deductions = "fewer_deductions"


TieBreakKey = Annotated[
    str, Field(pattern=r"^(section:[A-Za-z0-9._\-]+|indicators_met|bonus|fewer_deductions)$")
]


class Roles(Frozen):
    """This year's leader and deputy units."""

    leader: Code
    deputy: Code


class BlocConfig(Frozen):
    """A whole bloc configuration file."""

    bloc: Bloc
    units: list[Unit] = Field(min_length=2)
    officers: list[Officer] = Field(default_factory=list)
    roles: Roles
    periods: list[Period] = Field(min_length=1)
    pact: Pact
    indicators: list[Indicator] = Field(default_factory=list)
    awards: Awards = Awards()
    votes: Votes = Field(default_factory=lambda: Votes())
    tie_breaks: list[TieBreakKey] = Field(default_factory=lambda: ["section:I", "indicators_met"])
    bands: list[Band] = Field(default_factory=_default_bands)
    reminders: Reminders = Field(default_factory=lambda: Reminders())
    reporting: Reporting = Reporting()
    # Each unit's indicators, in file order; built once, when the file is validated.
    _indicators_by_unit: dict[str, tuple[Indicator, ...]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> BlocConfig:
        unit_codes = _unique("units", [unit.code for unit in self.units])
        _unique("officers", [officer.code for officer in self.officers])
        _unique("indicators", [indicator.code for indicator in self.indicators])
        criteria = {criterion.code: criterion for criterion in self.pact.criteria()}
        _unique("pact criteria", [criterion.code for criterion in self.pact.criteria()])
        _unique("pact sections", [section.code for section in self.pact.sections])
        _unique("periods", [f"{period.year} {period.kind.value}" for period in self.periods])
        for index, officer in enumerate(self.officers):
            if officer.unit not in unit_codes:
                raise ValueError(f"officers[{index}].unit: unknown unit {officer.unit!r}")
        for index, indicator in enumerate(self.indicators):
            if indicator.unit not in unit_codes:
                raise ValueError(f"indicators[{index}].unit: unknown unit {indicator.unit!r}")
            criterion = criteria.get(indicator.criterion)
            if criterion is None:
                raise ValueError(
                    f"indicators[{index}].criterion: unknown criterion {indicator.criterion!r}"
                )
            if criterion.kind is not CriterionKind.indicator:
                raise ValueError(
                    f"indicators[{index}].criterion: {indicator.criterion} "
                    "is not an indicator criterion"
                )
        for field in ("leader", "deputy"):
            code = getattr(self.roles, field)
            if code not in unit_codes:
                raise ValueError(f"roles.{field}: unknown unit {code!r}")
        if self.roles.leader == self.roles.deputy:
            raise ValueError("roles: leader and deputy must be different units")
        sections = {section.code for section in self.pact.sections}
        for index, key in enumerate(self.tie_breaks):
            if key.startswith("section:") and key.removeprefix("section:") not in sections:
                raise ValueError(f"tie_breaks[{index}]: unknown section {key!r}")
        election = self.votes.election
        for field in ("next_leader", "next_deputy"):
            code = getattr(election, field)
            if code is not None and code not in unit_codes:
                raise ValueError(f"votes.election.{field}: unknown unit {code!r}")
        if isinstance(election.candidates, list):
            for code in election.candidates:
                if code not in unit_codes:
                    raise ValueError(f"votes.election.candidates: unknown unit {code!r}")
        return self

    @model_validator(mode="after")
    def _index_indicators(self) -> BlocConfig:
        by_unit: dict[str, list[Indicator]] = {}
        for indicator in self.indicators:
            by_unit.setdefault(indicator.unit, []).append(indicator)
        # A private attribute may be set on a frozen model.
        self._indicators_by_unit = {unit: tuple(found) for unit, found in by_unit.items()}
        return self

    def members_in(self, year: int) -> list[Unit]:
        """The units that belong to the bloc during a year."""
        return [unit for unit in self.units if unit.is_member_in(year)]

    def indicators_of(self, unit_code: str) -> list[Indicator]:
        """A unit's registered indicators, in the order of the file."""
        return list(self._indicators_by_unit.get(unit_code, ()))

    def actual_limit(self, indicator: Indicator) -> Decimal:
        """The largest actual the bot takes for an indicator (a larger one is a typing slip)."""
        if indicator.max_actual is not None:
            return indicator.max_actual
        return max(indicator.target, Decimal(1)) * self.reporting.max_times_target

    def period(self, year: int, kind: PeriodKind) -> Period | None:
        """The period of a year and kind, if configured."""
        for period in self.periods:
            if period.year == year and period.kind is kind:
                return period
        return None

    def zone(self) -> ZoneInfo:
        """The bloc's time zone."""
        return ZoneInfo(self.bloc.timezone)


def _unique(what: str, codes: list[str]) -> set[str]:
    seen: set[str] = set()
    for index, code in enumerate(codes):
        if code in seen:
            raise ValueError(f"{what}[{index}]: duplicate code {code!r}")
        seen.add(code)
    return seen


class UnitResultsEntry(Frozen):
    """One unit's figures in a results file: indicator actuals and criterion scores."""

    unit: Code
    indicators: dict[Code, VNDecimal] = Field(default_factory=dict)
    criteria: dict[Code, VNDecimal] = Field(default_factory=dict)

    @field_validator("indicators", "criteria")
    @classmethod
    def _not_negative(cls, values: dict[str, Decimal]) -> dict[str, Decimal]:
        for code, value in values.items():
            if value < 0:
                raise ValueError(f"{code}: a negative value ({value}) cannot be a result")
        return values


class ResultsFile(Frozen):
    """Results sent outside the chat (a unit that cannot use it), imported by the leader."""

    bloc: Code
    year: int = Field(ge=2000, le=2100)
    period: PeriodKind = PeriodKind.year_end
    results: list[UnitResultsEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _units_once(self) -> ResultsFile:
        _unique("results", [entry.unit for entry in self.results])
        return self


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock_time(value: Any) -> Any:
    """A time of day written `"17:30"`; unquoted, YAML 1.1 reads 17:30 as the number 1050."""
    if isinstance(value, bool | int | float):
        raise ValueError(f'write a time of day in quotes, e.g. "17:30" (got the number {value})')
    return value


ClockTime = Annotated[dt.time, BeforeValidator(_clock_time)]


class WorkingHours(Frozen):
    """When the bot may write to people on its own: working days and hours, local time."""

    start: ClockTime = dt.time(7, 30)
    end: ClockTime = dt.time(17, 30)
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    holidays: list[dt.date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _start_before_end(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError("working_hours: end must be after start")
        return self


class Reminders(Frozen):
    """Reminders before each reporting deadline, the leader's digest and the missed-deadline notice."""

    enabled: bool = True
    days_before: list[int] = Field(default_factory=lambda: [7, 3, 1, 0])
    at: ClockTime = dt.time(8, 0)
    digest_days_before: int | None = Field(default=1, ge=0, le=60)
    report_missed: bool = True
    working_hours: WorkingHours = Field(default_factory=lambda: WorkingHours())

    @field_validator("days_before")
    @classmethod
    def _sensible_days(cls, days: list[int]) -> list[int]:
        for index, value in enumerate(days):
            if not 0 <= value <= 60:
                raise ValueError(f"days_before[{index}]: {value} is not between 0 and 60")
        if len(set(days)) != len(days):
            raise ValueError("days_before: a number of days is given twice")
        return days


Votes.model_rebuild()
BlocConfig.model_rebuild()
