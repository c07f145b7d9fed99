"""`python -m bot demo`: the seed year played offline through the real bot.

A fake Telegram Bot API server, a fresh SQLite database with the seed bloc,
the real python-telegram-bot Application polling the fake server, and the
seven units' officers joining with their invites and reporting the seed's
results by chat. The clock is set to January 2019, inside the seed's reporting
window.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.text import Text

from bot.app import build_application
from bot.fake_telegram import FakeTelegram
from bot.loading import load_bloc_file, load_results_file
from bot.scripted import ScriptedOfficer
from bot.telegram_channel import set_commands
from handlers.ranking import compute_ranking
from handlers.reporting import unit_items
from rules.config import OfficerRole, PeriodKind
from storage.blocs import load_bloc
from storage.db import make_engine, migrate, session_scope
from storage.invites import issue_invites

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# 10:00 on 5 January 2019 in Vietnam: the seed's reporting window is open.
SEED_NOW = dt.datetime(2019, 1, 5, 3, 0, tzinfo=dt.UTC)


class RunningClock:
    """A clock that starts at a chosen moment and runs at normal speed."""

    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self.began = time.monotonic()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=time.monotonic() - self.began)


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

    console.rule(f"{config.bloc.name} — báo cáo tổng kết năm 2018 qua chat (máy chủ Telegram giả lập)")
    async with FakeTelegram(bot_username="khoithidua_bot") as fake:
        parts = build_application(token=fake.token, engine=engine, base_url=fake.base_url,
                                  base_file_url=fake.base_file_url, bot_username=fake.bot_username,
                                  clock=clock)
        application = parts.application
        async with application:
            await set_commands(application)  # what run_polling does in post_init
            await application.start()
            if not (application.updater is not None):
                raise RuntimeError('invariant broken: application.updater is not None')
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            officers = []
            reporters = [officer for officer in config.officers if officer.role is OfficerRole.reporter]
            for number, officer in enumerate(reporters):
                user = fake.user(100 + number, officer.name, language_code="vi")
                scripted = ScriptedOfficer(fake, user, officer.name)
                items = unit_items(config, officer.unit)
                unit_values = [(item.code, values[officer.unit].get(item.code, Decimal(0))) for item in items]
                officers.append((scripted, officer.code, unit_values))

            async def one(scripted: ScriptedOfficer, officer_code: str,
                          unit_values: list[tuple[str, Decimal]]) -> None:
                await scripted.say(f"/start {codes[officer_code]}", "Xin chào")
                await scripted.report(unit_values)

            started = time.perf_counter()
            await asyncio.gather(*(one(*entry) for entry in officers))
            elapsed = time.perf_counter() - started
            await application.updater.stop()
            await application.stop()
        for scripted, _, _ in officers:
            console.rule(f"[bold]{scripted.name}[/bold]")
            for speaker, text in scripted.transcript:
                if speaker == "bot":
                    console.print(Text.assemble(("🤖 Bot: ", "cyan"), text), highlight=False)
                else:
                    console.print(Text.assemble((f"👤 {speaker}: ", "bold"), (text, "bold")),
                                  highlight=False)
        messages = sum(len(scripted.latencies) for scripted, _, _ in officers)
    console.rule("Xếp hạng")
    with session_scope(engine) as session:
        report = compute_ranking(session=session, bloc_code=config.bloc.code, year=2018,
                                 period=PeriodKind.year_end)
    engine.dispose()
    from bot.cli import render_ranking_table

    render_ranking_table(report, console)
    console.print(f"{len(officers)} officers, {messages} chat turns in {elapsed:.1f} s.")
    return 0
