"""`python -m bot run`: the bots the settings name, on every channel, until SIGINT or SIGTERM.

Telegram, Zalo or both, one bot or several on each (`TELEGRAM_BOT_TOKEN(S)`,
`ZALO_BOT_TOKEN(S)`); at least one token. At start it says, one line each,
the bots' names, the database (without its password), the blocs loaded and
which bots serve them, the mode (polling, or the webhook URLs), each bloc's
next reminder; on stop, what it did. A failure an operator can expect (a
rejected token, an API or a database out of reach, a database newer than the
code, a second process where one is allowed) is one line and exit status 2,
never a traceback: everything started is closed first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from alembic.util.exc import CommandError
from rich.console import Console
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, col, select

from bot.app import BotParts, add_telegram, add_zalo, build_parts, start, stop
from bot.file_links import FileLinks, derived_secret
from bot.http_server import HttpServer
from bot.leases import AlreadyRunning, hold_alone
from bot.logs import redact
from bot.outbox import SenderSettings
from bot.settings import Settings, telegram_tokens, zalo_tokens
from bot.telegram_channel import InvalidToken, TelegramError
from bot.zalo_client import ZaloError, ZaloUnauthorized
from handlers.i18n import format_moment, t
from handlers.markup import to_plain
from handlers.services.reminders import next_reminders
from storage.blocs import bloc_config_of
from storage.db import make_engine, migrate, session_scope
from storage.messages import backlog
from storage.models import Bloc

Say = Callable[..., None]


class RunFailure(Exception):
    """An expected failure: its catalog key and parameters make the one line the operator reads."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass
class Talk:
    """The operator's lines, in one language, from the catalogs."""

    console: Console
    language: str = "vi"
    secrets: tuple[str, ...] = ()

    def text(self, key: str, **params: Any) -> str:
        """A catalog line as plain text, with every secret redacted."""
        return redact(to_plain(t(self.language, key, **params)), self.secrets)

    def say(self, key: str, **params: Any) -> None:
        """Print one line."""
        self.console.print(self.text(key, **params), highlight=False, soft_wrap=True, markup=False)

    def fail(self, failure: RunFailure) -> int:
        """Print the failure's one line; the exit status."""
        self.console.print("✗ " + self.text(failure.key, **failure.params), style="red", highlight=False,
                           soft_wrap=True, markup=False)
        return 2


def shown_url(url: str) -> str:
    """A database URL without its password."""
    return make_url(url).render_as_string(hide_password=True)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextmanager
def _migrated(settings: Settings) -> Iterator[Engine]:
    """The configured database, migrated to this code's newest schema; the engine closed after."""
    url = shown_url(settings.database_url)
    try:
        migrate(settings.database_url)
    except CommandError as error:
        if "Can't locate revision" in str(error):
            revision = str(error).rsplit(" ", 1)[-1].strip("'\"")
            raise RunFailure("run_database_newer", url=url, revision=revision) from None
        raise RunFailure("run_migration_failed", url=url, error=_first_line(error)) from None
    except (OperationalError, DBAPIError) as error:
        raise RunFailure("run_database_unreachable", url=url, error=_first_line(error)) from None
    engine = make_engine(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (Linux and macOS; not on Windows), else asyncio's own.

    A turn waits on the database a dozen times and on the platform twice or
    three times; asyncio's own loop spends a good part of a turn's CPU on those
    waits. With uvloop a turn on PostgreSQL cost 6,4–6,7 ms of the process's CPU
    against 6,7–6,9 ms, and 10 officers writing at once got a p95 of 92–97 ms
    against 98–101 ms (bench/chat_process.py; docs/performance.md, 03/12/2026).
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(settings: Settings, *, webhook: str | None, console: Console, language: str = "vi") -> int:
    """Run the bots the settings name until SIGINT or SIGTERM; the exit status."""
    telegram, zalo = telegram_tokens(settings), zalo_tokens(settings)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    talk = Talk(console, language, secrets=tuple(telegram + zalo + ([secret] if secret else [])))
    try:
        if not telegram and not zalo:
            raise RunFailure("run_no_token")
        if webhook and telegram and not secret:
            raise RunFailure("run_webhook_secret")
        from bot.web.setup import web_offer, web_settings

        # The web pages, when PUBLIC_BASE_URL is set and the HTTP server runs (webhook mode or HTTP_PORT).
        pages = web_settings(settings) if (webhook or settings.http_port) else None
        with _migrated(settings) as engine:
            parts = build_parts(engine=engine, reminders=True,
                                messages_per_second=settings.telegram_messages_per_second or None,
                                sender=SenderSettings(lease=dt.timedelta(seconds=settings.outbox_lease_seconds)),
                                web=web_offer(pages, min_items=settings.web_form_min_items) if pages else None)
            for token in telegram:
                add_telegram(parts, token=token, base_url=settings.telegram_api_base_url,
                             base_file_url=settings.telegram_file_base_url,
                             bot_username=settings.bot_username if len(telegram) == 1 else None,
                             http_client=settings.telegram_http_client)
            links = FileLinks(derived_secret(zalo[0]), settings.public_base_url) \
                if zalo and settings.public_base_url else None
            for token in zalo:
                add_zalo(parts, token=token, base_url=settings.zalo_api_base_url, links=links,
                         monthly_budget=settings.zalo_monthly_budget or None)
            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                runner.run(serve(parts, settings, talk, webhook=webhook, secret=secret, links=links))
    except RunFailure as failure:
        return talk.fail(failure)
    return 0


@contextmanager
def _alone(parts: BotParts, *, polling: bool) -> Iterator[None]:
    """What this process must hold alone: a SQLite file; in polling mode, each bot's long poll."""
    engine = parts.conversation.engine
    with ExitStack() as held:
        if engine.dialect.name == "sqlite":
            try:
                held.enter_context(hold_alone(engine, "sqlite"))
            except AlreadyRunning:
                raise RunFailure("run_sqlite_busy", path=engine.url.database or "") from None
        elif polling:
            for name, bot in parts.runtime.sender.channels:
                try:
                    held.enter_context(hold_alone(engine, f"poll:{name}:{bot}"))
                except AlreadyRunning:
                    raise RunFailure("run_already_polling", channel=name, bot=bot) from None
        yield


async def _check_bots(parts: BotParts, settings: Settings, talk: Talk) -> None:
    """Ask each platform who each bot is (a wrong token or an API out of reach fails here); say their names."""
    for telegram in parts.telegram:
        try:
            await telegram.application.initialize()
        except InvalidToken:
            raise RunFailure("run_telegram_rejected", bot=telegram.channel.bot) from None
        except TelegramError as error:
            raise RunFailure("run_telegram_unreachable", url=settings.telegram_api_base_url,
                             error=str(error) or type(error).__name__) from None
        me = telegram.application.bot
        talk.say("run_bot_telegram", username=me.username, name=me.first_name, bot=telegram.channel.bot)
    for channel, _poller in parts.zalo:
        await channel.client.start()
        try:
            info = await channel.client.get_me()
        except ZaloUnauthorized:
            raise RunFailure("run_zalo_rejected", bot=channel.bot) from None
        except ZaloError as error:
            raise RunFailure("run_zalo_unreachable", url=settings.zalo_api_base_url, error=str(error)) from None
        talk.say("run_bot_zalo", name=info.account_name or channel.bot, bot=channel.bot)


def _say_world(parts: BotParts, settings: Settings, talk: Talk, urls: list[str]) -> None:
    """The database, the blocs and their bots, the mode, the next reminders: one line each."""
    engine = parts.conversation.engine
    talk.say("run_database", url=shown_url(settings.database_url))
    with session_scope(engine) as session:
        blocs = [(bloc.code, bloc.name, dict(bloc_config_of(session=session, bloc=bloc).bloc.bots))
                 for bloc in session.exec(select(Bloc).order_by(col(Bloc.code)))]
        upcoming = next_reminders(session=session, now=dt.datetime.now(dt.UTC))
    served = list(parts.runtime.sender.channels)
    if blocs:
        talk.say("run_blocs", blocs="; ".join(
            talk.text("run_bloc_served", bloc=f"{code} ({name})",
                      bots=", ".join(f"{channel} {bot}" for channel, bot in sorted(bots.items())))
            if bots else f"{code} ({name})" for code, name, bots in blocs))
    else:
        talk.say("run_no_blocs")
    for code, _name, bots in blocs:
        for channel, bot in sorted(bots.items()):
            if (channel, bot) not in served:  # another process's, or a mistake: said, not refused
                talk.say("run_bots_unknown", bloc=code, channel=channel, bot=bot,
                         served=", ".join(b for c, b in served if c == channel) or "—")
    if urls:
        talk.say("run_mode_webhook", urls=", ".join(urls))
    else:
        talk.say("run_mode_polling")
    for reminder in upcoming:
        if reminder.at is None or reminder.kind is None:
            talk.say("run_no_reminder", bloc=reminder.bloc_code)
            continue
        talk.say("run_next_reminder", bloc=reminder.bloc_code,
                 moment=format_moment(reminder.at, reminder.timezone, talk.language),
                 what=talk.text(f"reminder_kind_{reminder.kind}"), year=reminder.period_year)


async def serve(parts: BotParts, settings: Settings, talk: Talk, *, webhook: str | None, secret: str | None,
                links: FileLinks | None = None) -> None:
    """Run until SIGINT or SIGTERM: the polls or the webhook server, the runtime, the reminders."""
    zalo_secret = settings.zalo_webhook_secret.get_secret_value() if settings.zalo_webhook_secret else None
    with _alone(parts, polling=not webhook):
        server = HttpServer(parts.runtime)
        server.links = links
        from bot.web.setup import page_addresses, web_settings

        pages = web_settings(settings) if parts.conversation.web is not None else None
        if pages is not None:  # the report form (bot/web/), offered by the chat
            server.add_web(pages)
            addresses = page_addresses(pages)
            for telegram in parts.telegram:
                telegram.channel.pages = addresses
            for channel, _poller in parts.zalo:
                channel.pages = addresses
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        urls: list[str] = []
        try:
            await _check_bots(parts, settings, talk)
            await start(parts, polling=not webhook)
            base = webhook.rstrip("/") if webhook else ""
            if webhook and secret:
                for telegram in parts.telegram:
                    path = server.add_telegram(telegram.channel, secret)
                    await telegram.application.bot.set_webhook(base + path, secret_token=secret, allowed_updates=[])
                    urls.append(base + path)
            for channel, poller in parts.zalo:
                if webhook and zalo_secret:
                    path = server.add_zalo(channel, zalo_secret)
                    await channel.client.set_webhook(base + path, zalo_secret)
                    urls.append(base + path)
                elif webhook:  # no Zalo webhook secret: Zalo polls
                    poller.start()
            if webhook or settings.http_port:
                await server.start(settings.webhook_listen, settings.http_port or settings.webhook_port)
            _say_world(parts, settings, talk, urls)
            talk.say("run_ready")
            await stopping.wait()
        except TelegramError as error:  # a webhook the platform refused, the menu, ...
            raise RunFailure("run_telegram_unreachable", url=settings.telegram_api_base_url,
                             error=str(error) or type(error).__name__) from None
        except ZaloError as error:
            raise RunFailure("run_zalo_unreachable", url=settings.zalo_api_base_url, error=str(error)) from None
        finally:
            await server.stop()
            await stop(parts)
        owed = await asyncio.to_thread(_owed, parts.conversation.engine)
        talk.say("run_stopped", turns=parts.runtime.turns, sent=parts.runtime.sender.delivered,
                 reminders=parts.reminders.delivered, owed=owed)


def _owed(engine: Engine) -> int:
    with Session(engine) as session:
        return backlog(session=session)[0]
