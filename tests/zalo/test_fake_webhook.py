"""The fake Zalo server's webhook: events POSTed with the secret header to a receiver made of the adapter's parts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from bot.zalo_channel import SECRET_HEADER, to_incoming, unwrap_webhook_body, webhook_secret_ok
from bot.zalo_client import ZaloBotClient
from fakes.zalo import FakeZalo
from handlers.chat import Incoming, InKind

SECRET = "webhook-secret-2019"


@dataclass
class Receiver:
    """The bot's side of a webhook, as the port will build it: check the secret, unwrap, translate."""

    bot_id: str
    url: str = ""
    refuse_next: int = 0  # answer 500 to this many valid requests first
    received: list[Incoming] = field(default_factory=list)
    secrets_seen: list[str | None] = field(default_factory=list)
    bodies: list[object] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        header = request.headers.get(SECRET_HEADER)
        self.secrets_seen.append(header)
        if not webhook_secret_ok(header, SECRET):
            return web.Response(status=401)
        body = await request.json()
        self.bodies.append(body)
        if self.refuse_next:
            self.refuse_next -= 1
            return web.Response(status=500)
        event = unwrap_webhook_body(body)
        incoming = to_incoming(event, self.bot_id) if event is not None else None
        if incoming is None:
            return web.Response(status=400)
        self.received.append(incoming)
        return web.Response(text="ok")


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(idle_wait=0.2, webhook_retry_delay=0.01) as server:
        yield server


@pytest.fixture
async def receiver(fake: FakeZalo) -> AsyncIterator[Receiver]:
    hook = Receiver(bot_id=fake.bot_id)
    app = web.Application()
    app.router.add_post("/zalo/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/zalo/hook"
    async with ZaloBotClient(fake.token, base_url=fake.base_url) as client:
        await client.set_webhook(hook.url, SECRET)
    yield hook
    await runner.cleanup()


async def test_events_are_posted_wrapped_with_the_secret_header(fake: FakeZalo, receiver: Receiver) -> None:
    lan = fake.user("Nguyễn Thị Lan")
    first = lan.send_command("start", "ABCD-1234")
    lan.send_image("https://photo.example.vn/bien-ban.jpg", "Biên bản")
    await fake.wait_delivered()
    assert receiver.secrets_seen == [SECRET, SECRET]
    assert receiver.bodies[0] == {"ok": True, "result": first}
    start, photo = receiver.received
    assert (start.kind, start.command, start.args, start.user_id) == (InKind.command, "start", ("ABCD-1234",), lan.id)
    assert photo.kind is InKind.file and photo.file is not None
    assert photo.file.file_id == "https://photo.example.vn/bien-ban.jpg"
    assert [d.status for d in fake.webhook_deliveries] == [200, 200]


async def test_a_wrong_or_missing_secret_is_refused(fake: FakeZalo, receiver: Receiver) -> None:
    lan = fake.user("Lan")
    event = lan.event("message.text.received", content={"text": "forged"})
    assert await fake.post_to_webhook(event, secret_token="not-the-secret") == 401
    assert await fake.post_to_webhook(event, secret_token=None) == 401
    assert await fake.post_to_webhook(event, secret_token=SECRET) == 200
    assert receiver.secrets_seen == ["not-the-secret", None, SECRET]
    assert [i.text for i in receiver.received] == ["forged"]


async def test_a_refused_delivery_is_tried_again(fake: FakeZalo, receiver: Receiver) -> None:
    receiver.refuse_next = 1
    lan = fake.user("Lan")
    lan.send_text("96,5")
    await fake.wait_delivered()
    assert [d.status for d in fake.webhook_deliveries] == [500, 200]
    assert [i.text for i in receiver.received] == ["96,5"]


async def test_a_hook_sees_the_events_the_webhook_took(fake: FakeZalo, receiver: Receiver) -> None:
    taken: list[object] = []
    fake.on_webhook_accepted(taken.append)
    receiver.refuse_next = 1
    lan = fake.user("Lan")
    event = lan.send_text("96,5")
    await fake.wait_delivered()
    assert [d.status for d in fake.webhook_deliveries] == [500, 200]
    assert taken == [event], "once: after the 200, not after the 500"


async def test_duplicates_share_the_update_key_and_order_can_be_scrambled(fake: FakeZalo, receiver: Receiver) -> None:
    lan = fake.user("Lan")
    events = [lan.event("message.text.received", content={"text": str(n)}) for n in (1, 2, 3)]
    fake.inject(events[0])
    await fake.wait_delivered()
    fake.inject(events[2])
    fake.inject(events[1], first=True)  # 2 overtakes 3
    fake.inject_duplicate(events[0])
    await fake.wait_delivered()
    assert [i.text for i in receiver.received] == ["1", "2", "3", "1"]
    assert receiver.received[0].update_key == receiver.received[3].update_key
    assert len({i.update_key for i in receiver.received}) == 3


async def test_bare_bodies_are_read_as_well(fake: FakeZalo, receiver: Receiver) -> None:
    fake.wrap_webhook_bodies(False)
    lan = fake.user("Lan")
    event = lan.send_text("bare")
    await fake.wait_delivered()
    assert receiver.bodies == [event]
    assert [i.text for i in receiver.received] == ["bare"]


async def test_group_messages_reach_the_bot_only_when_it_is_mentioned(fake: FakeZalo, receiver: Receiver) -> None:
    group = fake.group("Khối thi đua số 3")
    lan = fake.user("Lan")
    assert lan.send_text("chào cả nhà", group=group, mentioned=False) is None
    lan.send_text("@bot /bind", group=group, mentioned=True)
    await fake.wait_delivered()
    [bind] = receiver.received
    assert not bind.is_private and bind.chat_id == group.id
    assert len(lan.unseen) == 1


async def test_after_delete_webhook_events_come_by_polling(fake: FakeZalo, receiver: Receiver) -> None:
    async with ZaloBotClient(fake.token, base_url=fake.base_url) as client:
        assert (await client.get_webhook_info()).url == receiver.url
        await client.delete_webhook()
        lan = fake.user("Lan")
        sent = lan.send_text("polled")
        assert await client.get_updates(timeout=1) == sent
    assert receiver.received == []
