"""SQLModel tables. The schema itself is created only by the Alembic migrations.

The validated configuration file is kept whole in `BlocConfigText` (the pact's
rules are data the scoring reads); units, officers, periods, criteria and
indicators are also kept as rows so that results, invites and chat state can
refer to them with foreign keys.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, Column, LargeBinary, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from storage.types import DecimalText, UTCDateTime


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def stored_id(row: SQLModel) -> int:
    """The primary key of a row read from (or flushed to) the database.

    SQLModel types `id` as optional because a new row has none until it is
    flushed; every row a query returns has one, so a missing id is a bug here.
    """
    row_id = getattr(row, "id", None)
    if not isinstance(row_id, int):
        raise ValueError(f"{type(row).__name__} has no id yet: flush it first")
    return row_id


class SubmissionStatus(StrEnum):
    """Where a unit's report for a period stands."""

    not_started = "not_started"
    in_progress = "in_progress"
    submitted = "submitted"
    returned = "returned"
    accepted = "accepted"


class Bloc(SQLModel, table=True):
    """A bloc; `config_hash` is the SHA-256 of its configuration's text (in `BlocConfigText`)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str
    province: str
    timezone: str = Field(max_length=64)
    language: str = Field(max_length=8)
    config_hash: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BlocConfigText(SQLModel, table=True):
    """A bloc's whole validated configuration, as JSON text.

    A row of its own: the text grows with the bloc (109 KB at 200 units, 2,7 MB
    at 4.000), and every turn reads the bloc's row. SQLite keeps a long value in
    the row's chain of overflow pages, and a column after it is found only by
    walking that chain (1 ms per read at 4.000 units; docs/performance.md).
    """

    __tablename__ = "bloc_config_text"

    bloc_id: int = Field(foreign_key="bloc.id", primary_key=True)
    config_json: str = Field(sa_column=Column(Text, nullable=False))


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
    language: str = Field(default="vi", max_length=8)
    active: bool = True
    # The channel the bot writes to first (reminders, ballots, review notices, group posts in private)
    # when the officer has an account there; None: the channel they used last (storage.roles.officer_addresses).
    preferred_channel: str | None = Field(default=None, max_length=16)


class OfficerAccount(SQLModel, table=True):
    """A person's account on one channel, linked to an officer by an invite.

    The platform's id is a string (Telegram's integer ids, Zalo's string ids).
    An officer has at most one account per channel; an account belongs to one officer.
    """

    __tablename__ = "officer_account"
    __table_args__ = (UniqueConstraint("channel", "external_id"), UniqueConstraint("channel", "officer_id"))

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    linked_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The command menu last owed to this chat (`leading:vi`), so it is set again only when it changes.
    menu: str | None = Field(default=None, max_length=16)
    # The bot of the channel the person talks to (a deployment may run several): what is owed
    # to them goes through it. None: the bot the bloc's file names, else the channel's first.
    bot: str | None = Field(default=None, max_length=64)

    @property
    def address(self) -> str:
        """Where the officer is reached on this channel: `<channel>:<platform id>` (handlers.chat.address)."""
        return f"{self.channel}:{self.external_id}"


class BlocGroup(SQLModel, table=True):
    """A bloc's group chat on one channel, bound by its leader with /bind."""

    __tablename__ = "bloc_group"

    bloc_id: int = Field(foreign_key="bloc.id", primary_key=True)
    channel: str = Field(max_length=16, primary_key=True)
    chat_id: str = Field(max_length=64)
    bound_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    bot: str | None = Field(default=None, max_length=64)  # the bot that is in the group (as for accounts)
    # When the platform refused a post to the group for good (the bot is not in it, or may not post):
    # the bloc's group posts then go to each unit's officers in private (storage/groups.py).
    refused_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def address(self) -> str:
        """The group's address, `<channel>:<platform id>` (handlers.chat.address)."""
        return f"{self.channel}:{self.chat_id}"


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
    file_id: str | None = None  # the channel's id of the file, to send it again
    file_name: str | None = None
    file_size: int | None = None
    note: str | None = None
    channel: str | None = Field(default=None, max_length=16)  # where file_id is valid (None: a note)
    is_photo: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
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
    replaced_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)  # a newer code was issued
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)  # shown in a group chat


class StartAttempt(SQLModel, table=True):
    """Wrong invite codes from one chat account: counted in the database, so restarts and replicas share it."""

    __tablename__ = "start_attempt"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    failures: int = 0  # wrong codes in a row, since the last pause or success
    last_failed_at: dt.datetime = Field(sa_type=UTCDateTime)
    paused_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class ChatState(SQLModel, table=True):
    """Where a person stands in a conversation, saved with the data each step collects."""

    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    user_id: str = Field(max_length=64)
    officer_id: int | None = Field(default=None, foreign_key="officer.id")
    language: str = Field(default="vi", max_length=8)
    flow: str | None = Field(default=None, max_length=16)
    nonce: str = Field(default="", max_length=12)
    # The flow's typed state (handlers.flow.FlowState) as JSON; None outside a flow.
    flow_state: str | None = Field(default=None, sa_column=Column(Text))
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InboxMessage(SQLModel, table=True):
    """An update as the platform delivered it, kept before it is acknowledged.

    The platform is told an update arrived (the next polling offset, a webhook's
    200) only once this row is committed; the turn that handles it marks it
    processed in its own transaction. (channel, bot, update id) is the key of a
    delivery: a second delivery of the same update inserts nothing. `payload` is
    the neutral `Incoming` as JSON; `chat_key` orders one chat's updates.
    """

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "bot", "update_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    bot: str = Field(max_length=64)
    update_id: str = Field(max_length=64)
    chat_key: str = Field(max_length=160, index=True)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    received_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    processed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    outcome: str | None = Field(default=None, max_length=16)  # "done", "duplicate", "failed"


class OutboxMessage(SQLModel, table=True):
    """A message the bot owes, written in the transaction that decided it.

    A sender delivers the rows of one chat in order (`id`), one at a time: it
    leases the head of the chat's queue (`leased_until`), sends, and records
    the answer: delivered, blocked by the person, refused, or retry at
    `next_attempt_at`. A lease that runs out (its process died) is taken again.
    """

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    bot: str = Field(max_length=64)
    chat_key: str = Field(max_length=160, index=True)
    chat_id: str = Field(max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default="pending", max_length=16, index=True)
    attempts: int = Field(default=0)
    next_attempt_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    leased_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_column=Column(Text))
    edit_key: str | None = Field(default=None, max_length=96, index=True)


class OfferedOptions(SQLModel, table=True):
    """The options last offered in a chat of a channel without buttons: typing "2" picks the second."""

    __tablename__ = "offered_options"

    chat_key: str = Field(max_length=160, primary_key=True)
    options_json: str = Field(sa_column=Column(Text, nullable=False))
    offered_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SendBudget(SQLModel, table=True):
    """Messages sent in one window (a second per bot, a minute per group), for all processes together."""

    __tablename__ = "send_budget"

    scope: str = Field(max_length=160, primary_key=True)
    window: int = Field(primary_key=True, sa_type=BigInteger)
    used: int = Field(default=0)


class SentRef(SQLModel, table=True):
    """A message the bot sent and will edit later (e.g. a ballot's turnout in the group)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=96, unique=True)
    chat_id: str = Field(max_length=64)
    message_id: str = Field(max_length=64)
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


class ReminderLog(SQLModel, table=True):
    """The sent-log of the scheduler: one row per message, written before it goes out.

    The key (period, unit, kind, days before, deadline, recipient) is unique, so a
    message is claimed by one process once; `status` goes from `sending` to
    `delivered`, `blocked` (403: the officer blocked the bot) or `failed`. A row left
    at `sending` by a crash is never sent again (at-most-once).
    """

    __table_args__ = (
        UniqueConstraint("period_id", "unit_id", "kind", "days_before", "deadline", "officer_id",
                         name="uq_reminderlog_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    period_id: int = Field(foreign_key="period.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    kind: str = Field(max_length=16)
    days_before: int
    deadline: dt.datetime = Field(sa_type=UTCDateTime)
    officer_id: int = Field(foreign_key="officer.id")
    channel: str = Field(default="telegram", max_length=16)
    chat_id: str = Field(max_length=64)
    status: str = Field(default="sending", max_length=16)
    slot_at: dt.datetime = Field(sa_type=UTCDateTime)
    claimed_at: dt.datetime = Field(sa_type=UTCDateTime)
    claimed_by: str = Field(max_length=64)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, max_length=200)


class Ballot(SQLModel, table=True):
    """A ballot of a bloc's year: the acclaim of the leading unit, or next year's leader or deputy.

    A runoff or a repeated ballot is a new row with the next `round`; the UNIQUE
    (bloc, year, kind, round) lets only one of two leaders opening it at once in.
    `candidates` and `members` (JSON lists of unit codes) and `rules_json` are
    frozen when the ballot opens, so a configuration changed meanwhile does not
    change a running ballot. `token` goes into the voters' buttons, which are sent
    to chats that may be in the middle of another step and so cannot use the chat
    state's nonce: a forged button, or one of another ballot, lacks it.
    """

    __tablename__ = "ballot"
    __table_args__ = (UniqueConstraint("bloc_id", "year", "kind", "round", name="uq_ballot_round"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    year: int
    kind: str = Field(max_length=16)
    round: int = 1
    secret: bool = True
    token: str = Field(max_length=16)
    subject_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    candidates: str = Field(sa_column=Column(Text, nullable=False))
    members: str = Field(sa_column=Column(Text, nullable=False))
    rules_json: str = Field(sa_column=Column(Text, nullable=False))
    opened_at: dt.datetime = Field(sa_type=UTCDateTime)
    opened_by: str = Field(max_length=64)
    closes_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    remind_at: dt.datetime = Field(sa_type=UTCDateTime)
    reminded_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=64)
    outcome: str | None = Field(default=None, max_length=24)
    result_json: str | None = Field(default=None, sa_column=Column(Text))
    winner_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    # A secret ballot's sealing key (see `BallotBox`): the public half, and the random salt
    # from which the server's ballot secret derives the private half at closing time. Both
    # None for a ballot opened before migration 0010 (counted from `BallotTally`).
    seal_public_key: str | None = Field(default=None, max_length=64)
    seal_salt: str | None = Field(default=None, max_length=64)


class BallotVoter(SQLModel, table=True):
    """That a unit has voted in a ballot, and nothing about how.

    The UNIQUE (ballot_id, unit_id) is what makes it one unit, one vote: the
    database refuses a second row, whichever officer of the unit and however
    close together the two presses come. Which officer pressed is not kept here.
    """

    __tablename__ = "ballot_voter"
    __table_args__ = (UniqueConstraint("ballot_id", "unit_id", name="uq_ballot_voter_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")


class BallotTally(SQLModel, table=True):
    """The running count of one option of a secret ballot opened before migration 0010.

    Superseded by :class:`BallotBox`: a reader who polls this table and
    `ballot_voter` while a ballot is open sees which counter grew with which
    voter (issue 16). Kept only so that a ballot opened under the old scheme
    is still counted; no new ballot writes here. What follows is how it worked.

    Who voted (`ballot_voter`) and what was chosen (this table) cannot be joined:

    - there is no row per vote, so no key, timestamp or insertion order can pair
      a choice with a voter. A row per vote with a random UUID key would still
      leak: SQLite keeps a hidden `rowid` in insertion order, and PostgreSQL marks
      every row with the id of the transaction that wrote it (`xmin`), the same
      for the voter row and the choice row written together;
    - the counters are created, all at zero, when the ballot opens, and every vote
      rewrites every counter of its ballot in one statement (the chosen one + 1,
      the others + 0), so on PostgreSQL all of them carry the last vote's
      transaction id, not only the one that changed; there is no `updated_at`;
    - the person's chat state never holds a pending choice (the choice rides in the
      confirm button), and the audit trail records that a unit voted, not how.

    What it does not defend against: someone with access to the database server
    itself, below SQL, while or soon after votes arrive (its statement log, its
    write-ahead log, SQLite's `-wal` file, the old row versions PostgreSQL keeps
    until VACUUM) can see each vote come in; that server must be trusted, as a
    ballot box's keeper is. The counts are read only once the ballot is closed.
    """

    __tablename__ = "ballot_tally"
    __table_args__ = (UniqueConstraint("ballot_id", "choice", name="uq_ballot_tally_choice"),)

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    choice: str = Field(max_length=32)
    votes: int = 0


class OpenVote(SQLModel, table=True):
    """A unit's choice in an open ballot (the bloc's rules made it public); it may change until closing."""

    __tablename__ = "open_vote"
    __table_args__ = (UniqueConstraint("ballot_id", "unit_id", name="uq_open_vote_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    officer_id: int = Field(foreign_key="officer.id")
    choice: str = Field(max_length=32)
    voted_at: dt.datetime = Field(sa_type=UTCDateTime)


class BallotBox(SQLModel, table=True):
    """One sealed ballot of a secret ballot: the box the counting committee opens at closing.

    Nothing in a row can be read without the server's ballot secret, and nothing
    in it or about it depends on the choice in a readable way:

    - `sealed` is libsodium's sealed box (X25519 + XSalsa20-Poly1305, PyNaCl) of a
      fixed-length payload (the choice, the voter's receipt code, an
      authentication tag), encrypted to the ballot's public key; the private half
      is derived from the server's secret and the ballot's salt only at closing
      (`storage/sealing.py`), so a reader of the database, its backups or its
      `-wal` file, polling as often as they like, sees a voter row and an
      unreadable box of the same length whatever was chosen;
    - `slot` is random (not an insertion order), there is no timestamp, and on
      SQLite the table is `WITHOUT ROWID`, so the rows are kept in the order of
      their random keys, not of arrival;
    - no counter is updated per vote: the boxes are opened and counted once, when
      the ballot closes.

    A reader can still tell *which box* arrived with which voter (same
    transaction, same PostgreSQL `xmin`, same WAL frame); that is why the box
    itself must be unreadable. See docs/security.md for who can learn what.
    """

    __tablename__ = "ballot_box"
    __table_args__ = {"sqlite_with_rowid": False}

    slot: str = Field(primary_key=True, max_length=32)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class WebLink(SQLModel, table=True):
    """A personal link to the web pages (bot/web/), for a person without Telegram's Mini App.

    The link itself is signed (bot/web/auth.py) and names this row; the row says
    whose it is, until when it works, and whether it was revoked. A browser that
    opened it holds a session cookie naming the same row, so revoking the row
    ends the session too.
    """

    __tablename__ = "web_link"

    id: int | None = Field(default=None, primary_key=True)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_to: str | None = Field(default=None, max_length=80)  # the address the bot sent it to


class OutboundUsage(SQLModel, table=True):
    """Messages one bot sent in one calendar month (UTC), counted by every process.

    Zalo's plans cap a bot's outbound messages a month; `near_told_at` and
    `exceeded_told_at` record that the leader unit was told (once each month).
    """

    __tablename__ = "outbound_usage"
    __table_args__ = (UniqueConstraint("channel", "bot", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    bot: str = Field(max_length=64)
    month: str = Field(max_length=7)  # "2019-01"
    messages: int = 0
    near_told_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    exceeded_told_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class BoardLink(SQLModel, table=True):
    """A personal link of a provincial board member (Ban Thi đua – Khen thưởng) to the overview.

    Board members are not officers of any bloc: the row names the person, says
    until when the link works and whether it was revoked, and the language the
    overview is shown in (Vietnamese unless the operator chose English). Signed
    like a `WebLink` (bot/web/auth.py) under purposes of its own.
    """

    __tablename__ = "board_link"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    language: str = Field(default="vi", max_length=8)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class BotProfile(SQLModel, table=True):
    """What a platform said about one bot at its last start (`getMe`): whether it may join groups.

    Kept in the database, so every process (and a turn on another channel's process) knows
    that a Zalo bot cannot be in the bloc's group and that its group posts go in private.
    """

    __tablename__ = "bot_profile"

    channel: str = Field(max_length=16, primary_key=True)
    bot: str = Field(max_length=64, primary_key=True)
    can_join_groups: bool = True
    checked_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class GroupNotice(SQLModel, table=True):
    """The leader unit was told, once, why a bloc's group posts go to each unit in private."""

    __tablename__ = "group_notice"

    bloc_id: int = Field(foreign_key="bloc.id", primary_key=True)
    reason: str = Field(max_length=16, primary_key=True)  # cannot_join, refused, no_group
    told_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
