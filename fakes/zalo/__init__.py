"""A fake Zalo Bot Platform (Bot API) server for tests, the offline demo and benchmarks.

Usage::

    async with FakeZalo(idle_wait=0.2) as fake, ZaloBotClient(fake.token, base_url=fake.base_url) as client:
        lan = fake.user("Nguyễn Thị Lan")
        lan.send_command("start", "CODE")
        event = await client.get_updates(timeout=5)     # one event, or None after a 408
        await client.send_message(lan.id, "Xin chào")
        reply = await fake.next_reply(lan)

The parts: ``models`` (records), ``faults`` (errors, delays, holds, the monthly quota),
``updates`` (getUpdates one event per call, 408 when idle; the webhook with its secret
header), ``users`` (scripted people and event factories), ``server`` (the HTTP front and
the methods) and ``control`` (:class:`FakeZalo`, what tests call).
"""

from fakes.zalo.control import FakeZalo
from fakes.zalo.faults import ApiError, Fault, Hold
from fakes.zalo.models import FakeZaloChat, JSONDict, SentZaloMessage, WebhookDelivery
from fakes.zalo.updates import SECRET_HEADER
from fakes.zalo.users import (
    EVENT_IMAGE,
    EVENT_STICKER,
    EVENT_TEXT,
    EVENT_UNSUPPORTED,
    FakeZaloUser,
    IdMaker,
    message_event,
)

__all__ = [
    "EVENT_IMAGE",
    "EVENT_STICKER",
    "EVENT_TEXT",
    "EVENT_UNSUPPORTED",
    "SECRET_HEADER",
    "ApiError",
    "FakeZalo",
    "FakeZaloChat",
    "FakeZaloUser",
    "Fault",
    "Hold",
    "IdMaker",
    "JSONDict",
    "SentZaloMessage",
    "WebhookDelivery",
    "message_event",
]
