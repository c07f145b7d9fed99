"""A fake Telegram Bot API server for tests, the offline demo and benchmarks.

Usage::

    async with FakeTelegram() as fake:
        app = (
            ApplicationBuilder()
            .token(fake.token)
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        alice = fake.user(1001, "Alice")
        await alice.send_command("start")
        reply = await fake.next_reply(alice)
"""

from bot.fake_telegram.html import EntityParseError, parse_html, utf16_len
from bot.fake_telegram.models import (
    CallbackAnswer,
    FakeChat,
    JSONDict,
    SentMessage,
    StoredFile,
    UploadedFile,
    WebhookDelivery,
)
from bot.fake_telegram.server import FakeTelegram
from bot.fake_telegram.users import FakeUser, command_entities

__all__ = [
    "CallbackAnswer",
    "EntityParseError",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "JSONDict",
    "SentMessage",
    "StoredFile",
    "UploadedFile",
    "WebhookDelivery",
    "command_entities",
    "parse_html",
    "utf16_len",
]
