"""The operator's command line: `python -m bot <command>`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlmodel import Session

from bot.loading import FileError, load_bloc_file, load_results_file
from bot.logs import configure_logging, redact
from bot.settings import Settings, ballot_secret, get_settings
from bot.terminal import render_ranking_table
from handlers.i18n import format_moment
from handlers.renderers.files import make
from handlers.services.ranking import RankingError, compute_ranking
from rules.config import PeriodKind
from storage.audit import list_audit
from storage.blocs import LoadError, find_bloc, load_bloc
from storage.db import make_engine, migrate, session_scope
from storage.invites import InviteState, invite_states, issue_invites
from storage.results import ResultsError, import_results
from storage.sealing import use_ballot_secret

if TYPE_CHECKING:
    from bot.app import BotParts

Command = Callable[[argparse.Namespace, Settings, Console], int]


@contextmanager
def migrated_engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the configured database, migrated first; closed after."""
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def database(settings: Settings) -> Iterator[Session]:
    """The configured database, migrated, with one unit of work; the engine is closed after."""
    with migrated_engine(settings) as engine, session_scope(engine) as session:
        yield session


def _fail(console: Console, lines: Sequence[str]) -> int:
    for line in lines:
        console.print(f"[red]✗[/red] {line}", highlight=False, soft_wrap=True)
    return 2


def cmd_init(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Validate a bloc file and load it (idempotent; changes are audited)."""
    path = Path(args.file)
    try:
        config = load_bloc_file(path)
    except FileError as exc:
        return _fail(console, str(exc).splitlines())
    try:
        with database(settings) as session:
            summary = load_bloc(session=session, config=config, actor=f"cli:init {path.name}")
    except LoadError as exc:
        return _fail(console, [f"{path}: {problem}" for problem in exc.problems])
    if summary.created:
        console.print(f"Loaded bloc {summary.bloc_code}: {len(config.units)} units, "
                      f"{len(config.officers)} officers, {len(config.indicators)} indicators.")
    elif summary.changes:
        console.print(f"Updated bloc {summary.bloc_code}:")
        for change in summary.changes:
            console.print(f"  - {change}", highlight=False)
    else:
        console.print(f"Bloc {summary.bloc_code} is already up to date; nothing changed.")
    return 0


def cmd_results_import(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Load results sent outside the chat; audited."""
    path = Path(args.file)
    try:
        results = load_results_file(path)
    except FileError as exc:
        return _fail(console, str(exc).splitlines())
    try:
        with database(settings) as session:
            summary = import_results(session=session, results=results, actor=f"cli:import {path.name}")
    except ResultsError as exc:
        return _fail(console, [f"{path}: {problem}" for problem in exc.problems])
    console.print(f"Imported results of {summary.units} units "
                  f"({summary.changed_entries} values changed).")
    return 0


def cmd_ranking(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Print the ranking of a period as a table or JSON."""
    try:
        with database(settings) as session:
            report = compute_ranking(session=session, bloc_code=args.bloc, year=args.year,
                                     period=PeriodKind(args.period))
    except RankingError as exc:
        return _fail(console, [str(exc)])
    if args.format == "json":
        sys.stdout.write(json.dumps(report.as_json(), ensure_ascii=False) + "\n")
    else:
        render_ranking_table(report, console)
    return 0


def cmd_invites(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Show each officer's invite state; issue a code to those who need one (or to one named officer)."""
    now = dt.datetime.now(dt.UTC)
    with database(settings) as session:
        bloc = find_bloc(session=session, bloc_code=args.bloc)
        if bloc is None:
            return _fail(console, ["no such bloc; give --bloc CODE (see `init`)"])
        known = {state.officer_code: state for state in invite_states(session=session, bloc_id=bloc.id, now=now)}
        if args.officer is not None and args.officer not in known:
            return _fail(console, [f"no active officer {args.officer!r} in bloc {bloc.code}"])
        issued = issue_invites(
            session=session, bloc_id=bloc.id, now=now, ttl=dt.timedelta(days=settings.invite_ttl_days),
            actor="cli:invites", include_linked=args.all, officer_code=args.officer,
        )
        states = invite_states(session=session, bloc_id=bloc.id, now=now)
        zone = bloc.config.bloc.timezone
    labels = {"linked": "đã liên kết", "waiting": "chờ dùng mã", "expired": "mã đã hết hạn", "none": "chưa có mã"}
    overview = Table(title=f"Tình trạng mã mời – {bloc.code}")
    for column in ("Đơn vị", "Cán bộ", "Tình trạng", "Hết hạn"):
        overview.add_column(column)
    for state in states:
        label = labels[state.state.value] + (f" ({', '.join(state.accounts)})" if state.accounts else "")
        overview.add_row(state.unit_code, state.officer_name, label,
                         format_moment(state.expires_at, zone, "vi") if state.expires_at else "")
    console.print(overview)
    if not issued:
        console.print("Không cấp mã mới: mọi cán bộ đã liên kết hoặc đang giữ một mã còn hạn. "
                      "Dùng --officer MÃ_CÁN_BỘ để cấp lại cho một người (mã cũ của người đó thôi hiệu lực).")
        return 0
    table = Table(title="Mã mời cá nhân mới cấp (dùng một lần)")
    for column in ("Đơn vị", "Cán bộ", "Mã", "Hết hạn", "Liên kết"):
        table.add_column(column)
    for invite in issued:
        link = f"https://t.me/{settings.bot_username}?start={invite.code}" if settings.bot_username else ""
        table.add_row(invite.unit_code, invite.officer_name, invite.code,
                      format_moment(invite.expires_at, zone, "vi"), link)
    console.print(table)
    replaced = [invite for invite in issued if known[invite.officer_code].state is InviteState.waiting]
    if replaced:
        console.print(f"Mã cũ của {', '.join(invite.officer_name for invite in replaced)} đã được thay "
                      "và sẽ báo là đã thay khi được dùng.")
    return 0


def cmd_web_link(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Issue a personal link to the report form for one officer (to hand over outside the chat)."""
    from bot.web.setup import page_addresses, web_settings
    from handlers.chat import WebPage
    from handlers.services.web import FORM_PATH
    from storage.chat import officer_by_code
    from storage.models import stored_id
    from storage.web import issue_link

    pages = web_settings(settings)
    if pages is None:
        return _fail(console, ["PUBLIC_BASE_URL is not set: the web pages are served there (see .env.example)."])
    now = dt.datetime.now(dt.UTC)
    with database(settings) as session:
        bloc = find_bloc(session=session, bloc_code=args.bloc)
        if bloc is None:
            return _fail(console, ["no such bloc; give --bloc CODE (see `init`)"])
        officer = officer_by_code(session=session, bloc_code=bloc.code, officer_code=args.officer)
        if officer is None or not officer.active:
            return _fail(console, [f"no active officer {args.officer!r} in bloc {bloc.code}"])
        link = issue_link(session=session, officer_id=stored_id(officer), now=now, ttl=pages.link_ttl,
                          sent_to=None, actor="cli:web-link")
        zone, name, code = bloc.config.bloc.timezone, officer.name, officer.code
    url = page_addresses(pages).url(WebPage(FORM_PATH, link=link.id, expires=int(link.expires_at.timestamp())))
    console.print(f"Đường dẫn riêng của {name} (số {link.id}), hiệu lực đến "
                  f"{format_moment(link.expires_at, zone, 'vi')}; thu hồi: python -m bot web-revoke "
                  f"--officer {code} --link {link.id}", highlight=False, soft_wrap=True)
    console.print(url, soft_wrap=True)
    return 0


def cmd_web_revoke(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Revoke an officer's personal links to the web form (one, or all): they stop working at once."""
    from storage.chat import officer_by_code
    from storage.models import stored_id
    from storage.web import revoke_links

    with database(settings) as session:
        bloc = find_bloc(session=session, bloc_code=args.bloc)
        if bloc is None:
            return _fail(console, ["no such bloc; give --bloc CODE (see `init`)"])
        officer = officer_by_code(session=session, bloc_code=bloc.code, officer_code=args.officer)
        if officer is None:
            return _fail(console, [f"no officer {args.officer!r} in bloc {bloc.code}"])
        count = revoke_links(session=session, officer_id=stored_id(officer), now=dt.datetime.now(dt.UTC),
                             actor="cli:web-revoke", link_id=args.link)
        name = officer.name
    console.print(f"Đã thu hồi {count} đường dẫn của {name}.", highlight=False)
    return 0


def cmd_board_link(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Issue a personal link to the province's overview for a board member, or revoke theirs (`--revoke`)."""
    from bot.web.board import board_link_url
    from bot.web.setup import web_settings
    from storage.web import issue_board_link, revoke_board_links

    name = " ".join(args.name.split())
    if not name or len(name) > 120:
        return _fail(console, ["--name: the board member's name, at most 120 characters"])
    now = dt.datetime.now(dt.UTC)
    if args.revoke:
        with database(settings) as session:
            count = revoke_board_links(session=session, now=now, actor="cli:board-link", name=name)
        console.print(f"Đã thu hồi {count} đường dẫn của {name}.", highlight=False)
        return 0
    pages = web_settings(settings)
    if pages is None:
        return _fail(console, ["PUBLIC_BASE_URL is not set: the web pages are served there (see .env.example)."])
    with database(settings) as session:
        member = issue_board_link(session=session, name=name, now=now, ttl=dt.timedelta(days=args.days),
                                  actor="cli:board-link")
    url = board_link_url(pages, member)
    console.print(f"Đường dẫn riêng của {name} (Ban Thi đua – Khen thưởng, số {member.id}), hiệu lực "
                  f"{args.days} ngày; thu hồi: python -m bot board-link --name \"{name}\" --revoke",
                  highlight=False, soft_wrap=True)
    console.print(url, soft_wrap=True)
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Print the audit trail."""
    with database(settings) as session:
        bloc_id = None
        if args.bloc:
            bloc = find_bloc(session=session, bloc_code=args.bloc)
            if bloc is None:
                return _fail(console, [f"no bloc {args.bloc!r}"])
            bloc_id = bloc.id
        entries = list_audit(session=session, bloc_id=bloc_id, unit_code=args.unit, limit=args.limit)
    table = Table(title="Nhật ký thay đổi")
    for column in ("Lúc (UTC)", "Ai", "Khối", "Đơn vị", "Việc", "Đối tượng", "Trước", "Sau"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(entry.at.strftime("%Y-%m-%d %H:%M:%S"), entry.actor, entry.bloc_code or "",
                      entry.unit_code or "", entry.action, entry.target, entry.before or "",
                      entry.after or "")
    console.print(table)
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Write the score sheet (.xlsx) and the minutes (.docx) of a period; audited."""
    from handlers.renderers.documents import paperwork_files
    from handlers.services.paperwork import build_paperwork
    from storage.review import record_export

    out = Path(args.out)
    with database(settings) as session:
        try:
            score_sheet, minutes = build_paperwork(
                session=session, bloc_code=args.bloc, year=args.year, period_kind=PeriodKind(args.period),
                place=args.place, now=dt.datetime.now(dt.UTC))
        except (LookupError, RankingError) as exc:
            return _fail(console, [str(exc)])
        files = paperwork_files(score_sheet, minutes)
        out.mkdir(parents=True, exist_ok=True)
        for file in files:
            (out / file.name).write_bytes(make(file))
        bloc = find_bloc(session=session, bloc_code=score_sheet.bloc_code)
        if bloc is not None:
            record_export(session=session, bloc_id=bloc.id, actor="cli:export",
                          target=f"period {score_sheet.year} {score_sheet.period_kind}",
                          files=[file.name for file in files])
    for file in files:
        console.print(f"Wrote {out / file.name}", highlight=False, soft_wrap=True)
    return 0


def cmd_votes(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Print every ballot of a year with its rules, turnout and result (counts only once closed)."""
    from handlers.renderers.votes import minutes_outcome, minutes_question, minutes_rules, minutes_tallies
    from handlers.services.votes import vote_results
    from storage.blocs import latest_year
    from storage.votes import ballot_years, next_roles, unit_id_map, voting_year

    with database(settings) as session:
        bloc = find_bloc(session=session, bloc_code=args.bloc)
        if bloc is None:
            return _fail(console, ["no such bloc; give --bloc CODE (see `init`)"])
        year = args.year or next(iter(ballot_years(session=session, bloc_id=bloc.id)), None) \
            or voting_year(session=session, bloc_id=bloc.id) or latest_year(session=session, bloc_id=bloc.id)
        if year is None:
            return _fail(console, [f"bloc {bloc.code} has no period yet"])
        results = vote_results(session=session, bloc_id=bloc.id, year=year)
        roles = next_roles(session=session, bloc_id=bloc.id, year=year + 1)
        codes = {unit_id: code for code, unit_id in unit_id_map(session=session, bloc_id=bloc.id).items()}
    next_year = {"year": year + 1, "leader": codes.get(roles.leader_unit_id), "deputy": codes.get(roles.deputy_unit_id),
                 "source": roles.source} if roles is not None else None
    if args.format == "json":
        document = {"bloc": bloc.code, "year": year, "next_year_roles": next_year,
                    "ballots": [result.as_json() for result in results]}
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
        return 0
    table = Table(title=f"{bloc.config.bloc.name} — bỏ phiếu năm {year}")
    for column in ("Phiếu", "Quy tắc", "Tham gia", "Mở — đóng (UTC)", "Kết quả"):
        table.add_column(column, overflow="fold")
    for result in results:
        closed = result.closed_at or result.closes_at
        tallies = "\n".join(f"{option}: {count}" for option, count in minutes_tallies(result))
        table.add_row(minutes_question(result), minutes_rules(result), f"{result.votes_cast}/{result.members}",
                      f"{result.opened_at:%Y-%m-%d %H:%M} — {closed:%Y-%m-%d %H:%M}",
                      (tallies + "\n" if tallies else "") + minutes_outcome(result))
    console.print(table)
    if not results:
        console.print(f"No ballot in {year}.")
    if next_year is not None:
        console.print(f"{year + 1}: leader {next_year['leader']}, deputy {next_year['deputy']} "
                      f"({next_year['source']})", highlight=False)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Offline demo: the seed year played through the real bot against a fake Bot API."""
    # The demo drives the bot with the test doubles; the product never imports them otherwise.
    from fakes.demo import play_seed_year

    return asyncio.run(play_seed_year(Path(args.database), console))


def cmd_shell(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Chat with the bot in the terminal as an officer (the console channel)."""
    import secrets

    from bot.clock import RunningClock
    from bot.console_channel import ConsoleChannel
    from handlers.dispatch import Conversation, system_clock
    from storage.chat import officer_by_code

    with migrated_engine(settings) as engine:
        with session_scope(engine) as session:
            bloc = find_bloc(session=session, bloc_code=args.bloc)
            if bloc is None:
                return _fail(console, ["no such bloc; give --bloc CODE (see `init`)"])
            officer = officer_by_code(session=session, bloc_code=bloc.code, officer_code=args.officer)
            if officer is None or officer.id is None:
                codes = ", ".join(o.code for o in bloc.config.officers)
                return _fail(console, [f"no officer {args.officer!r} in {bloc.code}; one of: {codes}"])
            officer_id = officer.id
        clock = system_clock
        if args.now:
            moment = dt.datetime.fromisoformat(args.now)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=bloc.config.zone())
            clock = RunningClock(moment.astimezone(dt.UTC))
        channel = ConsoleChannel(Conversation(engine, clock=clock), officer_id, sys.stdout, secrets.token_hex(4))

        def read_line() -> str | None:
            try:
                return input()
            except EOFError:
                return None

        channel.run(read_line)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Run the real bot: long polling, or webhook mode with `--webhook URL`."""
    from bot.app import build_application
    from bot.leases import AlreadyRunning
    from bot.outbox import SenderSettings
    from bot.telegram_channel import InvalidToken, TelegramError

    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        return _fail(console, [
            "TELEGRAM_BOT_TOKEN is not set. Get a token from @BotFather and put it in .env "
            "(see .env.example), or try `python -m bot demo`, which needs none."
        ])
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    if args.webhook and not secret:
        return _fail(console, ["WEBHOOK_SECRET is required in webhook mode (see .env.example)."])
    from bot.web.setup import web_offer, web_settings

    # The web form, when PUBLIC_BASE_URL is set and the HTTP server runs (webhook mode or HTTP_PORT).
    pages = web_settings(settings) if (args.webhook or settings.http_port) else None
    # build_application closes the engine at shutdown; the context closes it on every other way out.
    with migrated_engine(settings) as engine:
        parts = build_application(
            token=settings.telegram_bot_token.get_secret_value(), engine=engine,
            base_url=settings.telegram_api_base_url, base_file_url=settings.telegram_file_base_url,
            bot_username=settings.bot_username, reminders=True,
            http_client=settings.telegram_http_client,
            messages_per_second=settings.telegram_messages_per_second or None,
            sender=SenderSettings(lease=dt.timedelta(seconds=settings.outbox_lease_seconds)),
            web=web_offer(pages, min_items=settings.web_form_min_items) if pages is not None else None,
        )
        try:
            asyncio.run(serve(parts, settings, webhook=args.webhook, secret=secret))
        except InvalidToken:
            return _fail(console, ["Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather."])
        except AlreadyRunning as error:
            return _fail(console, [str(error)])
        except TelegramError as error:
            # Its message may hold the request's URL, and so the token: one redacted line, no traceback.
            return _fail(console, [redact(f"the Bot API at {settings.telegram_api_base_url} failed: {error}",
                                          [settings.telegram_bot_token.get_secret_value()])])
    return 0


async def serve(parts: BotParts, settings: Settings, *, webhook: str | None, secret: str | None) -> None:
    """Run until SIGINT or SIGTERM: the poll or the webhook server, the runtime, the reminders."""
    import signal
    from contextlib import ExitStack

    from bot.app import start, stop
    from bot.http_server import HttpServer
    from bot.leases import AlreadyRunning, hold_alone

    engine = parts.conversation.engine
    with ExitStack() as alone:
        if engine.dialect.name == "sqlite":
            try:
                alone.enter_context(hold_alone(engine, "sqlite"))
            except AlreadyRunning as error:
                raise AlreadyRunning(
                    f"Another process already runs the bot on this SQLite database ({engine.url.database}). "
                    "SQLite serves one process: stop the other one, or use PostgreSQL for several."
                ) from error
        elif not webhook:  # (on SQLite the one process polls)
            try:
                alone.enter_context(hold_alone(engine, f"poll:telegram:{parts.channel.bot}"))
            except AlreadyRunning as error:
                raise AlreadyRunning(
                    f"Another process already polls Telegram bot {parts.channel.bot}. Long polling is one "
                    "process per bot; run several replicas in webhook mode (docs/deployment.md)."
                ) from error
        server = HttpServer(parts.runtime)
        from bot.web.setup import page_addresses, web_settings

        pages = web_settings(settings) if parts.conversation.web is not None else None
        if pages is not None:  # the report form (bot/web/), offered by the chat
            server.add_web(pages)
            parts.channel.pages = page_addresses(pages)
        zalo = None
        if settings.zalo_bot_token is not None and settings.zalo_bot_token.get_secret_value():
            from bot.app import add_zalo
            from bot.file_links import FileLinks, derived_secret

            zalo_token = settings.zalo_bot_token.get_secret_value()
            links = None
            if settings.public_base_url:
                links = FileLinks(derived_secret(zalo_token), settings.public_base_url)
                server.links = links
            zalo = add_zalo(parts, token=zalo_token, base_url=settings.zalo_api_base_url, links=links)
            zalo.pages = parts.channel.pages
        zalo_secret = settings.zalo_webhook_secret.get_secret_value() if settings.zalo_webhook_secret else None
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        await start(parts, polling=not webhook)
        try:
            if webhook and secret:
                path = server.add_telegram(parts.channel, secret)
                await parts.application.bot.set_webhook(webhook.rstrip("/") + path, secret_token=secret,
                                                        allowed_updates=[])
            if webhook and zalo is not None and zalo_secret:
                path = server.add_zalo(zalo, zalo_secret)
                await zalo.client.set_webhook(webhook.rstrip("/") + path, zalo_secret)
            elif webhook and zalo is not None:  # no Zalo webhook secret: Zalo polls
                for _channel, poller in parts.zalo:
                    poller.start()
            if webhook or settings.http_port:
                await server.start(settings.webhook_listen, settings.http_port or settings.webhook_port)
            await stopping.wait()
        finally:
            await server.stop()
            await stop(parts)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="offline demo on a fresh SQLite database")
    demo.add_argument("--database", default="data/demo.db")
    demo.set_defaults(handler=cmd_demo)

    shell = commands.add_parser("shell", help="chat with the bot in the terminal as an officer")
    shell.add_argument("--officer", required=True, help="the officer's code in the bloc file")
    shell.add_argument("--bloc")
    shell.add_argument("--now", help="pretend the time is this local moment, e.g. 2019-01-05T10:00 (to try the seed)")
    shell.set_defaults(handler=cmd_shell)

    run = commands.add_parser("run", help="run the real bot (TELEGRAM_BOT_TOKEN required)")
    run.add_argument("--webhook", metavar="URL",
                     help="webhook mode: the public HTTPS base URL (the bot's path /telegram/<bot id> is added)")
    run.set_defaults(handler=cmd_run)

    init = commands.add_parser("init", help="validate and load a bloc configuration file")
    init.add_argument("file")
    init.set_defaults(handler=cmd_init)

    results = commands.add_parser("results", help="results sent outside the chat")
    results_commands = results.add_subparsers(dest="results_command", required=True)
    results_import = results_commands.add_parser("import", help="import a results file")
    results_import.add_argument("file")
    results_import.set_defaults(handler=cmd_results_import)

    ranking = commands.add_parser("ranking", help="print the ranking")
    ranking.add_argument("--bloc")
    ranking.add_argument("--year", type=int)
    ranking.add_argument("--period", choices=[kind.value for kind in PeriodKind], default="year-end")
    ranking.add_argument("--format", choices=["table", "json"], default="table")
    ranking.set_defaults(handler=cmd_ranking)

    invites = commands.add_parser("invites", help="issue personal invite codes")
    invites.add_argument("--bloc")
    invites.add_argument("--officer", metavar="CODE", help="issue a new code to this officer only (replaces theirs)")
    invites.add_argument("--all", action="store_true", help="also for officers already linked")
    invites.set_defaults(handler=cmd_invites)

    web_link = commands.add_parser("web-link", help="issue a personal link to the web report form")
    web_link.add_argument("--bloc")
    web_link.add_argument("--officer", metavar="CODE", required=True)
    web_link.set_defaults(handler=cmd_web_link)
    board_link = commands.add_parser("board-link", help="issue (or --revoke) a board member's link to the overview")
    board_link.add_argument("--name", required=True, help="the board member's name")
    board_link.add_argument("--days", type=int, default=90, help="how long the link works (days)")
    board_link.add_argument("--revoke", action="store_true", help="revoke every link of this name")
    board_link.set_defaults(handler=cmd_board_link)

    web_revoke = commands.add_parser("web-revoke", help="revoke an officer's personal links to the web form")
    web_revoke.add_argument("--bloc")
    web_revoke.add_argument("--officer", metavar="CODE", required=True)
    web_revoke.add_argument("--link", type=int, help="only this link (its number); default: all of them")
    web_revoke.set_defaults(handler=cmd_web_revoke)

    audit = commands.add_parser("audit", help="print the audit trail")
    audit.add_argument("--bloc")
    audit.add_argument("--unit")
    audit.add_argument("--limit", type=int, default=1000)
    audit.set_defaults(handler=cmd_audit)

    export = commands.add_parser("export", help="write the score sheet (.xlsx) and the minutes (.docx)")
    export.add_argument("--bloc")
    export.add_argument("--year", type=int)
    export.add_argument("--period", choices=[kind.value for kind in PeriodKind], default="year-end")
    export.add_argument("--out", default=".", help="the folder to write the files to")
    export.add_argument("--place", help="where the meeting is held, for the minutes")
    export.set_defaults(handler=cmd_export)

    votes = commands.add_parser("votes", help="print the ballots of a year: rules, turnout, results")
    votes.add_argument("--bloc")
    votes.add_argument("--year", type=int, help="the year voted on (default: the newest with ballots)")
    votes.add_argument("--format", choices=["table", "json"], default="table")
    votes.set_defaults(handler=cmd_votes)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status is 0 on success, 2 on bad input."""
    args = build_parser().parse_args(argv)
    console = Console(width=max(Console().width, 140))
    handler: Command = args.handler
    settings = get_settings()
    configure_logging(settings.log_level, secrets=[secret.get_secret_value() for secret in (
        settings.telegram_bot_token, settings.webhook_secret, settings.ballot_secret) if secret is not None])
    use_ballot_secret(ballot_secret(settings))
    return handler(args, settings, console)
