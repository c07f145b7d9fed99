"""The Zalo Bot API client against the fake Zalo server: methods, the idle poll, faults, the token."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.zalo_client import (
    MAX_TEXT_LENGTH,
    ZaloBlocked,
    ZaloBotClient,
    ZaloError,
    ZaloRefused,
    ZaloRetryLater,
    ZaloTimeouts,
    ZaloUnauthorized,
    split_text,
    text_length,
)
from fakes.zalo import FakeZalo, FakeZaloUser

FAST = ZaloTimeouts(connect=1.0, read=0.5, photo=0.5, poll_grace=0.5)


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(idle_wait=0.2) as server:
        yield server


@pytest.fixture
async def client(fake: FakeZalo) -> AsyncIterator[ZaloBotClient]:
    async with ZaloBotClient(fake.token, base_url=fake.base_url, timeouts=FAST) as zalo:
        yield zalo


@pytest.fixture
def lan(fake: FakeZalo) -> FakeZaloUser:
    return fake.user("Nguyễn Thị Lan")


# ---------------------------------------------------------------------- methods


async def test_get_me(fake: FakeZalo, client: ZaloBotClient) -> None:
    me = await client.get_me()
    assert me.id == fake.bot_id == client.bot_id
    assert me.account_name == "bot.khoithidua"
    assert me.can_join_groups is True


async def test_get_updates_hands_out_one_event_per_call(fake: FakeZalo, client: ZaloBotClient,
                                                        lan: FakeZaloUser) -> None:
    first = lan.send_text("Xin chào")
    second = lan.send_command("report")
    assert await client.get_updates(timeout=5) == first
    assert await client.get_updates(timeout=5) == second
    assert fake.handed_out == [first, second]
    assert fake.calls_of("getUpdates")[0] == {"timeout": "5"}  # seconds, as a string, as documented


async def test_an_idle_long_poll_answers_408_which_is_nothing_new(fake: FakeZalo, client: ZaloBotClient) -> None:
    assert await client.get_updates(timeout=30) is None
    assert fake.updates.idle_polls == 1


async def test_a_long_poll_wakes_up_for_an_event(fake: FakeZalo, lan: FakeZaloUser) -> None:
    fake.updates.idle_wait = 5.0
    async with ZaloBotClient(fake.token, base_url=fake.base_url, timeouts=FAST) as client:
        poll = asyncio.ensure_future(client.get_updates(timeout=5))
        await fake.wait_polling()
        sent = lan.send_text("1")
        assert await asyncio.wait_for(poll, 2) == sent


async def test_a_long_poll_whose_client_went_away_takes_no_event(fake: FakeZalo, lan: FakeZaloUser) -> None:
    """A killed bot's poll is not handed the next event (there is no offset: it would be gone for good)."""
    fake.updates.idle_wait = 5.0
    async with ZaloBotClient(fake.token, base_url=fake.base_url, timeouts=FAST) as gone:
        poll = asyncio.ensure_future(gone.get_updates(timeout=5))
        await fake.wait_polling()
    with pytest.raises((asyncio.CancelledError, RuntimeError, ZaloError)):
        await poll  # its session closed under it
    await asyncio.sleep(0.1)  # the server reads the connection's end
    sent = lan.send_text("1")  # (the orphaned poll is still waiting on the server: it wakes up)
    async with ZaloBotClient(fake.token, base_url=fake.base_url, timeouts=FAST) as client:
        assert await client.get_updates(timeout=1) == sent
    assert fake.handed_out == [sent]


async def test_a_hook_sees_each_event_once_its_answer_was_written(fake: FakeZalo, client: ZaloBotClient,
                                                                    lan: FakeZaloUser) -> None:
    seen: list[object] = []
    fake.on_handed_out(seen.append)
    first = lan.send_text("12")
    assert await client.get_updates(timeout=1) == first
    assert seen == [first]
    fake.on_handed_out(None)
    lan.send_text("13")
    await client.get_updates(timeout=1)
    assert seen == [first]


async def test_webhook_methods_and_polling_excluded_while_set(fake: FakeZalo, client: ZaloBotClient) -> None:
    assert (await client.get_webhook_info()).url == ""
    info = await client.set_webhook("https://bot.example.vn/zalo/hook", "s3cret-token")
    assert info.url == "https://bot.example.vn/zalo/hook"
    assert info.updated_at is not None
    assert (await client.get_webhook_info()).url == "https://bot.example.vn/zalo/hook"
    with pytest.raises(ZaloRefused) as refused:
        await client.get_updates(timeout=1)
    assert refused.value.status == 409
    assert (await client.delete_webhook()).url == ""
    assert await client.get_updates(timeout=1) is None


@pytest.mark.parametrize("secret", ["short", "x" * 257])
async def test_a_webhook_secret_outside_8_to_256_characters_is_refused_before_sending(
        fake: FakeZalo, client: ZaloBotClient, secret: str) -> None:
    with pytest.raises(ZaloRefused):
        await client.set_webhook("https://bot.example.vn/hook", secret)
    assert fake.calls_of("setWebhook") == []


async def test_the_fake_refuses_a_webhook_that_is_not_https(fake: FakeZalo, client: ZaloBotClient) -> None:
    with pytest.raises(ZaloRefused) as refused:
        await client.set_webhook("http://bot.example.vn/hook", "s3cret-token")
    assert refused.value.status == 400
    assert fake.webhook_url is None


async def test_send_message(fake: FakeZalo, client: ZaloBotClient, lan: FakeZaloUser) -> None:
    [sent] = await client.send_message(lan.id, "Báo cáo đã được ghi nhận.")
    reply = await fake.next_reply(lan)
    assert reply.text == "Báo cáo đã được ghi nhận."
    assert sent.message_id == reply.message_id
    assert sent.date == reply.date


async def test_a_long_text_is_split_at_line_breaks(fake: FakeZalo, client: ZaloBotClient, lan: FakeZaloUser) -> None:
    lines = [f"{n}. Đơn vị {n}: 30.544 hộ = 102,0% kế hoạch" for n in range(1, 121)]
    text = "\n".join(lines)
    assert len(text) > 2 * MAX_TEXT_LENGTH
    sent = await client.send_message(lan.id, text)
    received = [m.text for m in fake.messages_to(lan)]
    assert len(sent) == len(received) >= 3
    assert all(1 <= len(part) <= MAX_TEXT_LENGTH for part in received)
    assert "\n".join(received) == text  # cut between lines only: nothing lost, nothing cut in a line
    assert all(part.split("\n")[0] in lines for part in received)


def test_split_text_cuts_a_line_that_is_too_long_and_counts_emoji_as_two() -> None:
    assert split_text("a" * 4500) == ["a" * 2000, "a" * 2000, "a" * 500]
    assert text_length("🏆") == 2
    parts = split_text("🏆" * 1500)
    assert [text_length(part) for part in parts] == [2000, 1000]
    assert "".join(parts) == "🏆" * 1500


async def test_an_empty_text_is_refused_before_sending(fake: FakeZalo, client: ZaloBotClient,
                                                       lan: FakeZaloUser) -> None:
    with pytest.raises(ZaloRefused):
        await client.send_message(lan.id, "  \n ")
    assert fake.calls_of("sendMessage") == []


async def test_a_failed_part_says_which_parts_were_delivered(fake: FakeZalo, client: ZaloBotClient,
                                                             lan: FakeZaloUser) -> None:
    text = "\n".join(["x" * 1500, "y" * 1500, "z" * 1500])
    fake.set_quota(2)
    with pytest.raises(ZaloRetryLater) as later:
        await client.send_message(lan.id, text)
    assert [m.message_id for m in later.value.sent] == [m.message_id for m in fake.messages_to(lan)]
    assert len(later.value.sent) == 2


async def test_send_photo_by_url(fake: FakeZalo, client: ZaloBotClient, lan: FakeZaloUser) -> None:
    sent = await client.send_photo(lan.id, "https://bot.example.vn/files/chart.png?sig=abc", "Bảng xếp hạng")
    [photo] = fake.messages_to(lan)
    assert (photo.method, photo.photo, photo.caption) == (
        "sendPhoto", "https://bot.example.vn/files/chart.png?sig=abc", "Bảng xếp hạng")
    assert sent.message_id == photo.message_id


async def test_send_photo_needs_a_url(fake: FakeZalo, client: ZaloBotClient, lan: FakeZaloUser) -> None:
    with pytest.raises(ZaloRefused):
        await client.send_photo(lan.id, "chart.png")
    assert fake.messages_to(lan) == []


async def test_send_chat_action(fake: FakeZalo, client: ZaloBotClient, lan: FakeZaloUser) -> None:
    await client.send_chat_action(lan.id)
    assert fake.chat_actions == [(lan.id, "typing")]


# ---------------------------------------------------------------------- faults, classified


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retry_later(fake: FakeZalo, client: ZaloBotClient, lan: FakeZaloUser,
                                             status: int) -> None:
    fake.fail_next("sendMessage", status=status)
    with pytest.raises(ZaloRetryLater) as later:
        await client.send_message(lan.id, "x")
    assert later.value.status == status
    assert fake.messages_to(lan) == []
    await client.send_message(lan.id, "x")  # the fault was once; the next try goes through
    assert len(fake.messages_to(lan)) == 1


async def test_429_is_retry_later_with_the_hint_the_platform_gave(fake: FakeZalo, client: ZaloBotClient,
                                                                  lan: FakeZaloUser) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(ZaloRetryLater) as later:
        await client.send_message(lan.id, "x")
    assert later.value.status == 429
    assert later.value.quota_exceeded
    assert later.value.retry_after == 7.0


async def test_the_monthly_quota_answers_429_without_a_hint(fake: FakeZalo, client: ZaloBotClient,
                                                            lan: FakeZaloUser) -> None:
    fake.set_quota(1)
    await client.send_message(lan.id, "một")
    with pytest.raises(ZaloRetryLater) as later:
        await client.send_photo(lan.id, "https://bot.example.vn/chart.png")
    assert later.value.quota_exceeded
    assert later.value.retry_after is None
    assert fake.quota_used == 1


async def test_an_error_said_only_in_the_body_is_classified_by_its_code(fake: FakeZalo, client: ZaloBotClient,
                                                                        lan: FakeZaloUser) -> None:
    fake.fail_next("sendMessage", status=429, http_status=200)
    with pytest.raises(ZaloRetryLater):
        await client.send_message(lan.id, "x")
    fake.fail_next("sendMessage", status=403, http_status=200)
    with pytest.raises(ZaloBlocked):
        await client.send_message(lan.id, "x")


async def test_a_blocked_person_is_403_blocked(fake: FakeZalo, client: ZaloBotClient, lan: FakeZaloUser) -> None:
    fake.block(lan)
    with pytest.raises(ZaloBlocked) as blocked:
        await client.send_message(lan.id, "x")
    assert blocked.value.status == 403
    assert not isinstance(blocked.value, ZaloRetryLater | ZaloRefused)


async def test_400_is_refused_with_the_description(fake: FakeZalo, client: ZaloBotClient) -> None:
    with pytest.raises(ZaloRefused) as refused:
        await client.send_message("no-such-chat", "x")
    assert refused.value.status == 400
    assert refused.value.description == "Bad Request: chat not found"
    assert "chat not found" in str(refused.value)


async def test_a_wrong_token_is_unauthorized(fake: FakeZalo) -> None:
    async with ZaloBotClient(f"{fake.bot_id}:WRONG", base_url=fake.base_url, timeouts=FAST) as client:
        with pytest.raises(ZaloUnauthorized) as refused:
            await client.get_me()
    assert refused.value.status == 401
    assert isinstance(refused.value, ZaloRefused)


async def test_a_slow_answer_within_the_timeout_succeeds(fake: FakeZalo, client: ZaloBotClient,
                                                         lan: FakeZaloUser) -> None:
    fake.set_delay("sendMessage", 0.2)
    await client.send_message(lan.id, "x")
    assert len(fake.messages_to(lan)) == 1


async def test_an_answer_slower_than_the_timeout_is_retry_later(fake: FakeZalo, client: ZaloBotClient,
                                                                lan: FakeZaloUser) -> None:
    fake.set_delay("sendMessage", 2.0)
    with pytest.raises(ZaloRetryLater) as later:
        await client.send_message(lan.id, "x")
    assert later.value.status is None
    assert "timed out" in later.value.description


async def test_a_hang_is_retry_later(fake: FakeZalo, client: ZaloBotClient, lan: FakeZaloUser) -> None:
    hold = fake.hold("sendChatAction", chat=lan)
    with pytest.raises(ZaloRetryLater):
        await client.send_chat_action(lan.id)
    assert hold.held == 1
    hold.release()


async def test_a_refused_connection_is_retry_later() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with ZaloBotClient("1:T0KEN-SECRET", base_url=f"http://127.0.0.1:{port}", timeouts=FAST) as client:
        with pytest.raises(ZaloRetryLater) as later:
            await client.get_me()
    assert "ClientConnectorError" in later.value.description


async def test_a_wrong_base_url_is_refused(fake: FakeZalo) -> None:
    async with ZaloBotClient(fake.token, base_url=f"{fake.base_url}/nowhere", timeouts=FAST) as lost:
        with pytest.raises(ZaloRefused) as refused:  # aiohttp's own 404 page, not the platform's JSON
            await lost.get_me()
    assert refused.value.status == 404


@pytest.mark.parametrize(("status", "body"), [(502, b"<html>Bad Gateway</html>"), (200, b"{truncated")])
async def test_an_answer_that_is_not_the_platforms_json_is_retry_later(status: int, body: bytes) -> None:
    async def proxy_page(_request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, content_type="text/html")

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", proxy_page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with ZaloBotClient("1:T0KEN-SECRET", base_url=f"http://127.0.0.1:{port}", timeouts=FAST) as client:
            with pytest.raises(ZaloRetryLater) as later:
                await client.send_message("chat", "x")
    finally:
        await runner.cleanup()
    assert later.value.status == status


# ---------------------------------------------------------------------- the token stays secret


async def test_the_token_is_in_no_log_line_and_no_error(fake: FakeZalo, lan: FakeZaloUser,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[ZaloError] = []
    async with ZaloBotClient(fake.token, base_url=fake.base_url, timeouts=FAST) as client:
        assert fake.token not in repr(client)
        await client.get_me()
        await client.get_updates(timeout=1)
        await client.send_message(lan.id, "x")
        fake.fail_next("sendMessage", status=500)
        fake.fail_next("sendPhoto", status=400, description=f"Bad Request: echo {fake.token}")
        fake.set_delay("sendChatAction", 2.0)
        for attempt in (client.send_message(lan.id, "x"),
                        client.send_photo(lan.id, "https://bot.example.vn/a.png"),
                        client.send_chat_action(lan.id)):
            try:
                await attempt
            except ZaloError as error:
                errors.append(error)
                logging.getLogger("test").exception("send failed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with ZaloBotClient(fake.token, base_url=f"http://127.0.0.1:{port}", timeouts=FAST) as unreachable:
        try:
            await unreachable.get_me()
        except ZaloError as error:
            errors.append(error)
            logging.getLogger("test").exception("unreachable")
    assert len(errors) == 4
    secret = fake.token.split(":", 1)[1]
    assert "getMe" in caplog.text and "sendMessage" in caplog.text  # the method is logged
    assert secret not in caplog.text
    for error in errors:
        rendered = "".join(traceback.format_exception(error))
        assert secret not in rendered and secret not in repr(error.__dict__)
