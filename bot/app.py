"""One place wires everything: settings, database, conversation, Telegram application.

Order of the pieces: the database engine (migrated by the caller), the
channel-neutral conversation on it, the Telegram adapter with its single update
handler and its error handler, the per-chat update processor and the rate
limiter; the reminder scheduler (started in `post_init` when `reminders=True`,
or by the caller with `parts.reminders.start()`; stopped in `post_stop`; each
pass also closes the ballots whose time is up and sends their one reminder);
`post_init` sets the command menu, `post_shutdown` closes the engine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.scheduler import PACE_SHARE, ReminderScheduler
from bot.telegram_channel import PerChatUpdateProcessor, TelegramChannel, set_commands
from bot.transport import DEFAULT_POOL_SIZE, AiohttpRequest
from handlers.dispatch import Clock, Conversation, system_clock
from handlers.flows.votes.due import due_ballot_replies
from handlers.i18n import warm_up
from storage.db import make_async_engine

TelegramApp = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True)
class BotParts:
    """The built application and what it is made of (tests and the demo reach in)."""

    application: TelegramApp
    conversation: Conversation
    channel: TelegramChannel
    reminders: ReminderScheduler


def build_application(
    *,
    token: str,
    engine: Engine,
    base_url: str,
    base_file_url: str,
    bot_username: str | None = None,
    clock: Clock = system_clock,
    rate_limit_retries: int = 5,
    messages_per_second: float = 30.0,
    group_messages_per_minute: float = 20.0,
    dispose_engine: bool = True,
    reminders: bool = False,
    http_client: str = "aiohttp",
) -> BotParts:
    """Build the real python-telegram-bot Application around the conversation.

    `messages_per_second` is the bot-wide send rate (Telegram allows about 30);
    python-telegram-bot's AIORateLimiter holds requests above it and retries 429s.
    `reminders=True` starts the reminder scheduler with the application (`run`).
    `http_client` is "aiohttp" (bot/transport.py) or "httpx" (python-telegram-bot's own).
    """
    if http_client not in ("aiohttp", "httpx"):
        raise ValueError(f"unknown HTTP client {http_client!r}: aiohttp or httpx")
    warm_up()
    conversation = Conversation(engine, clock=clock)
    # On PostgreSQL a turn runs on the event loop through psycopg's asyncio driver
    # (bot/telegram_channel.py TelegramChannel._handle); the update processor closes it.
    async_engine = make_async_engine(engine.url.render_as_string(hide_password=False), pool_size=10,
                                     max_overflow=10) if engine.dialect.name == "postgresql" else None
    closing = [async_engine.dispose] if async_engine is not None else []
    channel = TelegramChannel(conversation, bot_username=bot_username, async_engine=async_engine)

    async def post_init(application: TelegramApp) -> None:
        await set_commands(application)
        if reminders:
            await scheduler.start()

    async def post_stop(_application: TelegramApp) -> None:
        await scheduler.stop()

    async def post_shutdown(_application: TelegramApp) -> None:
        if dispose_engine:
            engine.dispose()

    builder = ApplicationBuilder()
    if http_client == "aiohttp":
        builder = builder.request(AiohttpRequest(connection_pool_size=DEFAULT_POOL_SIZE)) \
            .get_updates_request(AiohttpRequest(connection_pool_size=1))
    else:
        builder = builder.connection_pool_size(DEFAULT_POOL_SIZE)
    application: TelegramApp = (
        builder
        .token(token)
        .base_url(base_url)
        .base_file_url(base_file_url)
        .concurrent_updates(PerChatUpdateProcessor(256, on_shutdown=closing))
        .rate_limiter(AIORateLimiter(overall_max_rate=messages_per_second,
                                     group_max_rate=group_messages_per_minute,
                                     max_retries=rate_limit_retries))
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    channel.install(application)
    scheduler = ReminderScheduler(application=application, engine=engine, clock=clock,
                                  messages_per_second=messages_per_second * PACE_SHARE)

    async def close_due_ballots(now: dt.datetime) -> None:
        """Ballots whose closing time has come are counted and announced (handlers/flows/votes/due.py)."""
        await channel.deliver(application, await asyncio.to_thread(due_ballot_replies, engine, now))

    scheduler.tasks.append(close_due_ballots)
    parts = BotParts(application=application, conversation=conversation, channel=channel,
                     reminders=scheduler)
    return parts
