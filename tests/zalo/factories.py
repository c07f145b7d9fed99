"""Zalo events for tests, made by the fake server's own factory (not copied dicts)."""

from __future__ import annotations

from fakes.zalo import EVENT_IMAGE, EVENT_STICKER, EVENT_TEXT, EVENT_UNSUPPORTED, FakeZaloChat, IdMaker, message_event

_IDS = IdMaker("tests")
LAN_ID = "e4ea2cd5189df1c3a88c"
LAN = FakeZaloChat(id=LAN_ID, chat_type="PRIVATE", name="Nguyễn Thị Lan")
GROUP = FakeZaloChat(id="9a1b2c3d4e5f60718293", chat_type="GROUP", name="Khối thi đua số 3")


def event(
    event_name: str = EVENT_TEXT,
    *,
    chat: FakeZaloChat = LAN,
    message_id: str | None = None,
    date: int = 1766619597466,
    is_bot: bool = False,
    **content: str,
) -> dict[str, object]:
    """An event from Lan (in her private chat unless ``chat`` says otherwise)."""
    return message_event(event_name, message_id=message_id or _IDS.next("message"), chat=chat, sender_id=LAN_ID,
                         display_name="Nguyễn Thị Lan", date=date, is_bot=is_bot, content=content)


__all__ = ["EVENT_IMAGE", "EVENT_STICKER", "EVENT_TEXT", "EVENT_UNSUPPORTED", "GROUP", "LAN", "LAN_ID", "event"]
