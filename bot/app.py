"""One place wires everything: settings, database, conversation, runtime, Telegram application.

Order of the pieces: the database engine (migrated by the caller) and, on
PostgreSQL, its asyncio twin; the channel-neutral conversation on it; the units
of work (bot/units.py); the outbox's sender and the runtime around them
(bot/outbox.py, bot/runtime.py); the Telegram application with its single
update handler and its error handler and the per-chat update processor; our
own long poll (bot/telegram_channel.py `TelegramPoller`), started by `start`
unless the process serves webhooks; the reminder scheduler (each pass also
closes the ballots whose time is up, their announcements owed through the
outbox). `start` and `stop` bring it all up and down in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.file_links import FileLinks
from bot.outbox import Limits, Sender, SenderSettings
from bot.port import Delivery, Message, Verdict
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
from handlers.chat import Reply, parse_address
from handlers.dispatch import Clock, Conversation, owe, system_clock
from handlers.flows.votes.due import due_ballot_replies
from handlers.i18n import warm_up
from storage.db import make_async_engine


@dataclass(frozen=True)
class BotParts:
    """The built application and what it is made of (tests and the demo reach in)."""

    application: TelegramApp
    conversation: Conversation
    channel: TelegramChannel
    runtime: Runtime
    poller: TelegramPoller
    reminders: ReminderScheduler
    start_reminders: bool = False  # `start` starts the reminder scheduler
    dispose_engine: bool = True  # `stop` closes the engine's connections
    zalo: list[tuple[ZaloChannel, ZaloPoller]] = field(default_factory=list)  # `add_zalo`


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
) -> BotParts:
    """Build the real python-telegram-bot Application around the conversation and the runtime.

    `messages_per_second` is the bot-wide send rate (Telegram allows about 30),
    counted in the database for every process together; None lifts it (for
    measuring). `reminders=True` starts the reminder scheduler with `start`.
    `http_client` is "aiohttp" (bot/transport.py) or "httpx" (python-telegram-bot's own).
    `request_timeout` is the read timeout of a Bot API request (the long poll adds its own
    time); tests lower it to see hung answers time out.
    """
    if http_client not in ("aiohttp", "httpx"):
        raise ValueError(f"unknown HTTP client {http_client!r}: aiohttp or httpx")
    warm_up()
    conversation = Conversation(engine, clock=clock, bots={"telegram": bot_id_of(token)})
    # On PostgreSQL units of work run on the event loop through psycopg's asyncio
    # driver (bot/units.py); the update processor closes its engine.
    async_engine = make_async_engine(engine.url.render_as_string(hide_password=False), pool_size=10,
                                     max_overflow=10) if engine.dialect.name == "postgresql" else None
    units = UnitsOfWork(engine, async_engine)
    limits = Limits(per_second=int(messages_per_second) if messages_per_second else None,
                    per_group_minute=group_messages_per_minute)
    outbox = Sender(units, (), limits=limits, settings=sender)
    runtime = Runtime(conversation, units, outbox, recovery=recovery)

    application = build_telegram(token=token, base_url=base_url, base_file_url=base_file_url,
                                 http_client=http_client, read_timeout=request_timeout, on_shutdown=[units.close])
    channel = TelegramChannel(runtime, application, bot_id=bot_id_of(token), bot_username=bot_username)
    channel.install()
    outbox.add(channel)
    poller = TelegramPoller(channel, timeout=poll_timeout)

    async def deliver(to: str, reply: Reply) -> Delivery:
        """A reminder through the port; a rate limit or a server error is tried again a few times."""
        on, chat_id = parse_address(to)
        # The officer's channel: this process's bot on it (a Zalo one added by add_zalo too).
        through = next((found for (name, _bot), found in outbox.channels.items() if name == on), None)
        if through is None:
            return Delivery(Verdict.refused, detail=f"no {on} bot in this process")
        delivery = await through.deliver(chat_id, Message(reply))
        for attempt in range(4):
            if delivery.verdict is not Verdict.retry:
                break
            await asyncio.sleep(delivery.retry_after if delivery.retry_after is not None else 0.5 * 2 ** attempt)
            delivery = await through.deliver(chat_id, Message(reply, parts_done=delivery.parts_done))
        return delivery

    scheduler = ReminderScheduler(deliver=deliver, engine=engine, clock=clock,
                                  messages_per_second=(messages_per_second or 30.0) * PACE_SHARE)

    def owe_here(session: Session, replies: Any) -> list[str]:
        return owe(session, channel=channel.name, bot=channel.bot, replies=replies, now=system_clock())

    async def close_due_ballots(now: dt.datetime) -> None:
        """Ballots whose closing time has come are counted and announced (handlers/flows/votes/due.py)."""
        chats = await asyncio.to_thread(partial(due_ballot_replies, engine, now, owe_here))
        for chat in chats:
            await outbox.flush(chat)

    scheduler.tasks.append(close_due_ballots)
    return BotParts(application=application, conversation=conversation, channel=channel, runtime=runtime,
                    poller=poller, reminders=scheduler, start_reminders=reminders, dispose_engine=dispose_engine)


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
    """Bring the bot up: the application, the command menu, the runtime's background pass, the polls.

    A polling process (one per bot) or a process on SQLite (one per database) sends
    for its bot alone: it first takes over the messages a stopped process was sending.
    """
    for channel, _poller in parts.zalo:
        await channel.client.start()
    await parts.application.initialize()
    if polling or parts.conversation.engine.dialect.name == "sqlite":
        await parts.runtime.sender.take_over()
    if commands:
        await set_commands(parts.application)
    await parts.application.start()
    parts.runtime.start()
    if polling:
        parts.poller.start()
        for _channel, poller in parts.zalo:
            poller.start()
    if parts.start_reminders:
        await parts.reminders.start()


async def stop(parts: BotParts) -> None:
    """Bring the bot down in the reverse order; what is kept and owed stays in the database."""
    await parts.poller.stop()
    for channel, poller in parts.zalo:
        await poller.stop()
        await channel.close()
    await parts.reminders.stop()
    await parts.runtime.stop()
    if parts.application.running:
        await parts.application.stop()
    await parts.application.shutdown()
    for channel, _poller in parts.zalo:
        await channel.client.close()
    if parts.dispose_engine:
        parts.conversation.engine.dispose()
