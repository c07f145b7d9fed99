"""The real bot (python-telegram-bot Application) against the fake Bot API server."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import aiohttp
import pytest
from sqlalchemy import Engine

from bot.app import BotParts, add_zalo, build_application, start, stop
from bot.file_links import FileLinks
from bot.http_server import HttpServer
from bot.terminal import plain
from fakes.people import ScriptedOfficer, ZaloScriptedOfficer, option_labels
from fakes.telegram import FakeChat, FakeTelegram, SentMessage
from fakes.zalo import FakeZalo, FakeZaloChat, SentZaloMessage
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.invites import issue_invites
from tests.chat.driver import Clock
from tests.factories import seed_bloc

DURING = dt.datetime(2019, 1, 5, 3, 0, tzinfo=dt.UTC)

# What a person received on either channel, a group on either channel, a chat to look into.
Seen = SentMessage | SentZaloMessage
Group = FakeChat | FakeZaloChat
ChatRef = int | str | Group | ScriptedOfficer | ZaloScriptedOfficer
# A file as a Zalo message links it (bot/zalo_channel.py): "📎 name: URL".


class Mark(NamedTuple):
    """A marker in a mixed world: how many messages each fake server had sent."""

    telegram: int
    zalo: int


_FILE_LINK = re.compile(r"📎 (.+?): (https?://\S+)")
# Words of pressing a button: said on Telegram, never on Zalo, whose options are typed numbers.
PRESSING = re.compile(r"bấm|\bnút\b|\bpress|\bbutton", re.IGNORECASE)


@dataclass
class BotWorld:
    """A running bot, its fake server, its database and the invite codes."""

    fake: FakeTelegram
    engine: Engine
    clock: Clock
    codes: dict[str, str]
    parts: BotParts | None = None
    started: list[BotParts] = field(default_factory=list)
    # The channel the scripted officers use ("telegram", "zalo" or "mixed", see `channel_of`); unless
    # "telegram", the bot serves a Zalo bot beside its Telegram one, and its HTTP server hands out file links.
    channel: str = "telegram"
    zalo: FakeZalo | None = None
    server: HttpServer | None = None

    async def start_bot(self, *, run: bool = True, **options: Any) -> BotParts:
        """Build a new Application polling the fake server (`options` go to build_application), and start it
        (unless `run` is False)."""
        parts = build_application(**{"token": self.fake.token, "engine": self.engine, "base_url": self.fake.base_url,
                                     "base_file_url": self.fake.base_file_url,
                                     "bot_username": self.fake.bot_username, "clock": self.clock,
                                     "dispose_engine": False, "poll_timeout": 1, **options})
        if self.zalo is not None:
            self.server = HttpServer(parts.runtime)
            port = await self.server.start("127.0.0.1", 0)
            self.server.links = FileLinks(b"k" * 32, f"http://127.0.0.1:{port}")
            add_zalo(parts, token=self.zalo.token, base_url=self.zalo.base_url, links=self.server.links,
                     poll_timeout=1)
        if run:
            await start(parts)
        self.parts = parts
        self.started.append(parts)
        return parts

    async def stop_bot(self) -> None:
        """Stop the running Application as a shutdown would."""
        parts = self.parts
        if parts is None:
            return
        await stop(parts)
        if self.server is not None:
            await self.server.stop()
            self.server = None
        self.parts = None

    async def wait_handled(self, timeout: float = 10.0) -> None:
        """Wait until the running bot has every queued update, has finished with each, and owes nothing due."""
        assert self.parts is not None
        await self.fake.wait_handled(self.parts.application, timeout)
        if self.zalo is not None:
            await self.zalo.wait_delivered(timeout)
        await self.parts.runtime.settled(timeout)

    def officer(self, user_id: int, name: str, language: str = "vi") -> ScriptedOfficer:
        """A scripted person with a private Telegram chat."""
        return ScriptedOfficer(self.fake, self.fake.user(user_id, name, language_code=language), name,
                               timeout=10.0)

    def channel_of(self, user_id: int) -> str:
        """The channel a person uses: the world's; in a mixed world, Zalo for the ids that leave 1 or 2
        divided by 4, Telegram for the others (so that both consecutive ids and every other id mix)."""
        if self.channel == "mixed":
            return "zalo" if user_id % 4 in (1, 2) else "telegram"
        return self.channel

    @property
    def group_channel(self) -> str:
        """The channel of the bloc's group: Zalo in a mixed world (as in the demo)."""
        return "telegram" if self.channel == "telegram" else "zalo"

    def person(self, user_id: int, name: str) -> ScriptedOfficer | ZaloScriptedOfficer:
        """A scripted person on their channel (on Zalo, `user_id` as a string id)."""
        if self.zalo is None or self.channel_of(user_id) == "telegram":
            return self.officer(user_id, name)
        return ZaloScriptedOfficer(self.zalo, self.zalo.user(name, str(user_id)), name, timeout=10.0)

    def chat_id(self, user_id: int) -> int | str:
        """The id of a person's private chat on their channel."""
        return user_id if self.channel_of(user_id) == "telegram" else str(user_id)

    # -- channel-neutral looks at what the bot sent (the test body stays one on both channels)

    def group(self, telegram_id: int, name: str) -> Group:
        """The bloc's group chat on its channel (on Zalo its id is `telegram_id` as a string)."""
        if self.zalo is None or self.group_channel == "telegram":
            return self.fake.group(telegram_id, name)
        return self.zalo.group(name, str(telegram_id))

    @property
    def text_limit(self) -> int:
        """The longest text a message may carry on every channel of the world."""
        return 4096 if self.zalo is None else 2000

    def mark(self) -> int | Mark:
        """A marker: everything the bot sent so far (on both channels in a mixed world)."""
        if self.zalo is None:
            return self.fake.mark()
        if self.channel == "zalo":
            return len(self.zalo.sent)
        return Mark(self.fake.mark(), len(self.zalo.sent))

    def _chat(self, chat: ChatRef) -> tuple[str, int | str]:
        """A chat's channel and platform id (an int on Telegram, a string on Zalo)."""
        if isinstance(chat, ScriptedOfficer | ZaloScriptedOfficer):
            channel, chat = chat.channel, chat.user.id
        elif isinstance(chat, FakeChat):
            return "telegram", chat.id
        elif isinstance(chat, FakeZaloChat):
            return "zalo", chat.id
        else:
            channel = self.channel_of(int(chat))
        return (channel, int(chat)) if channel == "telegram" else (channel, str(chat))

    def _sent(self, channel: str, after: int | Mark) -> Sequence[Seen]:
        if isinstance(after, Mark):
            after = after.telegram if channel == "telegram" else after.zalo
        if channel == "telegram":
            return self.fake.sent[after:]
        assert self.zalo is not None
        return self.zalo.sent[after:]

    def sent_to(self, chat: ChatRef, after: int | Mark = 0) -> list[Seen]:
        """What the bot sent to a chat since `after` (on Telegram with the edits' snapshots)."""
        channel, wanted = self._chat(chat)
        return [message for message in self._sent(channel, after) if message.chat_id == wanted]

    def read(self, message: Seen) -> str:
        """What a person reads of a message: its plain text (or a photo's caption)."""
        if isinstance(message, SentZaloMessage):
            return message.text or message.caption
        return plain(message.text)

    def options(self, message: Seen) -> list[str]:
        """The labels of the options a message offers (its buttons, or its numbered lines on Zalo)."""
        if isinstance(message, SentZaloMessage):
            return option_labels(message.text)
        return [label for label, _ in message.buttons]

    async def wait_to(self, chat: ChatRef, expect: str, *, after: int | Mark = 0, timeout: float = 5.0,
                      choice: bool = False, new: bool = False) -> Seen:
        """The first message to a chat since `after` that contains `expect`: with options if `choice`,
        a new message (not an edit's snapshot) if `new` or `choice`."""
        channel, wanted = self._chat(chat)
        if channel == "telegram":
            def matches(message: SentMessage) -> bool:
                return message.chat_id == wanted and not ((new or choice) and message.is_edit) \
                    and expect in plain(message.text) and (not choice or bool(message.buttons))
            return await self.fake.wait_for(matches, timeout=timeout,
                                            after=after.telegram if isinstance(after, Mark) else after)
        assert self.zalo is not None

        def found() -> Seen | None:
            return next((message for message in self._sent(channel, after) if message.chat_id == wanted
                         and expect in self.read(message) and (not choice or self.options(message))), None)

        await self.zalo.wait_until(lambda: found() is not None, timeout,
                                   what=f"a message with {expect!r} to {wanted}")
        message = found()
        assert message is not None
        return message

    async def in_group(self, person: ScriptedOfficer | ZaloScriptedOfficer, group: Group, text: str,
                       expect: str) -> Seen:
        """A person writes in a group (on Zalo mentioning the bot); the bot's answer there."""
        mark = self.mark()
        if isinstance(person, ScriptedOfficer) and isinstance(group, FakeChat):
            await person.user.send_text(text, chat=group)
        elif isinstance(person, ZaloScriptedOfficer) and isinstance(group, FakeZaloChat):
            await person.say_in_group(group, text)
        else:
            raise TypeError("a person writes in a group of their own channel")
        return await self.wait_to(group, expect, after=mark, timeout=10)

    def texts(self, messages: list[Seen]) -> str:
        """The plain texts of the text messages among `messages`, one after another."""
        return "\n".join(self.read(message) for message in messages
                         if (message.kind == "text" if isinstance(message, SentMessage)
                             else message.method == "sendMessage"))

    def pressing(self) -> tuple[list[str], list[str]]:
        """The texts that speak of pressing a button, each channel's: (on Telegram, on Zalo)."""
        telegram = [plain(m.text) for m in self.fake.sent if PRESSING.search(plain(m.text or ""))]
        zalo = [m.text or m.caption for m in (self.zalo.sent if self.zalo is not None else [])
                if PRESSING.search(m.text or m.caption or "")]
        return telegram, zalo

    def check_wording(self) -> None:
        """Nothing on Zalo tells a person to press (its options are typed numbers); Telegram still says
        "Bấm" where it has buttons (when a Telegram chat had any message of this run)."""
        on_telegram, on_zalo = self.pressing()
        assert on_zalo == []
        if self.channel != "zalo":
            assert any("Bấm" in text or "bấm" in text for text in on_telegram)
        if self.channel == "zalo" and self.zalo is not None:
            assert self.zalo.sent, "the run went through Zalo"

    async def photos(self, messages: list[Seen]) -> list[bytes]:
        """The pictures among `messages` (on Zalo downloaded from the signed URL they were sent by)."""
        found: list[bytes] = []
        for message in messages:
            if isinstance(message, SentMessage):
                if message.kind == "photo":
                    found.append(message.file_bytes or b"")
            elif message.method == "sendPhoto":
                found.append(await _download(message.photo))
        return found

    async def documents(self, messages: list[Seen]) -> dict[str, bytes]:
        """The files among `messages` by name: Telegram's documents, Zalo's download links (downloaded)."""
        found: dict[str, bytes] = {}
        for message in messages:
            if isinstance(message, SentMessage):
                if message.kind == "document" and message.file_name:
                    found[message.file_name] = message.file_bytes or b""
                continue
            for name, url in _FILE_LINK.findall(message.text):
                found[name] = await _download(url)
        return found


async def _download(url: str) -> bytes:
    """A signed link fetched as its reader would (it must answer 200)."""
    async with aiohttp.ClientSession() as http, http.get(url) as answer:
        assert answer.status == 200, (url, answer.status)
        return await answer.read()


@pytest.fixture
def channel() -> str:
    """The officers' channel; a test runs on both with `@pytest.mark.parametrize("channel", CHANNELS)`."""
    return "telegram"


CHANNELS = ["telegram", "zalo"]
# With "mixed", some people are on Zalo and some on Telegram (BotWorld.channel_of), the bloc's group on Zalo.
CHANNELS_AND_MIXED = [*CHANNELS, "mixed"]


@pytest.fixture
async def world(engine: Engine, seeded: None, channel: str) -> AsyncIterator[BotWorld]:
    """The seed bloc loaded, invites issued, the bot polling the fake server(s)."""
    clock = Clock(DURING)
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        issued = issue_invites(session=session, bloc_id=1, now=DURING - dt.timedelta(days=1),
                               ttl=dt.timedelta(days=30), actor="test")
    codes = {invite.officer_code: invite.code for invite in issued}
    async with FakeTelegram() as fake, FakeZalo(idle_wait=0.2) as zalo:
        created = BotWorld(fake=fake, engine=engine, clock=clock, codes=codes, channel=channel,
                           zalo=None if channel == "telegram" else zalo)
        await created.start_bot()
        try:
            yield created
        finally:
            await created.stop_bot()
