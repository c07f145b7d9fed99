"""Issue 16: a reader of the database during an open secret ballot cannot link a unit to its choice.

The reader is an adversary with SQL access who polls every table after every
vote (and, on SQLite, copies the database file with its `-wal`, as a backup
would). It pairs each new voter with any row that changed or appeared in the
same interval and holds one of the ballot's options as a value: exactly how the
counters of the old scheme (`ballot_tally`) gave away 5 of 5 choices. A control
test runs the same adversary against a ballot of the old scheme and must link
every vote, so the adversary is not blind.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, text
from sqlmodel import select

from bot.terminal import plain
from handlers.renderers.votes import minutes_count
from handlers.services.votes import vote_results
from storage.db import session_scope
from storage.models import Ballot, BallotBox, BallotTally
from storage.votes import BallotKind, create_ballot, get_ballot, record_secret_vote, unit_id_map
from tests.votes.helpers import GROUP, VOTING
from tests.votes.test_flow import Bloc

Snapshot = dict[str, dict[tuple[Any, ...], dict[str, Any]]]
VOTES = (("STTTT", "Đồng ý", "yes"), ("SXD", "Không đồng ý", "no"), ("SCT", "Đồng ý", "yes"),
         ("SGTVT", "Đồng ý", "yes"), ("STNMT", "Không đồng ý", "no"))


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every table, by primary key, read on a connection of its own (the poller's)."""
    tables: Snapshot = {}
    inspector = inspect(engine)
    keys = {name: inspector.get_pk_constraint(name)["constrained_columns"] for name in inspector.get_table_names()}
    with engine.connect() as connection:
        for name, key in keys.items():
            rows = connection.execute(text(f'SELECT * FROM "{name}"')).mappings()  # noqa: S608 (table names)
            tables[name] = {tuple(row[column] for column in key): dict(row) for row in rows}
    return tables


def sqlite_copy_snapshot(database: Path, folder: Path) -> Snapshot:
    """The tables as read from a file copy of a running SQLite database and its `-wal`."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "copy.db"
    for suffix in ("", "-wal"):
        source = Path(str(database) + suffix)
        if source.exists():
            shutil.copyfile(source, Path(str(copy) + suffix))
    connection = sqlite3.connect(copy)
    try:
        tables: Snapshot = {}
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for name in names:
            cursor = connection.execute(f'SELECT * FROM "{name}"')  # noqa: S608 (table names)
            columns = [column[0] for column in cursor.description]
            tables[name] = {(index,) + tuple(row): dict(zip(columns, row, strict=True))
                            for index, row in enumerate(cursor.fetchall())}
        return tables
    finally:
        connection.close()


def _changed_rows(before: Snapshot, after: Snapshot) -> list[dict[str, Any]]:
    rows = []
    for table, now in after.items():
        earlier = before.get(table, {})
        rows.extend(row for key, row in now.items() if earlier.get(key) != row)
    return rows


def link(snapshots: list[Snapshot], options: tuple[str, ...]) -> list[str | None]:
    """The adversary: for each vote, the one option found in the rows that changed with it (else None)."""
    guesses: list[str | None] = []
    for before, after in zip(snapshots, snapshots[1:], strict=False):
        found = {value for row in _changed_rows(before, after) for value in row.values() if value in options}
        guesses.append(found.pop() if len(found) == 1 else None)
    return guesses


def _sqlite_file(engine: Engine) -> Path | None:
    database = engine.url.database
    return Path(database) if engine.dialect.name == "sqlite" and database else None


def test_a_poller_cannot_link_any_unit_to_its_secret_choice(engine: Engine, tmp_path: Path) -> None:
    bloc = Bloc(engine)
    bloc.open("Mở phiếu suy tôn")
    snapshots, copies, receipts, sealed_lengths = [snapshot(engine)], [], [], set()
    database = _sqlite_file(engine)
    if database is not None:
        copies.append(sqlite_copy_snapshot(database, tmp_path / "0"))
    for number, (unit, label, choice) in enumerate(VOTES, start=1):
        bloc.press(unit, label)
        confirmed = bloc.people[unit].press("Xác nhận")
        shown = plain(confirmed.replies[0].text)
        assert "Mã xác nhận phiếu:" in shown, "the voter is shown a receipt code once"
        receipts.append(shown.split("Mã xác nhận phiếu:")[1].split()[0])
        snapshots.append(snapshot(engine))
        if database is not None:
            copies.append(sqlite_copy_snapshot(database, tmp_path / str(number)))
        boxes = snapshots[-1]["ballot_box"]
        assert len(boxes) == number
        sealed_lengths |= {len(row["sealed"]) for row in boxes.values()}
        everything = repr(snapshots[-1])
        assert receipts[-1] not in everything, "the receipt is shown to the voter and stored nowhere in clear"
        assert choice not in {value for row in _changed_rows(snapshots[-2], snapshots[-1]) for value in row.values()}
    assert link(snapshots, ("yes", "no")) == [None] * len(VOTES), "no vote is linked to its choice"
    if database is not None:
        assert link(copies, ("yes", "no")) == [None] * len(VOTES), "nor from a copy of the file and its -wal"
    assert len(sealed_lengths) == 1, "every sealed box has the same length, whatever was chosen"
    assert snapshots[-1]["ballot_tally"] == {}, "no counter is kept while the ballot is open"

    # The last two units vote; the ballot closes and the box is counted, its receipts published.
    for unit, label in (("SKHCN", "Đồng ý"), ("SNNPTNT", "Đồng ý")):
        bloc.press(unit, label)
        last = bloc.people[unit].press("Xác nhận")
        receipts.append(plain(last.replies[0].text).split("Mã xác nhận phiếu:")[1].split()[0])
    result = "\n".join(plain(reply.text) for reply in last.replies if reply.chat_id == f"telegram:{GROUP}")
    assert "Đồng ý: 5 · Không đồng ý: 2" in result
    assert f"Mã xác nhận của các phiếu đã kiểm (7): {', '.join(sorted(receipts))}" in result
    with session_scope(engine) as session:
        minutes = minutes_count(vote_results(session=session, bloc_id=1, year=2018)[0])
    assert minutes[:4] == [
        "Số phiếu phát ra: 7; số phiếu thu về: 7; số phiếu hợp lệ: 7; số phiếu không hợp lệ: 0.",
        "Đồng ý: 5 phiếu, đạt 71,43% số đơn vị thành viên",
        "Không đồng ý: 2 phiếu, đạt 28,57% số đơn vị thành viên",
        "Đối chiếu danh sách đơn vị bỏ phiếu: khớp (7/7 đơn vị).",
    ]
    assert minutes[4] == f"Mã xác nhận của các phiếu đã kiểm: {', '.join(sorted(receipts))}."


def test_the_adversary_links_every_vote_of_the_old_counters(engine: Engine, tmp_path: Path) -> None:
    """Control: a ballot of the old scheme (counters updated per vote) is linked 5 of 5."""
    Bloc(engine)
    with session_scope(engine) as session:
        ballot = create_ballot(
            session=session, bloc_id=1, year=2018, kind=BallotKind.acclaim, round=9, secret=True,
            subject_unit_id=None, candidates=("STTTT",), members=tuple(unit for unit, _, _ in VOTES),
            rules_json="{}", opened_at=VOTING, opened_by="test", closes_at=VOTING + dt.timedelta(hours=48),
            remind_at=VOTING + dt.timedelta(hours=36))
        assert ballot is not None
        row = session.get(Ballot, ballot.id)
        assert row is not None
        row.seal_public_key = row.seal_salt = None  # as opened before migration 0010
        session.add(row)
        for option in ("yes", "no"):
            session.add(BallotTally(ballot_id=ballot.id, choice=option, votes=0))
        ids = unit_id_map(session=session, bloc_id=1)
    snapshots = [snapshot(engine)]
    database = _sqlite_file(engine)
    copies = [sqlite_copy_snapshot(database, tmp_path / "0")] if database else []
    for number, (unit, _, choice) in enumerate(VOTES, start=1):
        with session_scope(engine) as session:
            assert record_secret_vote(session=session, ballot_id=ballot.id, unit_id=ids[unit], choice=choice)
        snapshots.append(snapshot(engine))
        if database is not None:
            copies.append(sqlite_copy_snapshot(database, tmp_path / str(number)))
    assert link(snapshots, ("yes", "no")) == [choice for _, _, choice in VOTES]
    if database is not None:
        assert link(copies, ("yes", "no")) == [choice for _, _, choice in VOTES]


def test_a_forged_or_copied_box_is_invalid_and_the_roll_check_says_so(engine: Engine) -> None:
    """A database writer knows the public key, not the secret: a box it seals, or a copy, is no vote."""
    from storage import sealing

    bloc = Bloc(engine)
    bloc.open("Mở phiếu suy tôn")
    bloc.press("SXD", "Không đồng ý")
    bloc.people["SXD"].press("Xác nhận")
    with session_scope(engine) as session:
        ballot_row = session.exec(select(Ballot)).one()
        ballot = get_ballot(session=session, ballot_id=ballot_row.id or 0)
        assert ballot is not None and ballot.seal_key is not None
        genuine = session.exec(select(BallotBox)).one()
        # What a writer without the secret can make: a sealed box to the public key, with a made-up tag.
        from nacl.encoding import HexEncoder
        from nacl.public import PublicKey, SealedBox

        fake = b'{"b":%d,"c":"yes","r":"AAAAA-AAAAA","t":"00"}' % ballot.id
        forged = SealedBox(PublicKey(ballot.seal_key.public_key.encode(), encoder=HexEncoder)).encrypt(
            fake.ljust(sealing.PAYLOAD_BYTES))
        session.add(BallotBox(slot="f" * 32, ballot_id=ballot.id, sealed=forged))
        session.add(BallotBox(slot="c" * 32, ballot_id=ballot.id, sealed=genuine.sealed))
    bloc.lead.command("vote")
    bloc.lead.press("Đóng sớm: suy tôn")
    closing = bloc.lead.press("Đóng phiếu ngay")
    result = "\n".join(plain(reply.text) for reply in closing.replies if reply.chat_id == f"telegram:{GROUP}")
    assert "Đồng ý: 0 · Không đồng ý: 1" in result
    assert "Số phiếu trong hòm (3) không khớp với số đơn vị đã bỏ phiếu (1)" in result
    with session_scope(engine) as session:
        stored = session.exec(select(Ballot)).one()
        assert stored.result_json is not None and '"invalid": 2' in stored.result_json
