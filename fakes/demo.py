"""`python -m bot demo`: the seed year played offline through the real bot, told as a chronicle.

A fresh SQLite database with the seed bloc; the real bot (the python-telegram-bot
Application against the fake Telegram server, the real Zalo adapter polling the fake
Zalo server, the bot's HTTP server for Zalo's download links). Each unit is on
Telegram or on Zalo (`--channel telegram|zalo|mixed`; mixed: the leader's unit and
three others on Zalo, three on Telegram). The demo's clock moves through the year:
the units report one after another before the deadline (2–10 January 2019), the
leader binds the group and reviews (changing one score with a reason), the deputy
reviews the leader's own unit (11 January), the leader publishes (14 January), the
unit heads acclaim the leading unit and elect next year's leader and deputy
(24 January). Both fake servers note every message in and out, in order, into one
chronicle (fakes/chronicle.py), printed as the story of the year; then the ranking
and 2019's roles.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import aiohttp
from babel.dates import format_date
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.app import add_zalo, build_application, start, stop
from bot.clock import RunningClock
from bot.file_links import FileLinks
from bot.http_server import HttpServer
from bot.loading import load_bloc_file, load_results_file
from bot.terminal import plain, render_ranking_table
from fakes.chronicle import Chronicle, Kind, Said
from fakes.people import ScriptedOfficer, ScriptedZaloOfficer, option_number
from fakes.telegram import FakeChat, FakeTelegram
from fakes.zalo import FakeZalo, FakeZaloChat
from handlers.i18n import format_moment, t
from handlers.services.ranking import compute_ranking
from handlers.services.reporting import unit_items
from handlers.services.votes import vote_results
from rules.config import BlocConfig, OfficerRole, PeriodKind
from rules.numbers import format_number
from storage.blocs import load_bloc
from storage.db import make_engine, migrate, session_scope
from storage.invites import issue_invites
from storage.roles import next_year_roles

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CHANNELS = ("mixed", "telegram", "zalo")
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# In the mixed bloc, these units are on Zalo (the leader's among them); the others on Telegram.
ZALO_IN_MIXED = frozenset({"STTTT", "SXD", "SKHCN", "SNNPTNT"})
TELEGRAM_GROUP_ID = -1001234567890
LANGUAGE = "vi"


def _local(day: str, hour: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour}").replace(tzinfo=ZONE).astimezone(dt.UTC)


# When each unit reports (in the order of the bloc file), inside the window that closes 17:00 on 10/01/2019.
REPORT_MOMENTS = [_local(day, hour) for day, hour in (
    ("2019-01-02", "09:00"), ("2019-01-03", "14:30"), ("2019-01-04", "08:45"), ("2019-01-07", "10:15"),
    ("2019-01-08", "15:00"), ("2019-01-09", "09:30"), ("2019-01-10", "10:00"))]
REVIEW_AT, DEPUTY_AT = _local("2019-01-11", "08:30"), _local("2019-01-11", "14:00")
PUBLISH_AT = _local("2019-01-14", "09:00")
VOTES_AT = _local("2019-01-24", "08:30")  # the seed's votes window: 08:00–17:00 on 24/01/2019


class DemoClock(RunningClock):
    """The bot's clock: runs at normal speed, and the script moves it to the next moment of the year."""

    settled: Callable[[], Awaitable[None]] | None = None  # waits until the bot owes nothing

    async def move_to(self, moment: dt.datetime) -> None:
        """Go on from `moment` (never back in time), once what the bot owes now is delivered."""
        if self.settled is not None:
            await self.settled()
        if moment > self():
            self.start, self.began = moment, time.monotonic()


class Person(Protocol):
    """A scripted officer on either channel (fakes/people.py)."""

    name: str
    channel: str
    latencies: list[float]

    @property
    def chat_id(self) -> str: ...
    def mark(self) -> int: ...
    async def say(self, text: str, expect: str) -> object: ...
    async def press(self, label: str, expect: str) -> object: ...
    async def report(self, values: list[tuple[str, Decimal]]) -> None: ...
    async def wait_choice(self, contains: str, after: int) -> None: ...


@dataclass
class Stage:
    """The running bot, both fake servers, the group and the people."""

    config: BlocConfig
    telegram: FakeTelegram
    zalo: FakeZalo
    clock: DemoClock
    group_channel: str
    telegram_group: FakeChat
    zalo_group: FakeZaloChat
    people: dict[str, Person]  # by officer code
    units: dict[str, str]  # officer code -> unit code

    def head(self, unit: str) -> Person:
        """The unit's head (its voter; the leader's and the deputy's heads review)."""
        return next(person for code, person in self.people.items()
                    if self.units[code] == unit and code.endswith("-head"))

    async def in_group(self, person: Person, text: str, expect: str) -> None:
        """A person writes in the bloc's group; wait for the bot's answer there."""
        if self.group_channel == "telegram":
            if not isinstance(person, ScriptedOfficer):
                raise TypeError("the Telegram group needs a Telegram officer")
            mark = self.telegram.mark()
            await person.say_in_group(self.telegram_group, text)
            await self.telegram.wait_for(lambda m: m.chat_id == TELEGRAM_GROUP_ID and expect in plain(m.text),
                                         after=mark, timeout=15)
            return
        if not isinstance(person, ScriptedZaloOfficer):
            raise TypeError("the Zalo group needs a Zalo officer")
        mark = len(self.zalo.messages_to(self.zalo_group))
        await person.say_in_group(self.zalo_group, text)
        await self.wait_group(expect, mark)

    def group_mark(self) -> int:
        """A marker for `wait_group`."""
        if self.group_channel == "telegram":
            return self.telegram.mark()
        return len(self.zalo.messages_to(self.zalo_group))

    async def wait_group(self, expect: str, mark: int) -> None:
        """Wait for a message to the bloc's group that contains `expect`."""
        if self.group_channel == "telegram":
            await self.telegram.wait_for(lambda m: m.chat_id == TELEGRAM_GROUP_ID and expect in plain(m.text),
                                         after=mark, timeout=15)
            return
        messages = self.zalo.messages_to
        await self.zalo.wait_until(lambda: any(expect in m.text for m in messages(self.zalo_group)[mark:]),
                                   15, what=f"group message with {expect!r}")


def channel_of(unit: str, channel: str) -> str:
    """The channel a unit's officers use in this run."""
    if channel == "mixed":
        return "zalo" if unit in ZALO_IN_MIXED else "telegram"
    return channel


@contextmanager
def _quiet_logs() -> Iterator[None]:
    """The chronicle is what the demo prints; the bot's routine log lines would cut into it."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.setLevel(level)


async def play_seed_year(database: Path, console: Console, channel: str = "mixed") -> int:
    """Run the demo on `channel` (mixed, telegram or zalo); returns a process exit status."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}: one of {', '.join(CHANNELS)}")
    with _quiet_logs():
        return await _play(database, console, channel)


async def _play(database: Path, console: Console, channel: str) -> int:
    for suffix in ("", "-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{database}"
    migrate(url)
    engine = make_engine(url)
    config = load_bloc_file(EXAMPLES / "khoi3-2018.yaml")
    results = load_results_file(EXAMPLES / "khoi3-2018-results.yaml")
    clock = DemoClock(REPORT_MOMENTS[0] - dt.timedelta(days=1))
    with session_scope(engine) as session:
        load_bloc(session=session, config=config, actor="demo")
        issued = issue_invites(session=session, bloc_id=1, now=clock(), ttl=dt.timedelta(days=30),
                               actor="demo")
    codes = {invite.officer_code: invite.code for invite in issued}
    values = {entry.unit: {**entry.indicators, **entry.criteria} for entry in results.results}
    chronicle = Chronicle(clock=clock)
    group_channel = "telegram" if channel == "telegram" else "zalo"
    started = time.perf_counter()
    async with FakeTelegram(bot_username="khoithidua_bot") as telegram, FakeZalo(idle_wait=0.2) as zalo:
        telegram.chronicle = zalo.chronicle = chronicle
        # The fake servers have no send limits; Telegram's 30 a second and 20 a minute to a group would only
        # slow the demo down (the publication and each ballot's opening write to every officer at once: the
        # 30 a second held about ten sends back half a second each).
        parts = build_application(token=telegram.token, engine=engine, base_url=telegram.base_url,
                                  base_file_url=telegram.base_file_url, bot_username=telegram.bot_username,
                                  clock=clock, messages_per_second=None, group_messages_per_minute=None,
                                  poll_timeout=1)
        server = HttpServer(parts.runtime)
        port = await server.start("127.0.0.1", 0)
        server.links = FileLinks(b"demo-links-secret-" + b"0" * 14, f"http://127.0.0.1:{port}")
        add_zalo(parts, token=zalo.token, base_url=zalo.base_url, links=server.links, poll_timeout=1)
        stage = Stage(config=config, telegram=telegram, zalo=zalo, clock=clock, group_channel=group_channel,
                      telegram_group=telegram.group(TELEGRAM_GROUP_ID, config.bloc.name),
                      zalo_group=zalo.group(config.bloc.name), people={},
                      units={officer.code: officer.unit for officer in config.officers})
        for number, officer in enumerate(config.officers):
            if channel_of(officer.unit, channel) == "zalo":
                stage.people[officer.code] = ScriptedZaloOfficer(zalo, zalo.user(officer.name), officer.name)
            else:
                stage.people[officer.code] = ScriptedOfficer(
                    telegram, telegram.user(100 + number, officer.name, language_code="vi"), officer.name)
        await start(parts)
        clock.settled = lambda: parts.runtime.settled(15)
        try:
            await _reports(stage, chronicle, codes, values)
            await _review_and_publish(stage, chronicle)
            await _votes(stage, chronicle)
            fetched = await _fetch_links(chronicle, port)
        finally:
            await server.stop()
            await stop(parts)
    elapsed = time.perf_counter() - started
    _print_chronicle(console, stage, chronicle, fetched, database)
    with session_scope(engine) as session:
        report = compute_ranking(session=session, bloc_code=config.bloc.code, year=2018,
                                 period=PeriodKind.year_end)
        roles = next_year_roles(session=session, bloc_code=config.bloc.code, year=2019)
        ballots = vote_results(session=session, bloc_id=1, year=2018)
    engine.dispose()
    console.rule(_say("demo.chapter_ranking", year=2018))
    render_ranking_table(report, console, {unit.code: unit.short_name for unit in config.units})
    if roles is not None:
        elections = [ballot for ballot in ballots if ballot.kind != "acclaim" and ballot.decision == "elected"]
        if elections and all(ballot.closed_at is not None for ballot in elections):
            last = max(ballot.closed_at for ballot in elections if ballot.closed_at is not None)
            secrecy = _say("demo.secret" if all(ballot.secret for ballot in elections) else "demo.open")
            console.print(_say("demo.roles", year=2019, leader=roles[0], deputy=roles[1], secrecy=secrecy,
                               when=format_moment(last, config.bloc.timezone, LANGUAGE)), highlight=False)
        else:
            console.print(_say("demo.roles_other", year=2019, leader=roles[0], deputy=roles[1]), highlight=False)
    people = stage.people.values()
    turns = sum(len(person.latencies) for person in people)
    messages = sum(1 for said in chronicle.moments if said.kind is not Kind.chapter)
    console.print(_say("demo.footer", people=len(people), turns=turns, messages=messages,
                       seconds=format_number(Decimal(elapsed).quantize(Decimal("0.1")), decimals=1)),
                  highlight=False)
    return 0


def _say(key: str, **params: object) -> str:
    """A demo text from the catalog, as the terminal shows it."""
    return plain(t(LANGUAGE, key, **params))


async def _reports(stage: Stage, chronicle: Chronicle, codes: dict[str, str],
                   values: dict[str, dict[str, Decimal]]) -> None:
    """Each unit on its day: the reporter joins with the invite and reports the seed's results, the head joins."""
    reporters = [officer for officer in stage.config.officers if officer.role is OfficerRole.reporter]
    for moment, officer in zip(REPORT_MOMENTS, reporters, strict=False):
        await stage.clock.move_to(moment)
        if moment == REPORT_MOMENTS[0]:
            chronicle.chapter(_say("demo.chapter_reports"))
        person = stage.people[officer.code]
        await person.say(f"/start {codes[officer.code]}", "Kính chào")
        await person.report([(item.code, values[officer.unit].get(item.code, Decimal(0)))
                             for item in unit_items(stage.config, officer.unit)])
        head = next(o for o in stage.config.officers if o.unit == officer.unit and o.role is OfficerRole.unit_head)
        await stage.clock.move_to(stage.clock() + dt.timedelta(minutes=40))
        await stage.people[head.code].say(f"/start {codes[head.code]}", "Kính chào")


async def _review_and_publish(stage: Stage, chronicle: Chronicle) -> None:
    """The leader binds the group, reviews (one score changed, with a reason), the deputy
    reviews the leader's own unit, and the leader publishes."""
    leader, deputy = stage.head("STTTT"), stage.head("SGTVT")
    await stage.clock.move_to(REVIEW_AT)
    chronicle.chapter(_say("demo.chapter_review"))
    await stage.in_group(leader, "/bind", "Đã gắn nhóm này")
    await leader.say("/review", "Rà soát báo cáo")
    for short in ("Sở CT", "Sở XD", "Sở GTVT", "Sở TN&MT", "Sở KH&CN", "Sở NN&PTNT"):
        await leader.press(short, "Tổng sau rà soát")
        if short == "Sở XD":
            await leader.press("Sửa điểm", "Chọn mục")
            await leader.press("I.2 ·", "điểm thẩm định")
            await leader.say("9,0", "lý do sửa")
            await leader.say("Chưa có văn bản tham mưu kèm theo", "Đã sửa I.2")
        await leader.press("Chấp nhận", "Đã chấp nhận")
    await stage.clock.move_to(DEPUTY_AT)
    await deputy.say("/review", "Rà soát báo cáo")
    await deputy.press("Sở TT&TT", "Tổng sau rà soát")
    await deputy.press("Chấp nhận", "Đã chấp nhận")
    await stage.clock.move_to(PUBLISH_AT)
    chronicle.chapter(_say("demo.chapter_publish"))
    await leader.say("/publish", "Công bố kết quả")
    await leader.press("Công bố", "Đã công bố")


async def _votes(stage: Stage, chronicle: Chronicle) -> None:
    """Acclaim of the leading unit, then next year's leader and deputy, one unit one vote."""
    await stage.clock.move_to(VOTES_AT)
    chronicle.chapter(_say("demo.chapter_votes", year=2019))
    leader = stage.head("STTTT")
    units = [unit.code for unit in stage.config.units]
    ballots = [
        ("Mở phiếu suy tôn", "suy tôn", "Kết quả phiếu suy tôn", dict.fromkeys(units, "Đồng ý")),
        ("Mở bầu Khối trưởng", "bầu Khối trưởng", "Kết quả phiếu bầu Khối trưởng",
         {unit: "Sở Công thương" if unit == "SXD" else "Sở Xây dựng" for unit in units}),
        ("Mở bầu Khối phó", "bầu Khối phó", "Kết quả phiếu bầu Khối phó",
         {unit: "Sở Giao thông – Vận tải" if unit == "SCT" else "Sở Công thương" for unit in units}),
    ]
    for button, title, result, choices in ballots:
        await leader.say("/vote", "Bỏ phiếu cuối năm")
        await leader.press(button, "Phiếu sẽ đóng sau")
        voters = {unit: stage.head(unit) for unit in choices}
        marks = {unit: voter.mark() for unit, voter in voters.items()}
        group_mark = stage.group_mark()
        await leader.press("Mở phiếu", "Đã mở phiếu")
        for unit, choice in choices.items():  # one after another, so that the chronicle reads vote by vote
            voter = voters[unit]
            await stage.clock.move_to(stage.clock() + dt.timedelta(minutes=3))
            await voter.wait_choice(f"Phiếu {title}", after=marks[unit])
            await voter.press(choice, "Lựa chọn của đơn vị")
            await voter.press("Xác nhận", "Đã ghi nhận phiếu")
        await stage.wait_group(result, group_mark)


_LINK = re.compile(r"https?://127\.0\.0\.1:\d+/files/\S+")


async def _fetch_links(chronicle: Chronicle, port: int) -> dict[str, tuple[int, int]]:
    """Download every file link the bot sent on Zalo, as its reader would: link -> (HTTP status, bytes)."""
    links = {link for said in chronicle.moments if said.channel == "zalo" and said.by_bot
             for link in [*_LINK.findall(said.text), *([said.link] if said.link else [])]}
    fetched: dict[str, tuple[int, int]] = {}
    async with aiohttp.ClientSession() as http:
        for link in sorted(links):
            async with http.get(link) as answer:
                fetched[link] = (answer.status, len(await answer.read()))
    return fetched


# ---------------------------------------------------------------------- printing


def size_text(size: int | None) -> str:
    """A file's size as people read it: `512 byte`, `12,3 KB`, `1,2 MB`."""
    if size is None:
        return "?"
    if size < 1024:
        return f"{size} byte"
    if size < 1024 * 1024:
        return f"{format_number(Decimal(size) / 1024, decimals=1)} KB"
    return f"{format_number(Decimal(size) / (1024 * 1024), decimals=1)} MB"


def _print_chronicle(console: Console, stage: Stage, chronicle: Chronicle, fetched: dict[str, tuple[int, int]],
                     database: Path) -> None:
    config = stage.config
    units = {unit.code: unit.short_name for unit in config.units}
    on: dict[str, list[str]] = {"telegram": [], "zalo": []}
    for unit in config.units:
        on[channel_of_person(stage, unit.code)].append(unit.short_name)
    console.rule(Text(_say("demo.title", bloc=config.bloc.name, year=2018), style="bold"))
    console.print(_say("demo.offline", database=str(database)), highlight=False)
    console.print(_say("demo.channels", telegram=", ".join(on["telegram"]) or _say("demo.none"),
                       zalo=", ".join(on["zalo"]) or _say("demo.none")), highlight=False)
    console.print(_say("demo.group_on", group=config.bloc.name, channel=stage.group_channel.capitalize()),
                  highlight=False)
    who: dict[tuple[str, str], str] = {}
    for code, person in stage.people.items():
        who[(person.channel, person.chat_id)] = f"{person.name} ({units[stage.units[code]]}, " \
                                                f"{person.channel.capitalize()})"
    by_name = {(person.channel, person.name): who[(person.channel, person.chat_id)]
               for person in stage.people.values()}
    group_name = _say("demo.group", name=config.bloc.name) + f" ({stage.group_channel.capitalize()})"
    last_options: dict[tuple[str, str], str] = {}
    table: Table | None = None
    day: dt.date | None = None
    for said in chronicle.moments:
        local = said.at.astimezone(ZONE)
        if said.kind is Kind.chapter or local.date() != day:
            if table is not None:
                console.print(table)
            table = None
        if said.kind is Kind.chapter:
            console.rule(Text(said.text, style="bold"))
            day = None
            continue
        if table is None:
            day = local.date()
            console.print(Text(format_date(day, "EEEE, dd/MM/yyyy", locale=LANGUAGE).capitalize(),
                               style="bold underline"))
            table = Table.grid(padding=(0, 1))
            table.add_column(width=5, style="dim")
            table.add_column(ratio=1, overflow="fold")
        if table is None:
            continue
        key = (said.channel, said.chat_id)
        if said.group:  # the group's messages: the bot's to the group, a person's (named by the platform)
            speaker = group_name if said.by_bot else by_name.get((said.channel, said.sender), said.sender)
        else:
            speaker = who.get(key, said.sender)
        table.add_row(f"{local:%H:%M}", _line(said, speaker, last_options, fetched))
        if said.by_bot and option_number(said.text, "") is not None:
            last_options[key] = said.text
    if table is not None:
        console.print(table)


def channel_of_person(stage: Stage, unit: str) -> str:
    """The channel a unit's people are on in this run."""
    return next(person.channel for code, person in stage.people.items() if stage.units[code] == unit)


def _option_label(text: str, number: str) -> str | None:
    for line in text.splitlines():
        head, dot, rest = line.partition(". ")
        if dot and head == number:
            return rest
    return None


def _line(said: Said, who: str, last_options: dict[tuple[str, str], str],
          fetched: dict[str, tuple[int, int]]) -> Text:
    """One moment as a line of the chronicle."""
    if said.by_bot:
        head = Text(_say("demo.bot_to", who=who) + ": ", style="cyan")
    else:
        name = _say("demo.person_in_group", who=who) if said.group else who
        head = Text(f"👤 {name}: ", style="bold")
    parts: list[str] = []
    if said.kind is Kind.edit:
        parts.append(_say("demo.edited"))
    elif said.kind is Kind.toast:
        parts.append(_say("demo.toast"))
    text = plain(said.text) if said.by_bot else said.text
    if said.kind is Kind.press:
        text = _say("demo.pressed", label=said.text)
    elif not said.by_bot and said.text.strip().isdigit():
        label = _option_label(last_options.get((said.channel, said.chat_id), ""), said.text.strip())
        if label is not None:
            text = _say("demo.typed_option", number=said.text.strip(), label=label)
    if said.kind is Kind.file:
        parts.append(_say("demo.file", name=said.file_name or "?", size=size_text(said.file_size)))
    elif said.kind is Kind.photo and said.link is None:
        parts.append(_say("demo.photo", name=said.file_name or "?", size=size_text(said.file_size)))
    elif said.kind is Kind.photo:
        parts.append(_say("demo.photo_link") + f" {said.link}")
    if text:
        parts.append(text)
    if said.buttons:
        parts.append(" ".join(f"[{label}]" for label in said.buttons))
    for link in [*_LINK.findall(said.text), *([said.link] if said.link else [])]:
        status, size = fetched.get(link, (0, 0))
        parts.append("  ↳ " + (_say("demo.fetched", size=size_text(size)) if status == 200
                                else _say("demo.fetch_failed", status=status)))
    body = Text("\n".join(parts), style="bold" if not said.by_bot else "")
    return head + body
