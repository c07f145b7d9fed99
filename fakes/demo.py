"""`python -m bot demo`: the seed year played offline through the real bot.

A fake Telegram Bot API server, a fresh SQLite database with the seed bloc,
the real python-telegram-bot Application polling the fake server; the seven
units' officers join with their invites and report the seed's results by chat;
the leader binds the group, reviews (changing one score with a reason), the
deputy reviews the leader's own unit, the leader publishes; the unit heads
acclaim the leading unit and elect next year's leader and deputy. The clock
starts on 5 January 2019, inside the seed's reporting window.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.text import Text

from bot.app import build_application, start, stop
from bot.clock import RunningClock
from bot.loading import load_bloc_file, load_results_file
from bot.terminal import plain, render_ranking_table
from fakes.people import ScriptedOfficer
from fakes.telegram import FakeChat, FakeTelegram, SentMessage
from handlers.services.ranking import compute_ranking
from handlers.services.reporting import unit_items
from rules.config import BlocConfig, OfficerRole, PeriodKind
from storage.blocs import load_bloc
from storage.db import make_engine, migrate, session_scope
from storage.invites import issue_invites
from storage.roles import next_year_roles

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# 10:00 on 5 January 2019 in Vietnam: the seed's reporting window is open.
SEED_NOW = dt.datetime(2019, 1, 5, 3, 0, tzinfo=dt.UTC)
GROUP_ID = -1001234567890


async def play_seed_year(database: Path, console: Console) -> int:
    """Run the demo; returns a process exit status."""
    for suffix in ("", "-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    migrate(url)
    engine = make_engine(url)
    config = load_bloc_file(EXAMPLES / "khoi3-2018.yaml")
    results = load_results_file(EXAMPLES / "khoi3-2018-results.yaml")
    clock = RunningClock(SEED_NOW)
    with session_scope(engine) as session:
        load_bloc(session=session, config=config, actor="demo")
        issued = issue_invites(session=session, bloc_id=1, now=clock(), ttl=dt.timedelta(days=30),
                               actor="demo")
    codes = {invite.officer_code: invite.code for invite in issued}
    values = {entry.unit: {**entry.indicators, **entry.criteria} for entry in results.results}

    console.rule(f"{config.bloc.name} — năm 2018 qua chat (máy chủ Telegram giả lập)")
    async with FakeTelegram(bot_username="khoithidua_bot") as fake:
        # The fake server has no group limit; Telegram's 20 a minute would only slow the demo down.
        parts = build_application(token=fake.token, engine=engine, base_url=fake.base_url,
                                  base_file_url=fake.base_file_url, bot_username=fake.bot_username,
                                  clock=clock, group_messages_per_minute=None, poll_timeout=1)
        group = fake.group(GROUP_ID, config.bloc.name)
        await start(parts)
        try:
            started = time.perf_counter()
            reporters = await _reports(fake, config, codes, values)
            heads = await _join_heads(fake, config, codes)
            await _review_and_publish(fake, group, heads)
            await _votes(fake, heads)
            elapsed = time.perf_counter() - started
        finally:
            await stop(parts)
        people = [*reporters, *heads.values()]
        for scripted in people:
            _print_transcript(console, scripted.name, scripted.transcript)
        group_lines = [("bot", _current_text(fake, message)) for message in fake.messages_to(group)]
        _print_transcript(console, f"Nhóm “{config.bloc.name}”", group_lines)
        turns = sum(len(scripted.latencies) for scripted in people)
    console.rule("Xếp hạng")
    with session_scope(engine) as session:
        report = compute_ranking(session=session, bloc_code=config.bloc.code, year=2018,
                                 period=PeriodKind.year_end)
        roles = next_year_roles(session=session, bloc_code=config.bloc.code, year=2019)
    engine.dispose()
    render_ranking_table(report, console)
    if roles is not None:
        console.print(f"Năm 2019: Khối trưởng {roles[0]}, Khối phó {roles[1]} (bầu tại hội nghị).")
    console.print(f"{len(people)} people, {turns} chat turns in {elapsed:.1f} s.")
    return 0


def _current_text(fake: FakeTelegram, message: SentMessage) -> str:
    """A group message as it reads now (the turnout message is edited after each vote)."""
    current = fake.message(message.chat_id, message.message_id)
    if current.kind == "photo":
        return f"[ảnh] {current.file_name or 'biểu đồ'}"
    return plain(current.text)


def _print_transcript(console: Console, title: str, lines: list[tuple[str, str]]) -> None:
    console.rule(f"[bold]{title}[/bold]")
    for speaker, text in lines:
        if speaker == "bot":
            console.print(Text.assemble(("🤖 Bot: ", "cyan"), text), highlight=False)
        else:
            console.print(Text.assemble((f"👤 {speaker}: ", "bold"), (text, "bold")), highlight=False)


async def _reports(fake: FakeTelegram, config: BlocConfig, codes: dict[str, str],
                   values: dict[str, dict[str, Decimal]]) -> list[ScriptedOfficer]:
    """Each unit's reporter joins with the invite and reports the seed's results, all at once."""
    people = []
    for number, officer in enumerate(o for o in config.officers if o.role is OfficerRole.reporter):
        scripted = ScriptedOfficer(fake, fake.user(100 + number, officer.name, language_code="vi"), officer.name)
        unit_values = [(item.code, values[officer.unit].get(item.code, Decimal(0)))
                       for item in unit_items(config, officer.unit)]
        people.append((scripted, officer.code, unit_values))

    async def one(scripted: ScriptedOfficer, officer_code: str, unit_values: list[tuple[str, Decimal]]) -> None:
        await scripted.say(f"/start {codes[officer_code]}", "Kính chào")
        await scripted.report(unit_values)

    await asyncio.gather(*(one(*entry) for entry in people))
    return [scripted for scripted, _, _ in people]


async def _join_heads(fake: FakeTelegram, config: BlocConfig, codes: dict[str, str]) -> dict[str, ScriptedOfficer]:
    """Each unit's head (its voter; the leader's and deputy's heads run the review) joins."""
    heads = {}
    for number, officer in enumerate(o for o in config.officers if o.role is OfficerRole.unit_head):
        scripted = ScriptedOfficer(fake, fake.user(200 + number, officer.name, language_code="vi"), officer.name)
        await scripted.say(f"/start {codes[officer.code]}", "Kính chào")
        heads[officer.unit] = scripted
    return heads


async def _in_group(fake: FakeTelegram, person: ScriptedOfficer, group: FakeChat, text: str, expect: str) -> None:
    person.transcript.append((person.name, f"(trong nhóm) {text}"))
    mark = fake.mark()
    await person.user.send_text(text, chat=group)
    await fake.wait_for(lambda m: m.chat_id == group.id and expect in plain(m.text), after=mark, timeout=15)


async def _review_and_publish(fake: FakeTelegram, group: FakeChat, heads: dict[str, ScriptedOfficer]) -> None:
    """The leader binds the group, reviews (one score changed, with a reason), the deputy
    reviews the leader's own unit, and the leader publishes."""
    leader, deputy = heads["STTTT"], heads["SGTVT"]
    await _in_group(fake, leader, group, "/bind", "Đã gắn nhóm này")
    await leader.say("/review", "Rà soát báo cáo")
    for short in ("Sở CT", "Sở XD", "Sở GTVT", "Sở TN&MT", "Sở KH&CN", "Sở NN&PTNT"):
        await leader.press(short, "Tổng sau rà soát")
        if short == "Sở XD":
            await leader.press("Sửa điểm", "Chọn mục")
            await leader.press("I.2 ·", "điểm thẩm định")
            await leader.say("9,0", "lý do sửa")
            await leader.say("Chưa có văn bản tham mưu kèm theo", "Đã sửa I.2")
        await leader.press("Chấp nhận", "Đã chấp nhận")
    await deputy.say("/review", "Rà soát báo cáo")
    await deputy.press("Sở TT&TT", "Tổng sau rà soát")
    await deputy.press("Chấp nhận", "Đã chấp nhận")
    await leader.say("/publish", "Công bố kết quả")
    await leader.press("Công bố", "Đã công bố")


async def _votes(fake: FakeTelegram, heads: dict[str, ScriptedOfficer]) -> None:
    """Acclaim of the leading unit, then next year's leader and deputy, one unit one vote."""
    leader = heads["STTTT"]
    ballots = [
        ("Mở phiếu suy tôn", "suy tôn", "Kết quả phiếu suy tôn", {unit: "Đồng ý" for unit in heads}),
        ("Mở bầu Khối trưởng", "bầu Khối trưởng", "Kết quả phiếu bầu Khối trưởng",
         {unit: "Sở Công thương" if unit == "SXD" else "Sở Xây dựng" for unit in heads}),
        ("Mở bầu Khối phó", "bầu Khối phó", "Kết quả phiếu bầu Khối phó",
         {unit: "Sở Giao thông – Vận tải" if unit == "SCT" else "Sở Công thương" for unit in heads}),
    ]
    for button, title, result, choices in ballots:
        await leader.say("/vote", "Bỏ phiếu cuối năm")
        await leader.press(button, "Phiếu sẽ đóng sau")
        mark = fake.mark()
        await leader.press("Mở phiếu", "Đã mở phiếu")

        async def cast(unit: str, choice: str, title: str = title, mark: int = mark) -> None:
            voter = heads[unit]

            def is_ballot(message: SentMessage) -> bool:
                return message.chat_id == voter.user.id and not message.is_edit \
                    and f"Phiếu {title}" in plain(message.text) and bool(message.buttons)

            voter.last = await fake.wait_for(is_ballot, after=mark, timeout=15)
            voter.transcript.append(("bot", plain(voter.last.text)))
            await voter.press(choice, "Lựa chọn của đơn vị")
            await voter.press("Xác nhận", "Đã ghi nhận phiếu")

        await asyncio.gather(*(cast(unit, choice) for unit, choice in choices.items()))
        def is_result(message: SentMessage, result: str = result) -> bool:
            return message.chat_id == GROUP_ID and result in plain(message.text)

        await fake.wait_for(is_result, after=mark, timeout=15)
