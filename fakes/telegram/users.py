"""Scripted Telegram users that talk to the bot through the fake server."""

from __future__ import annotations

import re
import time
from typing import Any

from fakes.telegram.html import utf16_len
from fakes.telegram.models import FakeChat, JSONDict, SentMessage
from fakes.telegram.state import ServerState
from fakes.telegram.updates import UpdateQueue

__all__ = ["FakeUser"]

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")

# Tiny placeholder payloads for media the tests do not care about.
_STICKER_BYTES = b"RIFF\x1a\x00\x00\x00WEBPVP8 fake-sticker"
_VOICE_BYTES = b"OggS\x00\x02" + b"\x00" * 32


def command_entities(text: str) -> list[JSONDict]:
    """Return the ``bot_command`` entity for a leading ``/command[@bot]`` (as Telegram does)."""
    match = _COMMAND_RE.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]


class FakeUser:
    """A scripted human user; each action enqueues a real Update and returns it (as a dict)."""

    def __init__(
        self,
        state: ServerState,
        updates: UpdateQueue,
        user_id: int,
        first_name: str,
        *,
        bot_username: str,
        username: str | None = None,
        language_code: str = "vi",
        last_name: str | None = None,
    ) -> None:
        """Create a user; use ``FakeTelegram.user(...)`` instead of calling this directly."""
        if user_id <= 0:
            raise ValueError("user ids are positive integers")
        self._state = state
        self._updates = updates
        self._bot_username = bot_username
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.chat = FakeChat(id=user_id, type="private", username=username, first_name=first_name)

    def __repr__(self) -> str:
        """Short representation for test output."""
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"

    def to_dict(self) -> JSONDict:
        """Return the Bot API ``User`` object."""
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def _chat(self, chat: FakeChat | None) -> FakeChat:
        return self.chat if chat is None else chat

    def _message(self, chat: FakeChat | None, fields: JSONDict, reply_to: SentMessage | int | None) -> JSONDict:
        message = self._state.new_user_message(self.to_dict(), self._chat(chat), fields, reply_to)
        return self._updates.enqueue({"message": message})

    def _callback(self, current: SentMessage | None, chat_id: int, message_id: int, data: str) -> JSONDict:
        query = self._state.new_callback_query(self.to_dict(), self.chat, chat_id, current, message_id, data)
        return self._updates.enqueue({"callback_query": query})

    def _my_chat_member(self, old: str, new: str) -> JSONDict:
        bot_user = self._state.bot_user

        def member(status: str) -> JSONDict:
            data: JSONDict = {"user": bot_user, "status": status}
            if status == "kicked":
                data["until_date"] = 0
            return data

        return self._updates.enqueue({
            "my_chat_member": {
                "chat": self.chat.to_dict(),
                "from": self.to_dict(),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            }
        })

    async def send_text(
        self,
        text: str,
        *,
        chat: FakeChat | None = None,
        reply_to: SentMessage | int | None = None,
    ) -> JSONDict:
        """Send a text message (private chat by default); a leading /command gets its entity."""
        fields: dict[str, Any] = {"text": text}
        entities = command_entities(text)
        if entities:
            fields["entities"] = entities
        return self._message(chat, fields, reply_to)

    async def edit_text(self, sent: JSONDict, text: str) -> JSONDict:
        """Edit a text message this user sent (the update ``send_text`` returned): an ``edited_message``."""
        original = sent.get("message")
        if not isinstance(original, dict) or original.get("from", {}).get("id") != self.id:
            raise AssertionError("only a message this user sent can be edited")
        key = (original["chat"]["id"], original["message_id"])
        fields: dict[str, Any] = {"text": text}
        entities = command_entities(text)
        if entities:
            fields["entities"] = entities
        edited: JSONDict = {k: v for k, v in original.items() if k not in ("text", "entities")}
        edited.update(fields, edit_date=int(time.time()))
        self._state.user_messages[key] = edited
        return self._updates.enqueue({"edited_message": edited})

    async def send_command(
        self, command: str, *args: str, chat: FakeChat | None = None, at_bot: bool = False
    ) -> JSONDict:
        """Send ``/command arg1 arg2`` (``/command@bot_username`` when ``at_bot``)."""
        text = "/" + command.lstrip("/")
        if at_bot:
            text += "@" + self._bot_username
        if args:
            text += " " + " ".join(args)
        return await self.send_text(text, chat=chat)

    async def press(
        self,
        message_or_id: SentMessage | int,
        *,
        text: str | None = None,
        data: str | None = None,
        chat: FakeChat | None = None,
    ) -> JSONDict:
        """Press an inline button of a bot message, chosen by visible ``text`` or ``data``.

        With neither given, the message must have exactly one callback button.
        Raises AssertionError if the message or the button does not exist.
        """
        if isinstance(message_or_id, SentMessage):
            chat_id, message_id = message_or_id.chat_id, message_or_id.message_id
        else:
            chat_id, message_id = self._chat(chat).id, message_or_id
        current = self._state.current.get((chat_id, message_id))
        if current is None or current.deleted:
            raise AssertionError(f"no live bot message {message_id} in chat {chat_id}")
        buttons = current.buttons
        if text is not None:
            matches = [b for b in buttons if b[0] == text]
        elif data is not None:
            matches = [b for b in buttons if b[1] == data]
        else:
            matches = [b for b in buttons if b[1] is not None]
            if len(matches) != 1:
                raise AssertionError(
                    f"message {message_id} has {len(matches)} callback buttons, say which one to press: {buttons}"
                )
        if not matches:
            wanted = f"text={text!r}" if text is not None else f"data={data!r}"
            raise AssertionError(
                f"message {message_id} in chat {chat_id} has no button with {wanted}; buttons: {buttons}"
            )
        label, callback_data = matches[0]
        if callback_data is None:
            raise AssertionError(f"button {label!r} has no callback_data (URL/other button)")
        return self._callback(current, chat_id, message_id, callback_data)

    async def press_raw(self, message_id: int, data: str, *, chat: FakeChat | None = None) -> JSONDict:
        """Send a callback_query with arbitrary (possibly forged) data for ``message_id``."""
        chat_id = self._chat(chat).id
        current = self._state.current.get((chat_id, message_id))
        return self._callback(current, chat_id, message_id, data)

    async def send_document(
        self,
        file_name: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        *,
        caption: str | None = None,
        chat: FakeChat | None = None,
    ) -> JSONDict:
        """Upload a document (downloadable by the bot through getFile)."""
        stored = self._state.store_file("document", content, mime_type, file_name)
        fields: dict[str, Any] = {
            "document": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": file_name,
                "mime_type": mime_type,
                "file_size": len(content),
            }
        }
        if caption is not None:
            fields["caption"] = caption
        return self._message(chat, fields, None)

    async def send_photo(
        self,
        content: bytes,
        *,
        caption: str | None = None,
        chat: FakeChat | None = None,
        width: int = 800,
        height: int = 600,
    ) -> JSONDict:
        """Send a photo (one PhotoSize, downloadable by the bot)."""
        stored = self._state.store_file("photo", content, "image/jpeg", None)
        fields: dict[str, Any] = {
            "photo": [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": len(content),
                }
            ]
        }
        if caption is not None:
            fields["caption"] = caption
        return self._message(chat, fields, None)

    async def send_sticker(self, *, emoji: str = "👍", chat: FakeChat | None = None) -> JSONDict:
        """Send a (static) sticker."""
        stored = self._state.store_file("sticker", _STICKER_BYTES, "image/webp", None)
        fields: dict[str, Any] = {
            "sticker": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": emoji,
                "file_size": len(_STICKER_BYTES),
            }
        }
        return self._message(chat, fields, None)

    async def send_voice(
        self, content: bytes = _VOICE_BYTES, *, duration: int = 2, chat: FakeChat | None = None
    ) -> JSONDict:
        """Send a voice note."""
        stored = self._state.store_file("voice", content, "audio/ogg", None)
        fields: dict[str, Any] = {
            "voice": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "duration": duration,
                "mime_type": "audio/ogg",
                "file_size": len(content),
            }
        }
        return self._message(chat, fields, None)

    async def block_bot(self) -> JSONDict:
        """Block the bot: later sends to this user answer 403; a my_chat_member update follows."""
        self._state.blocked.add(self.id)
        return self._my_chat_member("member", "kicked")

    async def unblock_bot(self) -> JSONDict:
        """Unblock the bot (my_chat_member update back to "member")."""
        self._state.blocked.discard(self.id)
        return self._my_chat_member("kicked", "member")
