"""The Zalo channel adapter: Zalo Bot Platform events in, owed messages out, on the channel port.

The pure parts read a webhook body, check its secret and translate one event
into a :class:`handlers.chat.Incoming`; `ZaloChannel` is the port's side
(`receive` keeps events in the inbox before they are answered, `deliver` sends
what the outbox owes) and `ZaloPoller` the long poll. Zalo has no buttons, no
edits and no documents: options are numbered under the text (typing "2"
picks the second, mapped back to its button data), an edit is a new message,
a document is a signed download link (bot/file_links.py), a picture is sent
by that link's URL.

An event, as the platform sends it::

    {"event_name": "message.text.received",
     "message": {"message_id": "16f6…", "date": 1766619597466,          # epoch milliseconds
                 "chat": {"id": "e4ea…", "chat_type": "PRIVATE"},       # or "GROUP"
                 "from": {"id": "e4ea…", "display_name": "…", "is_bot": false},
                 "text": "…"}}                                         # or photo_url/photo + caption, sticker

Ids are strings. Zalo has no command entities, no buttons and no callbacks: a text
that starts with "/" is a command, and a number typed alone stays text (the port maps
it to the option offered in that chat's current step).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final
from urllib.parse import urlsplit

from bot.file_links import FileLinks
from bot.port import Answer, Delivery, Owed, Verdict
from bot.port import Message as OwedMessage
from bot.runtime import Runtime
from bot.tasks import Loop
from bot.web.auth import PageAddresses
from bot.zalo_client import (
    SentMessage,
    ZaloBlocked,
    ZaloBotClient,
    ZaloError,
    ZaloRefused,
    ZaloRetryLater,
    split_text,
)
from handlers.chat import Incoming, InFile, InKind, Reply, chat_key
from handlers.dispatch import owe
from handlers.i18n import t
from handlers.markup import to_plain
from storage.groups import is_bloc_group, record_bot_profile
from storage.messages import offer_options, offered_option
from storage.usage import count_outbound, leader_chats, month_of, tell_once

log = logging.getLogger(__name__)

__all__ = [
    "CHANNEL",
    "ZaloChannel",
    "ZaloPoller",
    "EVENT_IMAGE",
    "EVENT_STICKER",
    "EVENT_TEXT",
    "EVENT_UNSUPPORTED",
    "SECRET_HEADER",
    "event_time",
    "group_refusal",
    "to_incoming",
    "unwrap_webhook_body",
    "update_key",
    "webhook_secret_ok",
]

CHANNEL: Final = "zalo"
SECRET_HEADER: Final = "X-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret

EVENT_TEXT: Final = "message.text.received"
EVENT_IMAGE: Final = "message.image.received"
EVENT_STICKER: Final = "message.sticker.received"
EVENT_UNSUPPORTED: Final = "message.unsupported.received"  # content withheld, e.g. from a protected user


def webhook_secret_ok(header: str | None, secret: str) -> bool:
    """Whether a webhook request's secret header is ours, compared in constant time.

    The platform sends the secret itself (not a signature of the body). A missing
    header, or an empty configured secret, never matches.
    """
    if not header or not secret:
        return False
    return hmac.compare_digest(header.encode(), secret.encode())


def unwrap_webhook_body(body: object) -> dict[str, Any] | None:
    """The event in a webhook body: ``{"ok": true, "result": {...}}``, or the bare event.

    The platform's documentation shows the wrapped form; clients in use accept both
    (some report the bare event), so both are read. None for anything else.
    """
    if not isinstance(body, dict):
        return None
    if "event_name" not in body and body.get("ok") is True and isinstance(body.get("result"), dict):
        body = body["result"]
    if not isinstance(body, dict) or not isinstance(body.get("event_name"), str):
        return None
    return body


def update_key(bot_id: str, message_id: str) -> str:
    """The processed-update key: the same message delivered twice is handled once, per bot."""
    return f"{CHANNEL}:{bot_id}:{message_id}"


def event_time(event: Mapping[str, Any]) -> dt.datetime | None:
    """When the message was sent (the event's ``date``, epoch milliseconds), in UTC."""
    message = event.get("message")
    date = message.get("date") if isinstance(message, Mapping) else None
    if not isinstance(date, int | float) or isinstance(date, bool):
        return None
    return dt.datetime.fromtimestamp(date / 1000, tz=dt.UTC)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _id(value: object) -> str:
    # Ids are strings on Zalo; a number (as a fake or an old payload may send) is read as its digits.
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | str):
        return str(value)
    return ""


def _photo_url(message: Mapping[str, Any]) -> str:
    # Image events carry the picture's URL as `photo_url` in the clients seen; the
    # documentation calls it `photo`. Either way it is a URL, not a file id.
    for key in ("photo_url", "photo"):
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _photo_name(url: str, message_id: str) -> str:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name if "." in name else f"photo-{message_id}.jpg"


def to_incoming(event: Mapping[str, Any], bot_id: str) -> Incoming | None:
    """Translate one Zalo event into a neutral message (None for what is not a person's message).

    Texts starting with "/" are commands (``/start CODE`` → command "start", args
    ("CODE",)); images are files whose ``file_id`` is the picture's URL; stickers,
    withheld content and event kinds this adapter does not know are unsupported.
    """
    message = event.get("message")
    if not isinstance(message, Mapping):
        return None
    message_id = _id(message.get("message_id"))
    chat = message.get("chat")
    sender = message.get("from")
    if not message_id or not isinstance(chat, Mapping) or not isinstance(sender, Mapping):
        return None
    chat_id = _id(chat.get("id"))
    user_id = _id(sender.get("id"))
    if not chat_id or not user_id or sender.get("is_bot") is True:
        return None
    user_name = _text(sender.get("display_name")) or _text(sender.get("name")) or _text(sender.get("first_name"))
    is_private = _text(chat.get("chat_type")).upper() != "GROUP"

    def incoming(kind: InKind, *, text: str = "", command: str = "", args: tuple[str, ...] = (),
                 file: InFile | None = None) -> Incoming:
        return Incoming(
            channel=CHANNEL,
            bot=bot_id,
            update_id=message_id,
            user_id=user_id,
            chat_id=chat_id,
            is_private=is_private,
            kind=kind,
            text=text,
            command=command,
            args=args,
            file=file,
            user_name=user_name,
            language_code=None,  # Zalo does not say; the person's stored language applies
        )

    event_name = _text(event.get("event_name"))
    if event_name == EVENT_TEXT:
        text = _text(message.get("text"))
        head, *args = text.split() or [""]
        if head.startswith("/") and len(head) > 1:
            # No bot names after commands on Zalo ("/report@bot" is Telegram's); drop one if typed.
            command = head[1:].partition("@")[0].lower()
            return incoming(InKind.command, command=command, args=tuple(args), text=text)
        return incoming(InKind.text, text=text)
    if event_name == EVENT_IMAGE:
        url = _photo_url(message)
        if not url:
            return incoming(InKind.unsupported)
        photo = InFile(file_id=url, file_name=_photo_name(url, message_id), file_size=None, is_photo=True)
        return incoming(InKind.file, file=photo, text=_text(message.get("caption")))
    return incoming(InKind.unsupported)


def group_refusal(error: ZaloError) -> bool:
    """Whether a refused send to a group means the bot is not in it or may not post there.

    Zalo's Bot API documents no error list: 403 is "forbidden" (the bot left or was removed, or
    may not post), and a 400 or 404 that names the chat, the group or membership says the group
    is out of reach. Any other 400 (a text, a photo URL) is the message's fault, not the group's.
    """
    if error.status == 403:
        return True
    if error.status in (400, 404):
        described = error.description.lower()
        return any(word in described for word in ("chat not found", "group", "member", "not in"))
    return False


def _number(text: str) -> int | None:
    stripped = text.strip().rstrip(".")
    return int(stripped) if stripped.isdigit() and len(stripped) <= 2 else None


def numbered(text: str, labels: list[str]) -> str:
    """A text with its options numbered under it, for a channel without buttons."""
    if not labels:
        return text
    lines = [f"{number}. {label}" for number, label in enumerate(labels, start=1)]
    return "\n\n".join(part for part in (text, "\n".join(lines)) if part)


QUOTA_PAUSE: Final = 900.0  # seconds between tries once Zalo answered 429 "quota exceeded"


class ZaloChannel:
    """One Zalo bot on the channel port."""

    name = CHANNEL

    def __init__(self, runtime: Runtime, client: ZaloBotClient, *, links: FileLinks | None = None,
                 monthly_budget: int | None = None, quota_pause: float = QUOTA_PAUSE) -> None:
        self.runtime = runtime
        self.client = client
        self.bot = client.bot_id
        self.links = links
        self.pages: PageAddresses | None = None  # the web pages' addresses, when they are served
        self.monthly_budget = monthly_budget  # outbound messages a month; the leader is told at 80 %
        self.quota_pause = quota_pause  # seconds the outbox waits after a 429 "quota exceeded"
        self._groups: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def check_groups(self) -> bool | None:
        """Ask the platform whether this bot may join groups (`getMe`) and keep the answer in the database
        (None when it could not be asked: the answer kept before stands)."""
        try:
            info = await self.client.get_me()
        except ZaloError as error:
            log.warning("Zalo getMe failed (%s); whether bot %s may join groups is left as it was", error, self.bot)
            return None
        if not info.can_join_groups:
            log.warning("Zalo bot %s cannot join groups: the bloc's group posts go to each unit in private",
                        self.bot)
        now = self.runtime.clock()
        await self.runtime.units.run(lambda session: record_bot_profile(
            session=session, channel=CHANNEL, bot=self.bot, can_join_groups=info.can_join_groups, now=now))
        return info.can_join_groups

    async def _is_bloc_group(self, chat_id: str) -> bool:
        return await self.runtime.units.run(
            lambda session: is_bloc_group(session=session, channel=CHANNEL, chat_id=chat_id))

    def is_group(self, chat_id: str) -> bool:
        """Whether a chat was seen as a group (Zalo's ids do not say)."""
        return chat_id in self._groups

    def _mapped(self, session: Any, found: Incoming) -> Incoming:
        """A number typed alone (or "/2") as the option offered with that number in the chat, if one is."""
        number = _number(found.text) if found.kind is InKind.text else None
        # "/2" picks option 2 where a number typed alone is the step's answer (see `_send`).
        by_command = found.kind is InKind.command and not found.args and _number(found.command) is not None
        if by_command:
            number = _number(found.command)
        if number is None:
            return found
        data = offered_option(session=session, chat_key=found.chat_key, number=number, by_command=by_command)
        return found if data is None else replace(found, kind=InKind.option, data=data)

    async def incoming(self, event: Mapping[str, Any]) -> Incoming | None:
        """An event as a neutral message; a number typed alone picks the option offered with that number."""
        found = to_incoming(event, self.bot)
        if found is None:
            return None
        if not found.is_private:
            self._groups.add(found.chat_id)
        return await self.runtime.units.run(lambda session: self._mapped(session, found))

    async def receive(self, events: list[Mapping[str, Any]]) -> None:
        """Keep events in the inbox (committed when this returns), then take their chats' turns in the background.

        The typed numbers are read and the events kept in one transaction: a long poll's event
        exists nowhere else until that commit (Zalo has no offset), so it is made as soon as can be.
        """
        found = [incoming for incoming in (to_incoming(event, self.bot) for event in events) if incoming is not None]
        if not found:
            return
        self._groups.update(incoming.chat_id for incoming in found if not incoming.is_private)

        def keep(session: Any) -> list[Incoming]:
            mapped = [self._mapped(session, incoming) for incoming in found]
            self.runtime.conversation.keep_in(session, mapped)
            return mapped

        incomings = await self.runtime.units.run(keep)
        for chat in dict.fromkeys(incoming.chat_key for incoming in incomings):
            task = asyncio.create_task(self.runtime.drain(chat))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def deliver(self, chat_id: str, owed: Owed) -> Delivery:
        """Send one owed message; never raises for Zalo's or the network's errors."""
        if isinstance(owed, Answer):
            return Delivery(Verdict.delivered, detail="no buttons on Zalo")
        if owed.reply.menu is not None:
            return Delivery(Verdict.delivered, detail="no command menus on Zalo")
        if owed.reply.minor_edit and owed.reply.edit_key is not None:
            # Zalo cannot edit: a new message for each vote would fill the group and spend the quota.
            return Delivery(Verdict.delivered, detail="a minor edit, left out on Zalo")
        sent: list[SentMessage] = []
        try:
            await self._send(chat_id, owed, sent)
        except ZaloRetryLater as error:
            if error.quota_exceeded:
                # The month's quota is spent: keep everything, wait long, tell the leader once.
                await self._tell_leader("exceeded")
                return Delivery(Verdict.retry, detail=str(error), retry_after=self.quota_pause,
                                parts_done=owed.parts_done + len(sent), held=True)
            return Delivery(Verdict.retry, detail=str(error), retry_after=error.retry_after,
                            parts_done=owed.parts_done + len(sent))
        except (ZaloBlocked, ZaloRefused) as error:
            if group_refusal(error) and await self._is_bloc_group(chat_id):
                # The bot is not in the bloc's group, or may not post there: the post goes in private.
                return Delivery(Verdict.refused, detail=str(error), group_refused=True)
            if isinstance(error, ZaloBlocked):
                return Delivery(Verdict.blocked, detail=str(error))
            return Delivery(Verdict.refused, detail=str(error))
        except ZaloError as error:
            return Delivery(Verdict.retry, detail=str(error), parts_done=owed.parts_done + len(sent))
        first = sent[0].message_id if sent else None
        return Delivery(Verdict.delivered, message_id=first)

    async def _send(self, chat_id: str, owed: OwedMessage, sent: list[SentMessage]) -> None:
        reply = owed.reply
        by_command: list[str] = []  # the data of the options picked by "/1", "/2"... where a number answers
        if reply.typed_numbers:
            # A number typed here is the answer: options are named by their commands ("/back"), or
            # else by a number after a slash ("/1"), never by a number alone.
            labels = []
            commands = []
            for option in (option for row in reply.options for option in row if option.page is None):
                if not option.command:
                    by_command.append(option.data)
                commands.append(f"{option.label}: {option.command or f'/{len(by_command)}'}")
        else:
            labels = [option.label for row in reply.options for option in row if option.page is None]
            commands = []
        text = "\n".join([to_plain(reply.text, typed=True), *commands])  # "chọn", not "bấm": no buttons here
        links: list[str] = []
        for row in reply.options:  # a web page: its (personal) address as text, not a numbered choice
            for option in row:
                if option.page is not None and self.pages is not None:
                    links.append(f"{to_plain(option.label)}: {self.pages.url(option.page)}")
        photos: list[tuple[str, str]] = []
        now = self.runtime.clock()
        for index, out in enumerate(reply.files):
            if self.links is None or owed.outbox_id is None:
                links.append(f"📎 {out.name}")
                continue
            url = self.links.url(owed.outbox_id, index, now)
            if out.is_photo:
                photos.append((url, to_plain(out.caption, typed=True)))
            else:
                links.append(f"📎 {out.name}: {url}")
        for kept in reply.resend:
            if kept.channel == CHANNEL and kept.is_photo:
                photos.append((kept.file_id, kept.name))
            else:
                links.append(f"📎 {kept.name}")
        body = "\n".join(part for part in (numbered(text, labels), *links) if part)
        # One part per message: `parts_done` counts the messages that went out, so that a retry
        # resumes with the first one that did not (a long text's later pieces, a picture after it).
        parts: list[Any] = []
        for piece in (split_text(body) if body.strip() else []):
            parts.append(lambda piece=piece: self.client.send_message(chat_id, piece))
        for url, caption in photos:
            parts.append(lambda url=url, caption=caption: self.client.send_photo(chat_id, url, caption))
        if labels or reply.typed_numbers:  # kept before the text goes out: the person may answer at once
            # (none kept where a typed number answers: an older offer's numbers stop counting)
            data = [option.data for row in reply.options for option in row if option.page is None] if labels \
                else by_command
            key = chat_key(CHANNEL, self.bot, chat_id)
            await self.runtime.units.run(lambda session: offer_options(
                session=session, chat_key=key, options=data, now=self.runtime.clock(),
                by_command=reply.typed_numbers))
        for part in parts[owed.parts_done:]:
            result = await part()
            went = result if isinstance(result, list) else [result]
            sent.extend(went)
            await self._count(len(went))

    async def _count(self, messages: int) -> None:
        """Count sent messages for the month (in the database); at 80 % of the budget the leader is told once."""
        now = self.runtime.clock()
        total = await self.runtime.units.run(lambda session: count_outbound(
            session=session, channel=CHANNEL, bot=self.bot, now=now, messages=messages))
        if self.monthly_budget and total * 5 >= self.monthly_budget * 4:
            await self._tell_leader("near", total)

    async def _tell_leader(self, notice: str, total: int | None = None) -> None:
        """Tell the leader unit's officers once a month (on Telegram when linked there: Zalo may be out)."""
        now = self.runtime.clock()
        budget = self.monthly_budget

        def write(session: Any) -> list[str]:
            if not tell_once(session=session, channel=CHANNEL, bot=self.bot, now=now,
                             notice="near" if notice == "near" else "exceeded"):
                return []
            chats = leader_chats(session=session)
            others = [chat for chat in chats if not chat[0].startswith(f"{CHANNEL}:")]
            replies = [Reply(t(language, f"zalo_quota_{notice}", month=month_of(now), sent=total or 0,
                               budget=budget or 0), chat_id=address)
                       for address, language in (others or chats)]
            return owe(session, channel=CHANNEL, bot=self.bot, replies=replies, now=now,
                       bots=self.runtime.conversation.bots)

        owed = await self.runtime.units.run(write)
        for chat in owed:  # after this delivery is recorded: not from inside it
            task = asyncio.create_task(self.runtime.sender.flush(chat))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Wait for the turns started by `receive`."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class ZaloPoller:
    """Long polling: `getUpdates` answers one event, or 408 when idle.

    It takes no offset: an event handed out is gone from the platform, so a
    crash in the milliseconds between its arrival and its commit loses it.
    Webhook mode (bot/http_server.py), which answers only after the commit,
    has no such window and is the mode for production.
    """

    def __init__(self, channel: ZaloChannel, *, timeout: int = 30) -> None:
        self.channel = channel
        self.timeout = timeout
        self._loop = Loop("zalo-poller", self._run)

    def start(self) -> None:
        """Start polling in a task."""
        self._loop.start()

    async def stop(self) -> None:
        """Stop polling."""
        await self._loop.stop()

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                event = await self.channel.client.get_updates(timeout=self.timeout)
                failures = 0
            except ZaloRetryLater as error:
                failures += 1
                pause = error.retry_after or min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("Zalo getUpdates failed (%s); again in %.1f s", error, pause)
                await asyncio.sleep(pause)
                continue
            except ZaloError as error:
                log.error("Zalo getUpdates refused (%s); polling pauses 30 s", error)
                await asyncio.sleep(30)
                continue
            except Exception:  # anything else must not end the poll: the process would live on, deaf
                failures += 1
                log.exception("Zalo getUpdates failed unexpectedly; polling goes on")
                await asyncio.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))
                continue
            if event is None:
                continue
            try:
                await self.channel.receive([event])
            except Exception:
                # The event exists nowhere else (no offset): say so, with its id, and keep polling.
                message = event.get("message")
                message_id = message.get("message_id") if isinstance(message, dict) else None
                log.exception("Zalo event %s could not be kept; it is lost, polling goes on", message_id)
                await asyncio.sleep(0.5)
