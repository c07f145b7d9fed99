"""Zalo events to the neutral Incoming, the webhook body and its secret."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.zalo_channel import event_time, to_incoming, unwrap_webhook_body, webhook_secret_ok
from handlers.chat import InKind
from tests.zalo.factories import EVENT_IMAGE, EVENT_STICKER, EVENT_TEXT, EVENT_UNSUPPORTED, GROUP, LAN_ID, event

BOT = "1459232241454765289"


def test_a_text_in_a_private_chat() -> None:
    incoming = to_incoming(event(EVENT_TEXT, message_id="16f6366b3f02645a3d15", text="Xin chào"), BOT)
    assert incoming is not None
    assert incoming.kind is InKind.text
    assert incoming.text == "Xin chào"
    assert incoming.channel == "zalo"
    assert incoming.update_key == f"zalo:{BOT}:16f6366b3f02645a3d15"
    assert incoming.user_id == LAN_ID and incoming.chat_id == LAN_ID  # strings, as Zalo's ids are
    assert incoming.is_private
    assert incoming.user_name == "Nguyễn Thị Lan"


def test_the_same_message_id_of_another_bot_is_another_update() -> None:
    one = to_incoming(event(EVENT_TEXT, message_id="m1", text="1"), BOT)
    other = to_incoming(event(EVENT_TEXT, message_id="m1", text="1"), "999")
    assert one is not None and other is not None
    assert one.update_key != other.update_key


@pytest.mark.parametrize(("typed", "command", "args"), [
    ("/start ABCD-1234", "start", ("ABCD-1234",)),
    ("/Report", "report", ()),
    ("  /lang  en ", "lang", ("en",)),
    ("/status@khoithidua_bot", "status", ()),
])
def test_a_text_starting_with_a_slash_is_a_command(typed: str, command: str, args: tuple[str, ...]) -> None:
    incoming = to_incoming(event(EVENT_TEXT, text=typed), BOT)
    assert incoming is not None
    assert incoming.kind is InKind.command
    assert (incoming.command, incoming.args) == (command, args)
    assert incoming.text == typed


@pytest.mark.parametrize("typed", ["2", "96,5", "/", "a/b", "30.544 hộ"])
def test_numbers_and_other_texts_stay_texts(typed: str) -> None:
    incoming = to_incoming(event(EVENT_TEXT, text=typed), BOT)
    assert incoming is not None
    assert incoming.kind is InKind.text
    assert incoming.text == typed


def test_a_group_message() -> None:
    incoming = to_incoming(event(EVENT_TEXT, chat=GROUP, text="/bind"), BOT)
    assert incoming is not None
    assert not incoming.is_private
    assert incoming.chat_id == GROUP.id and incoming.user_id == LAN_ID


def test_an_image_is_a_photo_file_by_its_url() -> None:
    url = "https://photo-stal.zadn.vn/evidence/abc123.jpg"
    incoming = to_incoming(event(EVENT_IMAGE, photo_url=url, caption="Biên bản"), BOT)
    assert incoming is not None
    assert incoming.kind is InKind.file
    assert incoming.file is not None
    assert incoming.file.file_id == url
    assert incoming.file.is_photo
    assert incoming.file.file_name == "abc123.jpg"
    assert incoming.text == "Biên bản"


def test_an_image_under_the_documented_name_photo() -> None:
    incoming = to_incoming(event(EVENT_IMAGE, message_id="m9", photo="https://example.invalid/p"), BOT)
    assert incoming is not None and incoming.file is not None
    assert incoming.file.file_id == "https://example.invalid/p"
    assert incoming.file.file_name == "photo-m9.jpg"


def test_an_image_without_a_url_is_unsupported() -> None:
    incoming = to_incoming(event(EVENT_IMAGE), BOT)
    assert incoming is not None
    assert incoming.kind is InKind.unsupported


@pytest.mark.parametrize("kind", [EVENT_STICKER, EVENT_UNSUPPORTED, "message.video.received"])
def test_stickers_withheld_and_unknown_kinds_are_unsupported(kind: str) -> None:
    incoming = to_incoming(event(kind, sticker="d063f44dc80821567819"), BOT)
    assert incoming is not None
    assert incoming.kind is InKind.unsupported
    assert incoming.update_key.startswith(f"zalo:{BOT}:")


def test_what_is_not_a_persons_message_is_ignored() -> None:
    assert to_incoming(event(EVENT_TEXT, text="hi", is_bot=True), BOT) is None
    assert to_incoming({"event_name": EVENT_TEXT}, BOT) is None
    without_id = event(EVENT_TEXT, text="hi")
    del without_id["message"]["message_id"]  # type: ignore[attr-defined]
    assert to_incoming(without_id, BOT) is None


def test_the_date_is_epoch_milliseconds() -> None:
    assert event_time(event(EVENT_TEXT, text="x", date=1766619597466)) == dt.datetime(
        2025, 12, 24, 23, 39, 57, 466000, tzinfo=dt.UTC)


def test_a_webhook_body_wrapped_or_bare() -> None:
    bare = event(EVENT_TEXT, text="x")
    assert unwrap_webhook_body({"ok": True, "result": bare}) == bare
    assert unwrap_webhook_body(bare) == bare
    assert unwrap_webhook_body({"ok": False, "result": bare}) is None
    assert unwrap_webhook_body({"ok": True, "result": {"no": "event"}}) is None
    assert unwrap_webhook_body([bare]) is None


def test_the_webhook_secret() -> None:
    assert webhook_secret_ok("s3cret-token", "s3cret-token")
    assert not webhook_secret_ok("s3cret-tokeN", "s3cret-token")
    assert not webhook_secret_ok("s3cret", "s3cret-token")
    assert not webhook_secret_ok(None, "s3cret-token")
    assert not webhook_secret_ok("", "")
    assert webhook_secret_ok("bí mật ✓ 12345", "bí mật ✓ 12345")  # not only ASCII
