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

The parts: ``state`` (chats, messages, files), ``updates`` (getUpdates, the webhook),
``methods`` (the Bot API methods), ``faults`` (errors, delays, holds, rate limits),
``server`` (the HTTP front), ``control`` (what tests call: :class:`FakeTelegram`),
``users`` (scripted people), ``checks``, ``html``, ``models``, ``errors``.
"""

from fakes.telegram.control import FakeTelegram
from fakes.telegram.faults import Hold
from fakes.telegram.html import EntityParseError, parse_html, utf16_len
from fakes.telegram.models import (
    CallbackAnswer,
    FakeChat,
    JSONDict,
    SentMessage,
    StoredFile,
    UploadedFile,
    WebhookDelivery,
)
from fakes.telegram.users import FakeUser, command_entities

__all__ = [
    "CallbackAnswer",
    "EntityParseError",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "Hold",
    "JSONDict",
    "SentMessage",
    "StoredFile",
    "UploadedFile",
    "WebhookDelivery",
    "command_entities",
    "parse_html",
    "utf16_len",
]
