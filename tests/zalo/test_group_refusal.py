"""Which refused sends mean "the bot cannot post in this group", and the fake server's two ways of saying it."""

from __future__ import annotations

import pytest

from bot.zalo_channel import group_refusal
from bot.zalo_client import ZaloBlocked, ZaloBotClient, ZaloError, ZaloRefused, ZaloRetryLater
from fakes.zalo import FakeZalo


@pytest.mark.parametrize(("error", "expected"), [
    (ZaloBlocked("sendMessage", "Forbidden: the bot is not a member of this group", status=403), True),
    (ZaloBlocked("sendMessage", "Forbidden", status=403), True),
    (ZaloRefused("sendMessage", "Bad Request: chat not found", status=400), True),
    (ZaloRefused("sendPhoto", "Not Found: group does not exist", status=404), True),
    (ZaloRefused("sendMessage", "Bad Request: text must be 1 to 2000 characters", status=400), False),
    (ZaloRefused("sendPhoto", "Bad Request: photo must be a URL", status=400), False),
    (ZaloRetryLater("sendMessage", "quota exceeded", status=429), False),
    (ZaloRetryLater("sendMessage", "Internal Server Error", status=500), False),
])
def test_group_refusal(error: ZaloError, expected: bool) -> None:
    assert group_refusal(error) is expected


async def test_the_fake_refuses_groups_when_the_bot_cannot_join_or_was_removed() -> None:
    async with FakeZalo(can_join_groups=False) as fake, ZaloBotClient(fake.token, base_url=fake.base_url) as client:
        assert (await client.get_me()).can_join_groups is False
        group = fake.group("Khối thi đua số 3")
        lan = fake.user("Lan")
        with pytest.raises(ZaloBlocked) as refused:
            await client.send_message(group.id, "Kết quả")
        assert refused.value.status == 403 and group_refusal(refused.value)
        await client.send_message(lan.id, "Kết quả")  # private chats are not affected
        fake.can_join_groups = True
        await client.send_message(group.id, "Kết quả")
        fake.remove_from_group(group)
        with pytest.raises(ZaloBlocked) as removed:
            await client.send_photo(group.id, "https://example.org/chart.png")
        assert "not a member" in removed.value.description
        assert [message.chat_id for message in fake.sent] == [lan.id, group.id]
