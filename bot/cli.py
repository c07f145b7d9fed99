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
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine
from sqlmodel import Session

from bot.loading import FileError, load_bloc_file, load_results_file
from bot.logs import configure_logging
from bot.settings import Settings, ballot_secret, get_settings, telegram_tokens, zalo_tokens
from bot.terminal import render_ranking_table
from handlers.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalog, format_moment, t
from handlers.markup import to_plain
from handlers.renderers.files import make
from handlers.services.ranking import RankingError, compute_ranking
from rules.config import BlocConfig, PeriodKind
from rules.rehearsal import dates_outside_year, rehearse
from storage.audit import list_audit, record
from storage.blocs import LoadError, find_bloc, load_bloc
from storage.db import make_engine, migrate, session_scope
from storage.invites import InviteState, invite_states, issue_invites
from storage.results import ResultsError, import_results
from storage.sealing import use_ballot_secret

Command = Callable[[argparse.Namespace, Settings, Console], int]
DEFAULT_ZONE = "Asia/Ho_Chi_Minh"  # an audit entry of no bloc (rules.config.Bloc's default time zone)


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
        console.print(f"[red]✗[/red] {escape(line)}", highlight=False, soft_wrap=True)
    return 2


def text(args: argparse.Namespace, key: str, **params: object) -> str:
    """A text of the command line's catalog (`handlers/locales/*/cli.yaml`) in the chosen language, plain."""
    return to_plain(t(language(args), key, **params))


def language(args: argparse.Namespace) -> str:
    """The language of the command line: `--lang`, Vietnamese by default."""
    return str(getattr(args, "lang", None) or DEFAULT_LANGUAGE)


def say(console: Console, args: argparse.Namespace, key: str, **params: object) -> None:
    """Print a catalog text as it is (no console markup read into it)."""
    console.print(text(args, key, **params), markup=False, highlight=False, soft_wrap=True)


def columns(table: Table, args: argparse.Namespace, key: str, zone: str = "", **options: object) -> None:
    """A table's columns from a catalog text `A|B|C` (`{zone}` in it: the time zone its times are in)."""
    for name in text(args, key, zone=zone).split("|"):
        table.add_column(name, **options)  # type: ignore[arg-type]


def moment(value: dt.datetime, zone: str, args: argparse.Namespace) -> str:
    """A moment in the bloc's time zone, as the chat writes it (`17:00 ngày 10/01/2019`)."""
    return format_moment(value, zone, language(args))


def cmd_init(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Validate a bloc file and load it (idempotent; changes are audited)."""
    path = Path(args.file)
    try:
        config = load_bloc_file(path)
    except FileError as exc:
        return _fail(console, str(exc).splitlines())
    if args.rehearse:
        config = rehearse(config, dt.datetime.now(dt.UTC))
    else:
        for found in dates_outside_year(config):
            say(console, args, "cli_init_outside_year", year=found.year,
                kind=text(args, f"cli_period_{found.kind.value}"), field=found.field,
                moment=format_moment(found.moment, config.bloc.timezone, language(args)))
    try:
        with database(settings) as session:
            summary = load_bloc(session=session, config=config, actor=f"cli:init {path.name}")
    except LoadError as exc:
        return _fail(console, [f"{path}: {problem}" for problem in exc.problems])
    if summary.created:
        say(console, args, "cli_init_loaded", bloc=summary.bloc_code, units=len(config.units),
            officers=len(config.officers), indicators=len(config.indicators))
    elif summary.changes:
        say(console, args, "cli_init_changed", bloc=summary.bloc_code)
        for change in summary.changes:
            console.print(f"  - {change}", markup=False, highlight=False)
    else:
        say(console, args, "cli_init_same", bloc=summary.bloc_code)
    if config.bloc.rehearsal_days is not None:
        first = min(config.periods, key=lambda period: period.reporting.opens)
        zone = config.bloc.timezone
        opens = first.reporting.opens if first.reporting.opens.tzinfo else \
            first.reporting.opens.replace(tzinfo=config.zone())
        say(console, args, "cli_rehearsal_loaded", bloc=summary.bloc_code, days=config.bloc.rehearsal_days,
            opens=moment(opens, zone, args))
    return 0


def _rehearsal_banner(console: Console, args: argparse.Namespace, bloc: BlocConfig) -> None:
    """A rehearsed bloc's output starts by saying so."""
    if bloc.bloc.rehearsal_days is not None:
        say(console, args, "cli_rehearsal_banner", bloc=bloc.bloc.code, days=bloc.bloc.rehearsal_days)


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
    say(console, args, "cli_results_imported", units=summary.units, changed=summary.changed_entries)
    return 0


def cmd_ranking(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Print the ranking of a period as a table or JSON."""
    try:
        with database(settings) as session:
            report = compute_ranking(session=session, bloc_code=args.bloc, year=args.year,
                                     period=PeriodKind(args.period))
            ranked = find_bloc(session=session, bloc_code=report.bloc_code)
    except RankingError as exc:
        return _fail(console, [_problem(args, exc)])
    if args.format == "json":
        sys.stdout.write(json.dumps(report.as_json(), ensure_ascii=False) + "\n")
    else:
        if ranked is not None:
            _rehearsal_banner(console, args, ranked.config)
        render_ranking_table(report, console, language=language(args))
    return 0


def cmd_invites(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Show each officer's invite state; issue a code to those who need one (or to one named officer)."""
    now = dt.datetime.now(dt.UTC)
    with database(settings) as session:
        bloc = find_bloc(session=session, bloc_code=args.bloc)
        if bloc is None:
            return _no_bloc(console, args)
        known = {state.officer_code: state for state in invite_states(session=session, bloc_id=bloc.id, now=now)}
        if args.officer is not None and args.officer not in known:
            return _fail(console, [text(args, "cli_no_active_officer", bloc=bloc.code, officer=args.officer)])
        issued = issue_invites(
            session=session, bloc_id=bloc.id, now=now, ttl=dt.timedelta(days=settings.invite_ttl_days),
            actor="cli:invites", include_linked=args.all, officer_code=args.officer,
        )
        states = invite_states(session=session, bloc_id=bloc.id, now=now)
        zone = bloc.config.bloc.timezone
    _rehearsal_banner(console, args, bloc.config)
    overview = Table(title=escape(text(args, "cli_invites_title", bloc=bloc.code)))
    columns(overview, args, "cli_invites_columns")
    for state in states:
        label = text(args, f"cli_invites_state_{state.state.value}") \
            + (f" ({', '.join(state.accounts)})" if state.accounts else "")
        overview.add_row(escape(state.unit_code), escape(state.officer_name), escape(label),
                         moment(state.expires_at, zone, args) if state.expires_at else "")
    console.print(overview)
    if not issued:
        say(console, args, "cli_invites_none_issued")
        return 0
    table = Table(title=escape(text(args, "cli_invites_new_title")))
    columns(table, args, "cli_invites_new_columns")
    for invite in issued:
        link = f"https://t.me/{settings.bot_username}?start={invite.code}" if settings.bot_username else ""
        table.add_row(escape(invite.unit_code), escape(invite.officer_name), invite.code,
                      moment(invite.expires_at, zone, args), link)
    console.print(table)
    replaced = [invite for invite in issued if known[invite.officer_code].state is InviteState.waiting]
    if replaced:
        say(console, args, "cli_invites_replaced", names=", ".join(invite.officer_name for invite in replaced))
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


def _problem(args: argparse.Namespace, error: LookupError) -> str:
    """A lookup that failed, in the command line's language when its text is in the catalog."""
    if isinstance(error, RankingError) and error.key:
        params = dict(error.params)
        if "kind" in params:
            params["kind"] = text(args, f"cli_period_{params['kind']}")
        return text(args, error.key, **params)
    return str(error)


def _no_bloc(console: Console, args: argparse.Namespace) -> int:
    code = getattr(args, "bloc", None)
    return _fail(console, [text(args, "cli_no_bloc", bloc=code) if code else text(args, "cli_no_bloc_given")])


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
        console.print(escape(text(args, "cli_board_link_revoked", count=count, name=name)), highlight=False)
        return 0
    pages = web_settings(settings)
    if pages is None:
        return _fail(console, ["PUBLIC_BASE_URL is not set: the web pages are served there (see .env.example)."])
    # The overview opens in the command's language (`--lang`, Vietnamese by default), as the chat speaks
    # each officer's.
    with database(settings) as session:
        member = issue_board_link(session=session, name=name, now=now, ttl=dt.timedelta(days=args.days),
                                  actor="cli:board-link", language=language(args))
    url = board_link_url(pages, member)
    console.print(escape(text(args, "cli_board_link_issued", name=name, id=member.id, days=args.days)),
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
                return _no_bloc(console, args)
            bloc_id = bloc.id
        entries = list_audit(session=session, bloc_id=bloc_id, unit_code=args.unit, limit=args.limit)
        # Each entry in its bloc's time zone (an entry of no bloc in the default one).
        zones: dict[str | None, str] = {None: DEFAULT_ZONE}
        for code in {entry.bloc_code for entry in entries} - {None}:
            found = find_bloc(session=session, bloc_code=code)
            zones[code] = found.config.bloc.timezone if found is not None else DEFAULT_ZONE
    shown = sorted(set(zones[entry.bloc_code] for entry in entries)) or [DEFAULT_ZONE]
    table = Table(title=escape(text(args, "cli_audit_title")))
    columns(table, args, "cli_audit_columns", zone=", ".join(shown), overflow="fold")
    for entry in entries:
        at = entry.at.astimezone(ZoneInfo(zones[entry.bloc_code]))
        table.add_row(at.strftime("%d/%m/%Y %H:%M:%S"), *(escape(value) for value in (
            entry.actor, entry.bloc_code or "", entry.unit_code or "", entry.action, entry.target,
            entry.before or "", entry.after or "")))
    console.print(table)
    return 0


def cmd_usage(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Print the outbound messages of each bot, month by month, against the Zalo budget."""
    from storage.usage import usage_rows

    with database(settings) as session:
        rows = [(row.channel, row.bot, row.month, row.messages, row.near_told_at, row.exceeded_told_at)
                for row in usage_rows(session=session)]
    budget = settings.zalo_monthly_budget
    table = Table(title="Tin nhắn bot đã gửi theo tháng")
    for column in ("Kênh", "Bot", "Tháng", "Đã gửi", "Hạn mức", "Đã báo 80%", "Hết hạn mức"):
        table.add_column(column, overflow="fold")
    for channel, bot, month, messages, near, exceeded in rows:
        limit = str(budget) if channel == "zalo" and budget else ""
        table.add_row(channel, bot, month, str(messages), limit,
                      near.strftime("%Y-%m-%d %H:%M") if near else "",
                      exceeded.strftime("%Y-%m-%d %H:%M") if exceeded else "")
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
            return _fail(console, [_problem(args, exc)])
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
        say(console, args, "cli_export_wrote", path=str(out / file.name))
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
            return _no_bloc(console, args)
        year = args.year or next(iter(ballot_years(session=session, bloc_id=bloc.id)), None) \
            or voting_year(session=session, bloc_id=bloc.id) or latest_year(session=session, bloc_id=bloc.id)
        if year is None:
            return _fail(console, [text(args, "cli_no_period", bloc=bloc.code)])
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
    zone = bloc.config.bloc.timezone
    _rehearsal_banner(console, args, bloc.config)
    table = Table(title=escape(text(args, "cli_votes_title", bloc=bloc.config.bloc.name, year=year)))
    columns(table, args, "cli_votes_columns", zone=zone, overflow="fold")
    for result in results:
        closed = result.closed_at or result.closes_at
        tallies = "\n".join(f"{option}: {count}" for option, count in minutes_tallies(result))
        table.add_row(escape(minutes_question(result)), escape(minutes_rules(result)),
                      f"{result.votes_cast}/{result.members}",
                      f"{moment(result.opened_at, zone, args)} — {moment(closed, zone, args)}",
                      escape((tallies + "\n" if tallies else "") + minutes_outcome(result)))
    console.print(table)
    if not results:
        say(console, args, "cli_votes_none", year=year)
    if next_year is not None and roles is not None:
        source = f"cli_votes_source_{roles.source}"
        say(console, args, "cli_votes_next", year=year + 1, leader=next_year["leader"], deputy=next_year["deputy"],
            source=text(args, source) if source in catalog(language(args)) else roles.source)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Offline demo: the seed year played through the real bot against a fake Bot API."""
    # The demo drives the bot with the test doubles; the product never imports them otherwise.
    import shutil

    from fakes.demo import play_seed_year

    # The chronicle is read in the terminal: it fits the terminal's width, not the tables' 140 columns.
    width = shutil.get_terminal_size().columns
    return asyncio.run(play_seed_year(Path(args.database), Console(width=width), args.channel))


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
                return _no_bloc(console, args)
            officer = officer_by_code(session=session, bloc_code=bloc.code, officer_code=args.officer)
            if officer is None or officer.id is None:
                codes = ", ".join(o.code for o in bloc.config.officers)
                return _fail(console, [text(args, "cli_no_officer", bloc=bloc.code, officer=args.officer,
                                            codes=codes)])
            officer_id = officer.id
            if args.allow_ballots:
                # Whoever runs the shell may now cast the unit's secret vote: say so in the trail.
                record(session=session, actor=f"console:{officer.code}", bloc_id=bloc.id,
                       action="console.allow_ballots", target=f"officer:{officer.code}", before=None,
                       after={"allowed": True})
        clock = system_clock
        if args.now:
            moment = dt.datetime.fromisoformat(args.now)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=bloc.config.zone())
            clock = RunningClock(moment.astimezone(dt.UTC))
        conversation = Conversation(engine, clock=clock, console_ballots=args.allow_ballots)
        channel = ConsoleChannel(conversation, officer_id, sys.stdout, secrets.token_hex(4))

        def read_line() -> str | None:
            try:
                return input()
            except EOFError:
                return None

        channel.run(read_line)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Run the real bots (Telegram, Zalo or both): long polling, or webhook mode with `--webhook URL`."""
    from bot.running import run

    return run(settings, webhook=args.webhook, console=console, language=args.lang)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    language_help = "the language of the output: vi (Vietnamese, the default) or en"
    parser.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE, help=language_help)
    # Also after the command (`python -m bot invites --lang en`); absent there, the one before it stands.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS, help=language_help)
    commands = parser.add_subparsers(dest="command", required=True)
    add_parser = commands.add_parser

    def with_lang(name: str, **options: Any) -> argparse.ArgumentParser:
        return add_parser(name, parents=[common], **options)

    commands.add_parser = with_lang  # type: ignore[method-assign]

    demo = commands.add_parser("demo", help="offline demo on a fresh SQLite database")
    demo.add_argument("--database", default="data/demo.db")
    demo.add_argument("--channel", choices=["mixed", "telegram", "zalo"], default="mixed",
                      help="where the units' officers are: some on each (mixed), or all on Telegram or Zalo")
    demo.set_defaults(handler=cmd_demo)

    shell = commands.add_parser("shell", help="chat with the bot in the terminal as an officer")
    shell.add_argument("--officer", required=True, help="the officer's code in the bloc file")
    shell.add_argument("--bloc")
    shell.add_argument("--allow-ballots", action="store_true",
                       help="let this terminal cast the unit's ballot (refused otherwise; recorded in the audit trail)")
    shell.add_argument("--now", help="pretend the time is this local moment, e.g. 2019-01-05T10:00 (to try the seed)")
    shell.set_defaults(handler=cmd_shell)

    run = commands.add_parser("run", help="run the real bots (a Telegram or Zalo token required)")
    run.add_argument("--webhook", metavar="URL",
                     help="webhook mode: the public HTTPS base URL (each bot's path /telegram/<bot id> or "
                          "/zalo/<bot id> is added)")
    run.set_defaults(handler=cmd_run)

    init = commands.add_parser("init", help="validate and load a bloc configuration file")
    init.add_argument("file")
    init.add_argument("--rehearse", action="store_true",
                      help="a rehearsal: every date of the year moved by the same days so the year starts now")
    init.set_defaults(handler=cmd_init)

    results = commands.add_parser("results", help="results sent outside the chat")
    results_commands = results.add_subparsers(dest="results_command", required=True)
    results_import = results_commands.add_parser("import", help="import a results file", parents=[common])
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
    board_link = commands.add_parser("board-link", help="issue (or --revoke) a board member's link to the overview"
                                     " (shown in the --lang given: vi, the default, or en)")
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

    usage = commands.add_parser("usage", help="print each bot's outbound messages per month")
    usage.set_defaults(handler=cmd_usage)

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
    configure_logging(settings.log_level, secrets=[*telegram_tokens(settings), *zalo_tokens(settings), *(
        secret.get_secret_value() for secret in (settings.webhook_secret, settings.zalo_webhook_secret,
                                                 settings.ballot_secret) if secret is not None)])
    use_ballot_secret(ballot_secret(settings))
    return handler(args, settings, console)
