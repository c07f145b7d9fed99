"""Replicas: the real bot in webhook mode, several processes behind HAProxy on one PostgreSQL, one killed.

The harness is bench/replicas.py's (the benchmark runs the same at 200 officers):
each replica is `python -m bot run --webhook <load balancer>`, the fake Bot API
server POSTs updates to HAProxy as Telegram does (several at once, again after a
5xx or a refused connection), and one replica gets SIGKILL in the middle.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bench.replicas import Cluster, check, haproxy_binary, in_order, officers_of, prepare, settle, whole_report
from fakes.telegram import FakeTelegram

pytestmark = pytest.mark.skipif(haproxy_binary() is None,
                                reason="HAProxy is not installed (apt-get install haproxy; .ci/run does)")


def test_in_order_allows_a_message_sent_again_and_nothing_else() -> None:
    assert in_order(["a", "b", "c"], ["a", "b", "c"]) == (True, 0)
    assert in_order(["a", "b", "c"], ["a", "b", "b", "c"]) == (True, 1)
    assert in_order(["a", "b", "c"], ["a", "c", "b"])[0] is False
    assert in_order(["a", "b", "c"], ["a", "b"])[0] is False


# Several processes on one database: PostgreSQL only (SQLite serves one process, and says so).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_replicas_lose_double_and_reorder_nothing_when_one_is_killed(tmp_path: Path, engine: Engine,
                                                                            database_url: str) -> None:
    config, codes = prepare(database_url, officers=4)
    # Short leases: a message the killed replica was sending goes out from the other after 2 s, not 60.
    async with FakeTelegram(webhook_retries=10_000) as fake, \
            Cluster(fake=fake, database_url=database_url, replicas=2, folder=tmp_path, lease_seconds=2) as cluster:
        officers = officers_of(fake, config, codes, timeout=40)
        updates = sum(officer.updates for officer in officers)
        reports = asyncio.gather(*(whole_report(officer) for officer in officers))
        await fake.wait_until(lambda: sum(1 for d in fake.webhook_deliveries if d.status == 200) >= updates // 3,
                              timeout=40, what="a third of the updates accepted")
        await cluster.kill(0)  # returns once HAProxy has taken it out of the rotation
        await reports
        await settle(engine, timeout=30)
        found = check(engine, fake, officers)
        assert await cluster.states() == {"r0": "DOWN", "r1": "UP"}
    assert found.problems == []
    assert found.figures["entries"] == sum(len(officer.values) for officer in officers)
    assert found.figures["webhook_most_at_once"] > 1
