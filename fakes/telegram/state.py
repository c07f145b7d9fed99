"""What the fake server knows: chats, the bot's messages, the people's messages, files."""

from __future__ import annotations

import asyncio
import contextlib
import time

from fakes.chronicle import Chronicle, Kind
from fakes.telegram.errors import ApiError
from fakes.telegram.models import FakeChat, JSONDict, SentMessage, StoredFile

__all__ = ["ServerState", "Signal", "inline_markup"]

_FILE_KINDS = {  # kind -> (file_id prefix, folder, default extension)
    "document": ("BQAC", "documents", "bin"),
    "photo": ("AgAC", "photos", "jpg"),
    "voice": ("AwAC", "voice", "oga"),
    "sticker": ("CAAC", "stickers", "webp"),
}


class Signal:
    """Wake-all notification (like asyncio.Condition.notify_all, without the lock)."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify_all(self) -> None:
        """Wake every current waiter."""
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait(self, timeout: float | None) -> None:
        """Wait for the next notify_all, or until ``timeout`` seconds passed."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            with contextlib.suppress(ValueError):
                self._waiters.remove(fut)


def inline_markup(markup: JSONDict | None) -> JSONDict | None:
    """Only inline keyboards are attached to (and echoed with) a message."""
    if markup and "inline_keyboard" in markup:
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


def _png_size(content: bytes) -> tuple[int, int] | None:
    if content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    return None


class ServerState:
    """Chats, messages and files of one fake server, and whether it is closing.

    Every change a test may wait for (a message recorded, an update fetched, a call
    answered) wakes :attr:`changed`; a message recorded also wakes :attr:`sent_signal`,
    which is all that the many people of a benchmark wait for.
    """

    def __init__(self, bot_user: JSONDict) -> None:
        """Start empty; ``bot_user`` is the bot's ``User`` object."""
        self.bot_user = bot_user
        self.changed = Signal()
        self.sent_signal = Signal()
        self.closing = False
        self.closed = asyncio.Event()

        self.sent: list[SentMessage] = []
        self.chats: dict[int, FakeChat] = {}
        self.blocked: set[int] = set()
        self.by_chat: dict[int, list[SentMessage]] = {}
        self.current: dict[tuple[int, int], SentMessage] = {}
        self.user_messages: dict[tuple[int, int], JSONDict] = {}
        self.pending_callbacks: dict[str, tuple[int, str | None]] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.reply_cursor: dict[int, int] = {}  # per chat: how far next_reply has read
        self.chronicle: Chronicle | None = None  # notes every message in and out when set
        self._message_ids: dict[int, int] = {}
        self._callback_counter = 0
        self._file_counter = 0

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        """The server listens (again)."""
        self.closing = False
        self.closed = asyncio.Event()

    def close(self) -> None:
        """The server stops: wake every waiter."""
        self.closing = True
        self.closed.set()
        self.changed.notify_all()
        self.sent_signal.notify_all()

    async def sleep(self, seconds: float) -> None:
        """Sleep, but wake up early when the server stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closed.wait(), seconds)

    # ------------------------------------------------------------------ chats and messages

    def resolve_chat(self, params: JSONDict) -> FakeChat:
        """The chat a Bot API call names in ``chat_id``, as Telegram would refuse it."""
        raw = params.get("chat_id")
        chat: FakeChat | None = None
        if isinstance(raw, int):
            chat = self.chats.get(raw)
        elif isinstance(raw, str) and raw.startswith("@"):
            chat = next((c for c in self.chats.values() if c.username == raw[1:]), None)
        elif raw is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def alloc_message_id(self, chat_id: int) -> int:
        """The next message id of a chat (people's and the bot's messages share them)."""
        message_id = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = message_id
        return message_id

    def new_user_message(
        self,
        sender: JSONDict,
        chat: FakeChat,
        fields: JSONDict,
        reply_to: SentMessage | int | None,
    ) -> JSONDict:
        """Store a person's message (``sender`` is their ``User`` object) and return it."""
        if chat.id not in self.chats:
            self.chats[chat.id] = chat
        message_id = self.alloc_message_id(chat.id)
        message: JSONDict = {
            "message_id": message_id,
            "from": sender,
            "chat": chat.to_dict(),
            "date": int(time.time()),
            **fields,
        }
        if reply_to is not None:
            reply_id = reply_to.message_id if isinstance(reply_to, SentMessage) else reply_to
            replied = self.lookup_message_json(chat.id, reply_id)
            if replied is not None:
                message["reply_to_message"] = replied
        self.user_messages[(chat.id, message_id)] = message
        return message

    def new_callback_query(
        self,
        sender: JSONDict,
        fallback_chat: FakeChat,
        chat_id: int,
        current: SentMessage | None,
        message_id: int,
        data: str,
    ) -> JSONDict:
        """A ``CallbackQuery`` for a press on ``message_id`` in ``chat_id`` (``current``: its state,
        if known; ``fallback_chat`` stands for a chat the server does not know)."""
        self._callback_counter += 1
        query_id = f"{self.bot_user['id']}{self._callback_counter:08d}"
        self.pending_callbacks[query_id] = (int(sender["id"]), data)
        if current is not None:
            message = self.message_json(current)
        else:
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": (self.chats.get(chat_id) or fallback_chat).to_dict(),
                "from": self.bot_user,
            }
        return {
            "id": query_id,
            "from": sender,
            "message": message,
            "chat_instance": str(abs(chat_id) * 31 + 7),
            "data": data,
        }

    def lookup_message_json(self, chat_id: int, message_id: int) -> JSONDict | None:
        """A live message of a chat (the bot's or a person's) as a ``Message``, else None."""
        current = self.current.get((chat_id, message_id))
        if current is not None and not current.deleted:
            return self.message_json(current, nested=False)
        user_message = self.user_messages.get((chat_id, message_id))
        if user_message is None:
            return None
        return {k: v for k, v in user_message.items() if k != "reply_to_message"}

    def message_json(self, sm: SentMessage, *, nested: bool = True) -> JSONDict:
        """The Bot API ``Message`` object of a bot message as it is now."""
        chat = self.chats.get(sm.chat_id) or FakeChat(id=sm.chat_id, type="private")
        data: JSONDict = {
            "message_id": sm.message_id,
            "from": self.bot_user,
            "chat": chat.to_dict(),
            "date": sm.date,
        }
        text_key, entities_key = ("text", "entities") if sm.kind == "text" else ("caption", "caption_entities")
        if sm.plain_text is not None:
            data[text_key] = sm.plain_text
            if sm.entities:
                data[entities_key] = sm.entities
        stored = self.files.get(sm.file_id) if sm.file_id else None
        if stored is not None and sm.kind == "document":
            data["document"] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": stored.file_name,
                "mime_type": stored.mime_type,
                "file_size": len(stored.content),
            }
        elif stored is not None and sm.kind == "photo":
            width, height = _png_size(stored.content) or (800, 600)
            data["photo"] = [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": len(stored.content),
                }
            ]
        inline = inline_markup(sm.reply_markup)
        if inline is not None:
            data["reply_markup"] = inline
        if sm.edit_date is not None:
            data["edit_date"] = sm.edit_date
        if nested and sm.reply_to_message_id is not None:
            replied = self.lookup_message_json(sm.chat_id, sm.reply_to_message_id)
            if replied is not None:
                data["reply_to_message"] = replied
        return data

    def record(self, sm: SentMessage) -> None:
        """Keep a message the bot sent (or a snapshot of an edit) and wake the waiters."""
        self.sent.append(sm)
        self.by_chat.setdefault(sm.chat_id, []).append(sm)
        if self.chronicle is not None:
            self.note_sent(self.chronicle, sm)
        self.sent_signal.notify_all()
        self.changed.notify_all()

    # ------------------------------------------------------------------ the chronicle

    def _is_group(self, chat_id: int) -> bool:
        chat = self.chats.get(chat_id)
        return chat is not None and chat.type != "private"

    def note_sent(self, chronicle: Chronicle, sm: SentMessage) -> None:
        """Note a message the bot sent or edited."""
        kind = Kind.edit if sm.is_edit else {"document": Kind.file, "photo": Kind.photo}.get(sm.kind, Kind.text)
        text = sm.plain_text if sm.plain_text is not None else (sm.text or "")
        chronicle.note(kind, channel="telegram", chat_id=str(sm.chat_id), group=self._is_group(sm.chat_id),
                       by_bot=True, text=text, file_name=sm.file_name, buttons=tuple(label for label, _ in sm.buttons),
                       file_size=None if sm.file_bytes is None else len(sm.file_bytes))

    def note_update(self, chronicle: Chronicle, update: JSONDict) -> None:
        """Note what a person did in an update: a text, a file, a button pressed."""
        message, query = update.get("message"), update.get("callback_query")
        if isinstance(query, dict):
            data = query.get("data")
            shown = query.get("message") or {}
            rows = (shown.get("reply_markup") or {}).get("inline_keyboard") or []
            label = next((str(button.get("text", "")) for row in rows for button in row
                          if button.get("callback_data") == data), str(data))
            chat_id = int((shown.get("chat") or {}).get("id", 0))
            chronicle.note(Kind.press, channel="telegram", chat_id=str(chat_id), group=self._is_group(chat_id),
                           sender=str(query["from"].get("first_name", "")), text=label)
            return
        if not isinstance(message, dict):
            return
        chat_id = int(message["chat"]["id"])
        sender = str(message.get("from", {}).get("first_name", ""))
        where = {"channel": "telegram", "chat_id": str(chat_id), "group": self._is_group(chat_id), "sender": sender}
        if "document" in message:
            document = message["document"]
            chronicle.note(Kind.file, **where, text=str(message.get("caption", "")),
                           file_name=document.get("file_name"), file_size=document.get("file_size"))
        elif "photo" in message:
            photo = message["photo"][-1]
            chronicle.note(Kind.photo, **where, text=str(message.get("caption", "")),
                           file_size=photo.get("file_size"))
        else:
            chronicle.note(Kind.text, **where, text=str(message.get("text", "")))

    def note_toast(self, chronicle: Chronicle, user_id: int, text: str) -> None:
        """Note the bot's short answer to a pressed button (shown over the chat)."""
        chronicle.note(Kind.toast, channel="telegram", chat_id=str(user_id), by_bot=True, text=text)

    # ------------------------------------------------------------------ files

    def store_file(self, kind: str, content: bytes, mime_type: str, file_name: str | None) -> StoredFile:
        """Keep a file (uploaded by the bot or a person), downloadable through getFile."""
        self._file_counter += 1
        n = self._file_counter
        prefix, folder, default_ext = _FILE_KINDS.get(kind, ("BQAC", "documents", "bin"))
        ext = file_name.rsplit(".", 1)[1] if file_name and "." in file_name else default_ext
        stored = StoredFile(
            file_id=f"{prefix}fake{n:08d}",
            file_unique_id=f"AgADfake{n:08d}",
            file_path=f"{folder}/file_{n}.{ext}",
            content=content,
            mime_type=mime_type,
            file_name=file_name,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored
