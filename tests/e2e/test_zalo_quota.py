"""Zalo's monthly quota: messages counted per bot and month in the database, the leader told at 80 %
of the budget and when Zalo answers 429 "quota exceeded", and nothing lost while the quota is spent.

The real application with its Zalo bot against both fake servers, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.cli import main
from bot.settings import get_settings
from bot.terminal import plain
from fakes.people import ZaloScriptedOfficer
from storage.db import session_scope
from storage.models import OutboundUsage, OutboxMessage
from tests.e2e.conftest import BotWorld

NEAR = "từ 80% hạn mức"
EXCEEDED = "hết hạn mức tin nhắn"


def _zalo_count(world: BotWorld) -> int:
    with session_scope(world.engine) as session:
        return sum(row.messages for row in session.exec(select(OutboundUsage).where(OutboundUsage.channel == "zalo")))


def _told(world: BotWorld, chat_id: int, words: str) -> int:
    return sum(1 for message in world.fake.sent if message.chat_id == chat_id and words in plain(message.text))


@pytest.mark.parametrize("channel", ["zalo"])
async def test_the_quota_is_counted_watched_and_a_429_loses_nothing(
    world: BotWorld, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    assert world.parts is not None and world.zalo is not None
    [(zalo_bot, _poller)] = world.parts.zalo
    zalo_bot.monthly_budget, zalo_bot.quota_pause = 8, 0.3
    mai = world.officer(7001, "Mai")  # the leader unit's reporter, on Telegram
    await mai.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    ha = world.person(7002, "Hà")
    assert isinstance(ha, ZaloScriptedOfficer)
    await ha.say(f"/start {world.codes['xd-tdkt']}", "Kính chào")
    await ha.say("/report", "Mục 1/")
    for _ in range(4):
        await ha.say("/help", "/report")
    await world.wait_handled()
    assert _zalo_count(world) == world.zalo.quota_used >= 7, "each Zalo message sent is counted once"
    await world.fake.wait_for(lambda m: m.chat_id == 7001 and NEAR in plain(m.text))
    await ha.say("/help", "/report")
    await world.wait_handled()
    assert _told(world, 7001, NEAR) == 1, "the leader is told once at 80 %"

    # The month's quota is spent: Zalo answers 429; the reply waits in the outbox, the leader is told once.
    world.zalo.set_quota(world.zalo.quota_used)
    mark, tries = ha.mark(), len(world.zalo.calls_of("sendMessage"))
    ha.user.send_text("/status")
    ha.user.send_text("/help")
    await world.fake.wait_for(lambda m: m.chat_id == 7001 and EXCEEDED in plain(m.text))
    await world.zalo.wait_until(lambda: len(world.zalo.calls_of("sendMessage")) >= tries + 2,
                                what="a try again after the pause")
    with session_scope(world.engine) as session:
        waiting = list(session.exec(select(OutboxMessage).where(OutboxMessage.channel == "zalo",
                                                                OutboxMessage.state == "pending")))
    assert len(waiting) == 2, "both replies are kept"
    assert ha.mark() == mark, "nothing went out over the quota"
    assert _told(world, 7001, EXCEEDED) == 1

    # The quota returns (a new month, or a higher plan): the kept replies go out, once each, in order.
    world.zalo.set_quota(None)
    status = await ha.wait_for("", mark)
    last = await ha.wait_for("/report", mark + 1)
    await world.wait_handled()
    assert ha.mark() == mark + 2 and status is not last
    assert _told(world, 7001, EXCEEDED) == 1
    assert _zalo_count(world) == world.zalo.quota_used

    # The operator sees the figures.
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ZALO_MONTHLY_BUDGET", "8")
    get_settings.cache_clear()
    capsys.readouterr()
    assert main(["usage"]) == 0
    printed = capsys.readouterr().out
    get_settings.cache_clear()
    assert zalo_bot.bot in printed and str(world.zalo.quota_used) in printed
