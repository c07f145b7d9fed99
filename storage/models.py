"""SQLModel tables. The schema itself is created only by the Alembic migrations.

The validated configuration file is kept whole in `Bloc.config_json` (the pact's
rules are data the scoring reads); units, officers, periods, criteria and
indicators are also kept as rows so that results, invites and chat state can
refer to them with foreign keys.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import DecimalText, UTCDateTime


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class SubmissionStatus(StrEnum):
    """Where a unit's report for a period stands."""

    not_started = "not_started"
    in_progress = "in_progress"
    submitted = "submitted"
    returned = "returned"
    accepted = "accepted"


class Bloc(SQLModel, table=True):
    """A bloc, with its whole validated configuration."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str
    province: str
    timezone: str = Field(max_length=64)
    language: str = Field(max_length=8)
    config_json: str = Field(sa_column=Column(Text, nullable=False))
    config_hash: str = Field(max_length=64)
    group_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Unit(SQLModel, table=True):
    """A member unit of a bloc, with its membership dates."""

    __table_args__ = (UniqueConstraint("bloc_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    code: str = Field(max_length=32)
    name: str
    short_name: str
    valid_from: dt.date
    valid_to: dt.date | None = None


class Officer(SQLModel, table=True):
    """A person who acts for a unit; linked to one chat account once onboarded."""

    __table_args__ = (UniqueConstraint("bloc_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    code: str = Field(max_length=32)
    name: str
    role: str = Field(max_length=16)
    voter: bool = False
    phone: str | None = None
    telegram_username: str | None = None
    telegram_user_id: int | None = Field(default=None, unique=True, sa_type=BigInteger)
    language: str = Field(default="vi", max_length=8)
    active: bool = True


class YearRoles(SQLModel, table=True):
    """The leader and deputy units of a bloc for a year (configured or elected)."""

    __table_args__ = (UniqueConstraint("bloc_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    year: int
    leader_unit_id: int = Field(foreign_key="unit.id")
    deputy_unit_id: int = Field(foreign_key="unit.id")
    source: str = Field(default="config", max_length=16)


class Period(SQLModel, table=True):
    """A reporting round of a year, with its deadlines (UTC)."""

    __table_args__ = (UniqueConstraint("bloc_id", "year", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    year: int
    kind: str = Field(max_length=16)
    reporting_opens: dt.datetime = Field(sa_type=UTCDateTime)
    reporting_deadline: dt.datetime = Field(sa_type=UTCDateTime)
    review_opens: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    review_deadline: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    votes_opens: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    votes_deadline: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class Criterion(SQLModel, table=True):
    """A scored line of the pact (section criteria, bonus and deductions)."""

    __table_args__ = (UniqueConstraint("bloc_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    code: str = Field(max_length=32)
    section_code: str | None = Field(default=None, max_length=32)
    name: str
    kind: str = Field(max_length=16)
    max_points: Decimal = Field(sa_type=DecimalText)
    position: int


class Indicator(SQLModel, table=True):
    """A unit's registered quantitative target."""

    __table_args__ = (UniqueConstraint("bloc_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    criterion_id: int = Field(foreign_key="criterion.id")
    code: str = Field(max_length=32)
    text: str
    measure: str
    target: Decimal = Field(sa_type=DecimalText)
    direction: str = Field(max_length=8)
    position: int


class Submission(SQLModel, table=True):
    """A unit's report for a period: its status and version."""

    __table_args__ = (UniqueConstraint("period_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    status: str = Field(default=SubmissionStatus.not_started.value, max_length=16)
    submitted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 0
    return_reason: str | None = None


class Entry(SQLModel, table=True):
    """One reported item: an indicator's actual, or a criterion's self score."""

    __table_args__ = (UniqueConstraint("submission_id", "item_code"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    item_type: str = Field(max_length=16)  # "indicator" or "criterion"
    item_code: str = Field(max_length=32)
    value: Decimal | None = Field(default=None, sa_type=DecimalText)
    reviewed_value: Decimal | None = Field(default=None, sa_type=DecimalText)
    review_reason: str | None = None
    note: str | None = None
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str = Field(max_length=64)


class Evidence(SQLModel, table=True):
    """A file or note that backs an entry."""

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    file_id: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    note: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditLog(SQLModel, table=True):
    """Who changed what, when, from what to what."""

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=64)
    bloc_id: int | None = Field(default=None, foreign_key="bloc.id", index=True)
    unit_code: str | None = Field(default=None, max_length=32)
    action: str = Field(max_length=48)
    target: str = Field(max_length=128)
    before: str | None = Field(default=None, sa_column=Column(Text))
    after: str | None = Field(default=None, sa_column=Column(Text))


class Invite(SQLModel, table=True):
    """A single-use personal invite; only a hash of its code is kept."""

    id: int | None = Field(default=None, primary_key=True)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class ChatState(SQLModel, table=True):
    """Where a person stands in a conversation, saved with the data each step collects."""

    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    user_id: int = Field(sa_type=BigInteger)
    officer_id: int | None = Field(default=None, foreign_key="officer.id")
    language: str = Field(default="vi", max_length=8)
    flow: str | None = Field(default=None, max_length=16)
    step: str | None = Field(default=None, max_length=16)
    period_id: int | None = Field(default=None, foreign_key="period.id")
    item_code: str | None = Field(default=None, max_length=32)
    pending: str | None = Field(default=None, sa_column=Column(Text))
    return_to: str | None = Field(default=None, max_length=16)
    nonce: str = Field(default="", max_length=12)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProcessedUpdate(SQLModel, table=True):
    """A delivered update already handled: a second delivery is ignored."""

    id: int | None = Field(default=None, primary_key=True)
    update_key: str = Field(max_length=64, unique=True)
    processed_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SentRef(SQLModel, table=True):
    """A message the bot sent and will edit later (e.g. a ballot's turnout in the group)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=96, unique=True)
    chat_id: int = Field(sa_type=BigInteger)
    message_id: int = Field(sa_type=BigInteger)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PublishedRanking(SQLModel, table=True):
    """A ranking as posted to the bloc's group: one row per publication of a period.

    `ranking_json` keeps what was published, so that publishing again can say
    what changed; `reopened_*` record why the leader reopened it.
    """

    __table_args__ = (UniqueConstraint("period_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id", index=True)
    version: int
    published_at: dt.datetime = Field(sa_type=UTCDateTime)
    published_by: str = Field(max_length=64)
    ranking_json: str = Field(sa_column=Column(Text, nullable=False))
    reopened_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    reopened_by: str | None = Field(default=None, max_length=64)
    reopen_reason: str | None = Field(default=None, sa_column=Column(Text))
