"""Benchmark: the web form's HTTP API on PostgreSQL, 200 officers saving fields at once.

    python bench/web.py [--officers 200] [--saves 5] [--items 60]

A fresh PostgreSQL database holds a bloc of `--officers` units (one officer each,
bench/common.py `big_bloc`), the first unit with a sheet of `--items` items. The
bot's HTTP server serves the pages (bot/web/) on a free port; each officer opens
a personal link (the session cookie), reads the form once (its CSRF token), then
all of them save `--saves` fields at once (`POST /web/report/value`, each read by
the chat's rules and saved, audited, in its own transaction). Then the first
screen of the big sheet (`GET /web/report`, the whole page with its data) is
timed 20 times. Prints one JSON line of figures last (milliseconds).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import json
import re
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from bench.common import open_periods, postgres_database  # noqa: E402
from bot.app import build_application  # noqa: E402
from bot.http_server import HttpServer  # noqa: E402
from bot.loading import read_yaml  # noqa: E402
from bot.web.auth import CSRF_HEADER, Signer  # noqa: E402
from bot.web.routes import WebSettings  # noqa: E402
from rules.config import BlocConfig  # noqa: E402
from storage.blocs import load_bloc  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.models import Officer, stored_id  # noqa: E402
from storage.web import issue_link  # noqa: E402

TOKEN = "123456:bench-web"  # noqa: S105 (a made-up bot token; nothing is sent)


def bloc(units: int, items: int, now: dt.datetime) -> BlocConfig:
    """The seed's pact with `units` units of one officer; the first unit's sheet has `items` items."""
    data = copy.deepcopy(read_yaml(ROOT / "examples" / "khoi3-2018.yaml"))
    data["periods"] = open_periods(now)
    data["bloc"]["code"] = f"W{units}"
    data["units"] = [{"code": f"U{n:04d}", "name": f"Sở số {n}", "short_name": f"S{n}"} for n in range(units)]
    data["officers"] = [{"code": f"o{n:04d}", "name": f"Cán bộ {n}", "unit": f"U{n:04d}"} for n in range(units)]
    criteria = sum(len(section.get("criteria", [])) for section in data["pact"]["sections"])
    big = max(2, items - criteria)
    data["indicators"] = [
        {"code": f"I{n:04d}-{k}", "unit": f"U{n:04d}", "criterion": "I.1", "text": f"Chỉ tiêu số {k}",
         "measure": "hộ", "target": "29.945"}
        for n in range(units) for k in range(1, (big if n == 0 else 2) + 1)
    ]
    data["roles"] = {"leader": "U0000", "deputy": "U0001"}
    return BlocConfig.model_validate(data)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def officer(base: str, link: str, saves: int, latencies: list[float], ready: list[int],
                  start: asyncio.Event, everyone: int) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        async with client.get(link) as response:  # the cookie, then the whole form
            page = await response.text()
        found = re.search(r'data-csrf="([0-9a-f]+)"', page)
        period = re.search(r'data-period="(\d+)"', page)
        item = re.search(r'data-item="(I\d{4}-1)"', page)
        if not (found and period and item):
            raise SystemExit(f"the form did not open: {page[-600:]}")
        headers = {CSRF_HEADER: found.group(1), "X-Requested-With": "fetch"}
        ready.append(1)
        if len(ready) == everyone:
            start.set()
        await start.wait()
        for n in range(saves):
            started = time.perf_counter()
            async with client.post(f"{base}/web/report/value", headers=headers,
                                   data={"period": period.group(1), "item": item.group(1),
                                         "typed": f"30.{544 + n}"}) as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"a save failed: {response.status}")
            latencies.append((time.perf_counter() - started) * 1000)


async def run(args: argparse.Namespace) -> dict[str, object]:
    url, drop = postgres_database()
    now = dt.datetime.now(dt.UTC)
    try:
        migrate(url)
        engine = make_engine(url)
        with session_scope(engine) as session:
            load_bloc(session=session, config=bloc(args.officers, args.items, now), actor="bench")
        with tempfile.TemporaryDirectory() as folder:
            parts = build_application(token=TOKEN, engine=engine, base_url="http://127.0.0.1:9/bot",
                                      base_file_url="http://127.0.0.1:9/file/bot")
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = int(probe.getsockname()[1])
            base = f"http://127.0.0.1:{port}"
            server = HttpServer(parts.runtime)
            pages = server.add_web(WebSettings(signer=Signer(b"b" * 32), base_url=base, telegram_token=TOKEN,
                                               upload_dir=Path(folder), requests_per_minute=10_000))
            links = []
            with session_scope(engine) as session:
                for row in session.exec(select(Officer).order_by(col(Officer.id))):
                    issued = issue_link(session=session, officer_id=stored_id(row), now=now,
                                        ttl=dt.timedelta(hours=1), sent_to=None, actor="bench")
                    links.append(pages.link_url(pages.settings.signer.token("link", issued.id,
                                                                            issued.expires_at)))
            await server.start("127.0.0.1", port)
            try:
                latencies: list[float] = []
                ready: list[int] = []
                start = asyncio.Event()
                tasks = [asyncio.create_task(officer(base, link, args.saves, latencies, ready, start, len(links)))
                         for link in links]
                await start.wait()  # every officer has opened their form
                began = time.perf_counter()
                await asyncio.gather(*tasks)
                wall = time.perf_counter() - began
                screens = []
                async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
                    async with client.get(links[0]) as response:
                        await response.read()
                    for _ in range(20):
                        started = time.perf_counter()
                        async with client.get(f"{base}/web/report") as response:
                            body = await response.text()
                        screens.append((time.perf_counter() - started) * 1000)
                    shown = body.count('class="card')
            finally:
                await server.stop()
                await parts.runtime.units.close()
        engine.dispose()
    finally:
        drop()
    return {"bench": "web", "backend": "postgresql", "officers": args.officers, "saves": len(latencies),
            "save_p50_ms": round(statistics.median(latencies), 1), "save_p95_ms": round(percentile(latencies, 0.95), 1),
            "saves_per_s": round(len(latencies) / wall, 1), "sheet_items": shown,
            "first_screen_p50_ms": round(statistics.median(screens), 1),
            "first_screen_p95_ms": round(percentile(screens, 0.95), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--saves", type=int, default=5)
    parser.add_argument("--items", type=int, default=60)
    print(json.dumps(asyncio.run(run(parser.parse_args())), ensure_ascii=False))


if __name__ == "__main__":
    main()
