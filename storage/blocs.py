"""Loading a bloc configuration into the database, and reading it back."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction, aliased
from sqlmodel import Session, SQLModel, col, select

from rules.config import BlocConfig, CriterionKind, Window
from storage.audit import record
from storage.models import (
    Bloc,
    BlocConfigText,
    BlocGroup,
    Criterion,
    Indicator,
    Officer,
    Period,
    Unit,
    YearRoles,
    utcnow,
)

RowT = TypeVar("RowT", bound=SQLModel)
# Parts of the configuration kept as rows, audited row by row.
ROW_PARTS = frozenset({"bloc", "units", "officers", "periods", "indicators"})


class LoadError(Exception):
    """The configuration cannot be applied to what the database already holds."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class LoadSummary:
    """What loading a configuration did."""

    bloc_code: str
    created: bool
    changes: list[str] = field(default_factory=list)


def config_to_json(config: BlocConfig) -> str:
    """The canonical JSON text of a configuration (read back with `context={'stored': True}`)."""
    return config.model_dump_json()


def config_from_json(text: str) -> BlocConfig:
    """Read a configuration stored by :func:`config_to_json`."""
    return BlocConfig.model_validate_json(text, context={"stored": True})


# Parsed configurations by the SHA-256 of their text (`Bloc.config_hash`): a turn
# reads the bloc's row with that hash, and the text (`BlocConfigText`, 2,7 MB at
# 4.000 units) only when this process has not parsed it yet (bench/scale.py: 14,5
# ms of CPU per turn at 4.000 units before, against 4,0 at 30). Keyed by content,
# not by bloc id and a counter, so that two databases in one process (tests,
# benchmarks) cannot mix them up. Models are frozen, so one parse is shared.
_PARSED: dict[str, BlocConfig] = {}
_PARSED_KEPT = 64
_PARSED_GUARD = threading.Lock()  # turns on PostgreSQL and the scheduler use worker threads


def bloc_config_of(*, session: Session, bloc: Bloc) -> BlocConfig:
    """A bloc row's configuration, its text read and parsed once per process and text."""
    config = _PARSED.get(bloc.config_hash)
    if config is None:
        stored = session.get(BlocConfigText, bloc.id)
        if stored is None:
            raise RuntimeError(f"bloc {bloc.code} has no configuration text")
        config = config_from_json(stored.config_json)
        with _PARSED_GUARD:
            if len(_PARSED) >= _PARSED_KEPT:
                del _PARSED[next(iter(_PARSED))]  # the oldest; a province has a few dozen blocs
            _PARSED[bloc.config_hash] = config
    return config


def _local_to_utc(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)


def _window(window: Window | None, zone: ZoneInfo) -> tuple[dt.datetime | None, dt.datetime | None]:
    if window is None:
        return None, None
    return _local_to_utc(window.opens, zone), _local_to_utc(window.deadline, zone)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


@dataclass
class _Sync:
    """Brings rows of one bloc in line with the configuration, auditing every change."""

    session: Session
    actor: str
    bloc_id: int | None
    summary: LoadSummary

    def rows(
        self,
        *,
        model: type[RowT],
        existing: dict[str, RowT],
        wanted: dict[str, dict[str, Any]],
        what: str,
        key_field: str | None = "code",
    ) -> dict[str, RowT]:
        """Create or update rows so that they hold `wanted`."""
        rows: dict[str, RowT] = {}
        for key, values in wanted.items():
            row = existing.get(key)
            after = {name: _plain(value) for name, value in values.items()}
            if row is None:
                keyed = {key_field: key} if key_field else {}
                row = model(bloc_id=self.bloc_id, **keyed, **values)
                self.session.add(row)
                self.changed(f"{what} {key}: added", f"{what}.add", key, None, after)
            else:
                before = {name: _plain(getattr(row, name)) for name in values}
                if before != after:
                    for name, value in values.items():
                        setattr(row, name, value)
                    self.session.add(row)
                    changed = sorted(name for name in values if before[name] != after[name])
                    self.changed(f"{what} {key}: {', '.join(changed)} changed", f"{what}.update", key,
                                 {name: before[name] for name in changed},
                                 {name: after[name] for name in changed})
            rows[key] = row
        self.session.flush()
        return rows

    def changed(self, line: str, action: str, target: str, before: Any, after: Any) -> None:
        """Note one change in the summary and the audit trail."""
        self.summary.changes.append(line)
        record(session=self.session, actor=self.actor, bloc_id=self.bloc_id, action=action,
               target=target, before=before, after=after)


def _period_values(config: BlocConfig) -> dict[str, dict[str, Any]]:
    """Each period's row values (deadlines in UTC), keyed by `year kind`."""
    zone = config.zone()
    values: dict[str, dict[str, Any]] = {}
    for period in config.periods:
        reporting_opens, reporting_deadline = _window(period.reporting, zone)
        review_opens, review_deadline = _window(period.review, zone)
        votes_opens, votes_deadline = _window(period.votes, zone)
        values[f"{period.year} {period.kind.value}"] = {
            "year": period.year, "kind": period.kind.value,
            "reporting_opens": reporting_opens, "reporting_deadline": reporting_deadline,
            "review_opens": review_opens, "review_deadline": review_deadline,
            "votes_opens": votes_opens, "votes_deadline": votes_deadline,
        }
    return values


def load_bloc(*, session: Session, config: BlocConfig, actor: str) -> LoadSummary:
    """Create or update a bloc from its configuration; a same file twice changes nothing."""
    text = config_to_json(config)
    digest = hashlib.sha256(text.encode()).hexdigest()
    bloc = session.exec(select(Bloc).where(Bloc.code == config.bloc.code)).first()
    summary = LoadSummary(bloc_code=config.bloc.code, created=bloc is None)
    if bloc is not None and bloc.config_hash == digest:
        return summary
    stored = session.get(BlocConfigText, bloc.id) if bloc is not None else None
    previous = stored.config_json if stored is not None else None
    values = {
        "name": config.bloc.name,
        "province": config.bloc.province,
        "timezone": config.bloc.timezone,
        "language": config.bloc.language,
    }
    if bloc is None:
        bloc = Bloc(code=config.bloc.code, config_hash=digest, name=config.bloc.name,
                    province=config.bloc.province, timezone=config.bloc.timezone,
                    language=config.bloc.language)
        session.add(bloc)
        session.flush()
        summary.changes.append(f"bloc {config.bloc.code}: added")
        record(session=session, actor=actor, bloc_id=bloc.id, action="bloc.add",
               target=config.bloc.code, before=None, after=values)
    else:
        before = {name: getattr(bloc, name) for name in values}
        if before != values:
            summary.changes.append(f"bloc {config.bloc.code}: details changed")
            record(session=session, actor=actor, bloc_id=bloc.id, action="bloc.update",
                   target=config.bloc.code, before=before, after=values)
        for name, value in values.items():
            setattr(bloc, name, value)
        bloc.config_hash, bloc.updated_at = digest, utcnow()
        session.add(bloc)
        session.flush()
    if not (bloc.id is not None):
        raise RuntimeError('invariant broken: bloc.id is not None')
    bloc_id = bloc.id
    if stored is None:
        stored = BlocConfigText(bloc_id=bloc_id, config_json=text)
    else:
        stored.config_json = text
    session.add(stored)
    sync = _Sync(session=session, actor=actor, bloc_id=bloc_id, summary=summary)

    old_units = {row.code: row for row in session.exec(select(Unit).where(Unit.bloc_id == bloc_id))}
    gone = sorted(set(old_units) - {unit.code for unit in config.units})
    if gone:
        raise LoadError([
            f"units: {code} is in the database but not in the file; keep it and set its "
            "valid_to date instead (past years keep their members)"
            for code in gone
        ])
    units = sync.rows(
        model=Unit, existing=old_units, what="unit",
        wanted={
            unit.code: {"name": unit.name, "short_name": unit.short_name,
                        "valid_from": unit.valid_from, "valid_to": unit.valid_to}
            for unit in config.units
        },
    )
    unit_ids = {code: row.id for code, row in units.items()}

    old_officers = {row.code: row for row in session.exec(select(Officer).where(Officer.bloc_id == bloc_id))}
    sync.rows(
        model=Officer, existing=old_officers, what="officer",
        wanted={
            officer.code: {
                "name": officer.name, "unit_id": unit_ids[officer.unit], "role": officer.role.value,
                "voter": officer.votes_for_unit, "phone": officer.phone,
                "telegram_username": officer.telegram_username, "active": True,
            }
            for officer in config.officers
        },
    )
    for code in sorted(set(old_officers) - {officer.code for officer in config.officers}):
        row = old_officers[code]
        if row.active:
            row.active = False
            session.add(row)
            sync.changed(f"officer {code}: deactivated", "officer.deactivate", code,
                         {"active": True}, {"active": False})

    old_periods = {
        f"{row.year} {row.kind}": row for row in session.exec(select(Period).where(Period.bloc_id == bloc_id))
    }
    wanted_periods = _period_values(config)
    if previous is not None:
        # A deadline the leader moved in chat stays moved: only what the file itself
        # changed since it was last loaded is applied to an existing period.
        loaded_before = _period_values(config_from_json(previous))
        for key, values in wanted_periods.items():
            if key in old_periods and key in loaded_before:
                wanted_periods[key] = {name: value for name, value in values.items()
                                       if loaded_before[key].get(name) != value}
    sync.rows(model=Period, existing=old_periods, what="period", wanted=wanted_periods, key_field=None)

    old_criteria = {row.code: row for row in session.exec(select(Criterion).where(Criterion.bloc_id == bloc_id))}
    wanted_criteria: dict[str, dict[str, Any]] = {}
    for position, criterion in enumerate(config.pact.criteria()):
        section = config.pact.section_of(criterion.code)
        wanted_criteria[criterion.code] = {
            "section_code": section.code if section else None, "name": criterion.name,
            "kind": criterion.kind.value, "max_points": criterion.max, "position": position,
        }
    old_indicators = {row.code: row for row in session.exec(select(Indicator).where(Indicator.bloc_id == bloc_id))}
    for code in sorted(set(old_indicators) - {indicator.code for indicator in config.indicators}):
        session.delete(old_indicators.pop(code))
        sync.changed(f"indicator {code}: removed", "indicator.remove", code, {"code": code}, None)
    session.flush()
    criteria = sync.rows(model=Criterion, existing=old_criteria, what="criterion", wanted=wanted_criteria)
    sync.rows(
        model=Indicator, existing=old_indicators, what="indicator",
        wanted={
            indicator.code: {
                "unit_id": unit_ids[indicator.unit], "criterion_id": criteria[indicator.criterion].id,
                "text": indicator.text, "measure": indicator.measure, "target": indicator.target,
                "direction": indicator.direction.value, "position": position,
            }
            for position, indicator in enumerate(config.indicators)
        },
    )
    for code in sorted(set(old_criteria) - set(wanted_criteria)):
        session.delete(old_criteria[code])
        sync.changed(f"criterion {code}: removed", "criterion.remove", code, {"code": code}, None)

    old_roles = {
        str(row.year): row for row in session.exec(select(YearRoles).where(YearRoles.bloc_id == bloc_id))
    }
    wanted_roles = {
        str(year): {"year": year, "leader_unit_id": unit_ids[config.roles.leader],
                    "deputy_unit_id": unit_ids[config.roles.deputy], "source": "config"}
        for year in sorted({period.year for period in config.periods})
        # An elected result for a year is not overwritten by the file.
        if str(year) not in old_roles or old_roles[str(year)].source == "config"
    }
    sync.rows(model=YearRoles, existing=old_roles, what="roles", wanted=wanted_roles, key_field=None)
    if previous is not None:
        # Rules kept only in the configuration (scoring rules, caps, awards, votes,
        # tie-breaks, bands...) are audited per top-level part that changed.
        old_parts, new_parts = json.loads(previous), json.loads(text)
        for part in sorted(set(old_parts) | set(new_parts)):
            if old_parts.get(part) != new_parts.get(part) and part not in ROW_PARTS:
                sync.changed(f"configuration {part}: changed", "config.update", part,
                             old_parts.get(part), new_parts.get(part))
    session.flush()
    return summary


@dataclass(frozen=True)
class BlocRef:
    """A bloc's id, code and configuration, detached from any session."""

    id: int
    code: str
    config: BlocConfig
    group_chat_id: str | None  # the address of the bloc's group, the one bound last (`<channel>:<id>`)


def _ref(session: Session, bloc: Bloc, group: str | None) -> BlocRef | None:
    if bloc.id is None:
        return None
    return BlocRef(id=bloc.id, code=bloc.code, config=bloc_config_of(session=session, bloc=bloc),
                   group_chat_id=group)


def _group_of(session: Session, bloc: Bloc) -> str | None:
    group = session.exec(select(BlocGroup).where(BlocGroup.bloc_id == bloc.id)
                         .order_by(col(BlocGroup.bound_at).desc()).limit(1)).first()
    return group.address if group is not None else None


# A bloc's group bound last, as a join condition: a bloc read with other rows (an officer's,
# storage/chat.py) brings its group in the same statement.
_LATEST = aliased(BlocGroup)
LATEST_GROUP = and_(
    col(BlocGroup.bloc_id) == Bloc.id,
    col(BlocGroup.channel) == select(_LATEST.channel).where(_LATEST.bloc_id == Bloc.id)
    .order_by(col(_LATEST.bound_at).desc()).limit(1).scalar_subquery())
# A bloc and the group bound last, in one statement.
_BLOC_AND_GROUP = (
    select(Bloc, BlocGroup.channel, BlocGroup.chat_id)
    .outerjoin(BlocGroup, LATEST_GROUP)
    .where(Bloc.id == bindparam("bloc_id"))
)
# A turn asks for its officer's bloc three or four times (the flow opening the report,
# the officer's form of address, the rehearsal mark), two statements each: the first
# answer is kept in the session for the rest of its transaction (bench/chat_process.py,
# docs/performance.md of 02/12/2026). Forgotten when the transaction ends, and when a
# bloc, its group or its configuration's text is written (flushed, or waiting to be),
# and when a savepoint ends (rolled back, it may have held such a write).
_REFS = "storage.blocs.refs"
_BLOC_ROWS = (Bloc, BlocGroup, BlocConfigText)


def _bloc_rows_written(session: OrmSession) -> bool:
    return any(isinstance(row, _BLOC_ROWS) for rows in (session.new, session.dirty, session.deleted)
               for row in rows)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_refs(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None or transaction.nested:  # not a flush's own inner transaction
        session.info.pop(_REFS, None)


@event.listens_for(OrmSession, "after_flush")
def _forget_written_refs(session: OrmSession, _context: object) -> None:
    if _REFS in session.info and _bloc_rows_written(session):  # still the flushed rows here
        del session.info[_REFS]


def bloc_by_id(*, session: Session, bloc_id: int) -> BlocRef | None:
    """The bloc with that id; its configuration's text is read and parsed only when it changed."""
    refs: dict[int, BlocRef | None] = session.info.get(_REFS, {})
    if bloc_id in refs and not _bloc_rows_written(session):
        return refs[bloc_id]
    found = session.exec(_BLOC_AND_GROUP, params={"bloc_id": bloc_id}).first()  # flushes what is written
    if found is None:
        session.info.setdefault(_REFS, {})[bloc_id] = None
        return None
    return keep_bloc(session, *found)


def keep_bloc(session: Session, bloc: Bloc, group_channel: str | None, group_chat_id: str | None) -> BlocRef | None:
    """A bloc read with its group bound last (`LATEST_GROUP`), kept for `bloc_by_id` in this transaction."""
    ref = _ref(session, bloc, f"{group_channel}:{group_chat_id}" if group_channel is not None else None)
    if bloc.id is not None and not _bloc_rows_written(session):
        session.info.setdefault(_REFS, {})[bloc.id] = ref
    return ref


def stored_bloc(*, session: Session, bloc_id: int) -> BlocRef:
    """A bloc that must exist: an officer's or a period's (their foreign keys hold it)."""
    bloc = bloc_by_id(session=session, bloc_id=bloc_id)
    if bloc is None:
        raise LookupError(f"no bloc {bloc_id}")
    return bloc


def find_bloc(*, session: Session, bloc_code: str | None) -> BlocRef | None:
    """The bloc with that code, or the only bloc when no code is given and there is one."""
    if bloc_code is None:
        blocs = list(session.exec(select(Bloc).order_by(col(Bloc.code)).limit(2)))
        bloc = blocs[0] if len(blocs) == 1 else None
    else:
        bloc = session.exec(select(Bloc).where(Bloc.code == bloc_code)).first()
    return None if bloc is None else _ref(session, bloc, _group_of(session, bloc))


def list_bloc_codes(*, session: Session) -> list[str]:
    """Codes of every bloc in the database."""
    return list(session.exec(select(Bloc.code).order_by(col(Bloc.code))))


def unit_ids_by_code(*, session: Session, bloc_id: int) -> dict[str, int]:
    """Map unit codes to ids for a bloc."""
    rows = session.exec(select(Unit.code, Unit.id).where(Unit.bloc_id == bloc_id))
    return {code: unit_id for code, unit_id in rows if unit_id is not None}


def unit_codes_by_id(*, session: Session, bloc_id: int) -> dict[int, str]:
    """Map unit ids to codes for a bloc."""
    return {unit_id: code for code, unit_id in unit_ids_by_code(session=session, bloc_id=bloc_id).items()}


def period_row(*, session: Session, bloc_id: int, year: int, kind: str) -> Period | None:
    """The stored period of a year and kind."""
    return session.exec(
        select(Period).where(Period.bloc_id == bloc_id, Period.year == year, Period.kind == kind)
    ).first()


def latest_year(*, session: Session, bloc_id: int) -> int | None:
    """The newest year with a period."""
    return session.exec(
        select(Period.year).where(Period.bloc_id == bloc_id).order_by(col(Period.year).desc())
    ).first()


def criterion_kinds(config: BlocConfig) -> dict[str, CriterionKind]:
    """Kind of every criterion code of a pact."""
    return {criterion.code: criterion.kind for criterion in config.pact.criteria()}


def dump(value: Any) -> str:
    """JSON text for audit details."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_plain)
