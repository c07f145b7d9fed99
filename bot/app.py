"""One place wires everything: settings, database, conversation, runtime, the channels' bots.

Order of the pieces (`build_parts`): the database engine (migrated by the
caller) and, on PostgreSQL, its asyncio twin; the channel-neutral conversation
on it; the units of work (bot/units.py); the outbox's sender and the runtime
around them (bot/outbox.py, bot/runtime.py); the reminder scheduler, whose
messages are outbox rows too (each pass also closes the ballots whose time is
up, their announcements owed through the outbox). Then any number of bots per
channel: `add_telegram` (python-telegram-bot's application with its single
update handler, its error handler and the per-chat update processor, and our
own long poll, bot/telegram_channel.py `TelegramPoller`) and `add_zalo`. Each
bot has its own webhook path, rate budget and processed-update keys; which bot
reaches an address is decided when a reply is owed (handlers.dispatch.owe).
`start` and `stop` bring it all up and down in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.file_links import FileLinks
from bot.outbox import Limits, Sender, SenderSettings
from bot.runtime import RecoverySettings, Runtime
from bot.scheduler import PACE_SHARE, ReminderScheduler
from bot.telegram_channel import (
    TelegramApp,
    TelegramChannel,
    TelegramPoller,
    bot_id_of,
    build_telegram,
    set_commands,
)
from bot.units import UnitsOfWork
from bot.zalo_channel import QUOTA_PAUSE, ZaloChannel, ZaloPoller
from bot.zalo_client import DEFAULT_BASE_URL as DEFAULT_ZALO_BASE_URL
from bot.zalo_client import ZaloBotClient
from handlers.chat import Reply
from handlers.dispatch import Clock, Conversation, owe, system_clock
from handlers.flow import WebOffer
from handlers.flows.votes.due import due_ballot_replies
from handlers.i18n import warm_up
from storage.db import make_async_engine
from storage.messages import last_outgoing_id


@dataclass(frozen=True)
class TelegramBot:
    """One Telegram bot of the process: its application, its side of the port, its long poll."""

    application: TelegramApp
    channel: TelegramChannel
    poller: TelegramPoller


@dataclass(frozen=True)
class BotParts:
    """The built bot and what it is made of (tests and the demo reach in).

    A process serves any number of bots on each channel (`add_telegram`,
    `add_zalo`); `application`, `channel` and `poller` are the first Telegram bot's.
    """

    conversation: Conversation
    runtime: Runtime
    reminders: ReminderScheduler
    start_reminders: bool = False  # `start` starts the reminder scheduler
    dispose_engine: bool = True  # `stop` closes the engine's connections
    telegram: list[TelegramBot] = field(default_factory=list)  # `add_telegram`
    zalo: list[tuple[ZaloChannel, ZaloPoller]] = field(default_factory=list)  # `add_zalo`

    def _first(self) -> TelegramBot:
        if not self.telegram:
            raise LookupError("this process serves no Telegram bot")
        return self.telegram[0]

    @property
    def application(self) -> TelegramApp:
        """The first Telegram bot's application."""
        return self._first().application

    @property
    def channel(self) -> TelegramChannel:
        """The first Telegram bot's channel."""
        return self._first().channel

    @property
    def poller(self) -> TelegramPoller:
        """The first Telegram bot's long poll."""
        return self._first().poller


MENUS_LOOKED_AT_EVERY = dt.timedelta(hours=1)


def build_parts(
    *,
    engine: Engine,
    clock: Clock = system_clock,
    messages_per_second: float | None = 30.0,
    group_messages_per_minute: int | None = 20,
    dispose_engine: bool = True,
    reminders: bool = False,
    sender: SenderSettings | None = None,
    recovery: RecoverySettings | None = None,
    web: WebOffer | None = None,
) -> BotParts:
    """The channel-neutral bot: conversation, units of work, sender, runtime, reminders; no channel yet.

    `messages_per_second` is each bot's send rate (Telegram allows about 30),
    counted in the database for every process together; None lifts it (for
    measuring). `reminders=True` starts the reminder scheduler with `start`.
    Channels are added with `add_telegram` and `add_zalo`. `web`: the web form is served
    and the chat offers it (bot/web/setup.py).
    """
    warm_up()
    conversation = Conversation(engine, clock=clock, web=web)
    # On PostgreSQL units of work run on the event loop through psycopg's asyncio
    # driver (bot/units.py); `stop` closes its engine.
    async_engine = make_async_engine(engine.url.render_as_string(hide_password=False), pool_size=20,
                                     max_overflow=0) if engine.dialect.name == "postgresql" else None
    units = UnitsOfWork(engine, async_engine)
    limits = Limits(per_second=int(messages_per_second) if messages_per_second else None,
                    per_group_minute=group_messages_per_minute)
    outbox = Sender(units, (), limits=limits, settings=sender)
    outbox.bots = conversation.bots  # the same mapping: bots added later are seen (a refused group post rerouted)
    runtime = Runtime(conversation, units, outbox, recovery=recovery)

    def owe_reminder(session: Session, to: str, reply: Reply) -> tuple[str, int] | None:
        """A reminder owed through the outbox, by the bot that reaches the address (handlers.dispatch.owe)."""
        chats = owe(session, replies=[replace(reply, chat_id=to)], now=system_clock(), bots=conversation.bots)
        return (chats[0], last_outgoing_id(session=session, chat_key=chats[0])) if chats else None

    scheduler = ReminderScheduler(owe=owe_reminder, flush=outbox.flush, engine=engine, clock=clock,
                                  messages_per_second=(messages_per_second or 30.0) * PACE_SHARE, progress=outbox)

    def owe_here(session: Session, replies: Any) -> list[str]:
        return owe(session, replies=replies, now=system_clock(), bots=conversation.bots)

    async def close_due_ballots(now: dt.datetime) -> None:
        """Ballots whose closing time has come are counted and announced (handlers/flows/votes/due.py)."""
        chats = await asyncio.to_thread(partial(due_ballot_replies, engine, now, owe_here))
        for chat in chats:
            await outbox.flush(chat)

    scheduler.tasks.append(close_due_ballots)
    parts = BotParts(conversation=conversation, runtime=runtime, reminders=scheduler, start_reminders=reminders,
                     dispose_engine=dispose_engine)

    looked: list[dt.datetime] = []  # when the scheduler last looked at the menus

    async def refresh_menus(now: dt.datetime) -> None:
        """A command menu per chat that follows the unit's role (a new year, a new leader): looked at
        once an hour (and at each start, `serve`), not at every pass of the scheduler."""
        if looked and abs(now - looked[0]) < MENUS_LOOKED_AT_EVERY:
            return
        looked[:] = [now]
        for telegram in parts.telegram:
            for chat in await units.run(partial(conversation.refresh_menus, channel=telegram.channel.name,
                                                bot=telegram.channel.bot)):
                await outbox.flush(chat)

    scheduler.tasks.append(refresh_menus)
    return parts


def add_telegram(parts: BotParts, *, token: str, base_url: str = "https://api.telegram.org/bot",
                 base_file_url: str = "https://api.telegram.org/file/bot", bot_username: str | None = None,
                 http_client: str = "aiohttp", poll_timeout: int = 30, request_timeout: float = 5.0
                 ) -> TelegramChannel:
    """Serve a Telegram bot: its python-telegram-bot Application, its channel on the port, its long poll.

    `http_client` is "aiohttp" (bot/transport.py) or "httpx" (python-telegram-bot's own).
    `request_timeout` is the read timeout of a Bot API request (the long poll adds its own
    time); tests lower it to see hung answers time out.
    """
    if http_client not in ("aiohttp", "httpx"):
        raise ValueError(f"unknown HTTP client {http_client!r}: aiohttp or httpx")
    runtime = parts.runtime
    application = build_telegram(token=token, base_url=base_url, base_file_url=base_file_url,
                                 http_client=http_client, read_timeout=request_timeout,
                                 on_shutdown=[runtime.units.close])
    channel = TelegramChannel(runtime, application, bot_id=bot_id_of(token), bot_username=bot_username)
    channel.install()
    runtime.sender.add(channel)
    parts.conversation.bots.setdefault(channel.name, channel.bot)
    parts.telegram.append(TelegramBot(application, channel, TelegramPoller(channel, timeout=poll_timeout)))
    return channel


def build_application(
    *,
    token: str,
    engine: Engine,
    base_url: str,
    base_file_url: str,
    bot_username: str | None = None,
    clock: Clock = system_clock,
    messages_per_second: float | None = 30.0,
    group_messages_per_minute: int | None = 20,
    dispose_engine: bool = True,
    reminders: bool = False,
    http_client: str = "aiohttp",
    sender: SenderSettings | None = None,
    recovery: RecoverySettings | None = None,
    poll_timeout: int = 30,
    request_timeout: float = 5.0,
    web: WebOffer | None = None,
) -> BotParts:
    """The bot with one Telegram bot (`build_parts` and `add_telegram`)."""
    parts = build_parts(engine=engine, clock=clock, messages_per_second=messages_per_second,
                        group_messages_per_minute=group_messages_per_minute, dispose_engine=dispose_engine,
                        reminders=reminders, sender=sender, recovery=recovery, web=web)
    add_telegram(parts, token=token, base_url=base_url, base_file_url=base_file_url, bot_username=bot_username,
                 http_client=http_client, poll_timeout=poll_timeout, request_timeout=request_timeout)
    return parts


def add_zalo(parts: BotParts, *, token: str, base_url: str = DEFAULT_ZALO_BASE_URL,
             links: FileLinks | None = None, poll_timeout: int = 30, monthly_budget: int | None = None,
             quota_pause: float = QUOTA_PAUSE) -> ZaloChannel:
    """Serve a Zalo bot too: its channel on the port, its long poll (started by `start` when polling).

    `monthly_budget`: outbound messages a month (the leader is told at 80 %); `quota_pause`: seconds
    the outbox waits before trying again after Zalo's 429 "quota exceeded".
    """
    client = ZaloBotClient(token, base_url=base_url)
    channel = ZaloChannel(parts.runtime, client, links=links, monthly_budget=monthly_budget,
                          quota_pause=quota_pause)
    parts.runtime.sender.add(channel)
    parts.conversation.bots.setdefault(channel.name, channel.bot)
    parts.zalo.append((channel, ZaloPoller(channel, timeout=poll_timeout)))
    return channel


async def start(parts: BotParts, *, polling: bool = True, commands: bool = True) -> None:
    """Bring the bot up: the applications, the command menus, the runtime's background pass, the polls.

    A polling process (one per bot) or a process on SQLite (one per database) sends
    for its bots alone: it first takes over the messages a stopped process was sending.
    A failure on the way up leaves what started running: the caller stops it (`stop`).
    """
    for channel, _poller in parts.zalo:
        await channel.client.start()
        await channel.check_groups()
    for telegram in parts.telegram:
        await telegram.application.initialize()
    if polling or parts.conversation.engine.dialect.name == "sqlite":
        await parts.runtime.sender.take_over()
    for telegram in parts.telegram:
        if commands:
            await set_commands(telegram.application)
            # Known accounts whose menu changed while the bot was down (each is set again only then).
            await parts.runtime.units.run(partial(parts.conversation.refresh_menus, channel=telegram.channel.name,
                                                  bot=telegram.channel.bot))
        await telegram.application.start()
    parts.runtime.start()
    if polling:
        for telegram in parts.telegram:
            telegram.poller.start()
        for _channel, poller in parts.zalo:
            poller.start()
    if parts.start_reminders:
        await parts.reminders.start()


async def stop(parts: BotParts) -> None:
    """Bring the bot down in the reverse order; what is kept and owed stays in the database."""
    for telegram in parts.telegram:
        await telegram.poller.stop()
    for channel, poller in parts.zalo:
        await poller.stop()
        await channel.close()
    await parts.reminders.stop()
    await parts.runtime.stop()
    parts.runtime.sender.cancel_timers()
    for telegram in parts.telegram:
        if telegram.application.running:
            await telegram.application.stop()
        await telegram.application.shutdown()  # (nothing to do when it never started)
        await telegram.application.bot.shutdown()  # its HTTP sessions, also after a failed start
    for channel, _poller in parts.zalo:
        await channel.client.close()
    await parts.runtime.units.close()
    if parts.dispose_engine:
        parts.conversation.engine.dispose()
