"""A bot process that only sends reminders, driven from stdin (the two-process test runs two).

    python -m tests.reminders.worker --database-url URL --base-url URL --token TOKEN --now ISO [--no-lock]

It builds the real Application with `bot.app.build_application`, starts the
reminder scheduler (whose start-up pass runs at `--now`), prints `ready`, then
for each line `tick ISO` sets its clock and runs one scheduler pass, printing the
pass's figures as one JSON line; `quit` (or the end of input) stops it.
`--no-lock` skips the advisory lock, leaving the sent-log's unique key alone
to keep each message to one process.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import sys

from bot.app import build_application
from storage.db import make_engine
from storage.reminders import BlocLock
from tests.chat.driver import Clock


def _always(_lock: BlocLock) -> bool:
    """A lock that is never refused."""
    return True


async def main(argv: list[str]) -> int:
    """Run until `quit`."""
    parser = argparse.ArgumentParser()
    for name in ("--database-url", "--base-url", "--token", "--now"):
        parser.add_argument(name, required=True)
    parser.add_argument("--no-lock", action="store_true")
    args = parser.parse_args(argv)
    if args.no_lock:
        BlocLock.acquire = _always  # type: ignore[method-assign,assignment]
    engine = make_engine(args.database_url)
    clock = Clock(dt.datetime.fromisoformat(args.now))
    parts = build_application(token=args.token, engine=engine, base_url=args.base_url,
                              base_file_url=args.base_url.replace("/bot", "/file/bot"), clock=clock)
    parts.reminders.interval_seconds = 3600.0  # passes come from stdin (and the start-up pass)
    await parts.application.initialize()
    await parts.reminders.start()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if not line or line == "quit":
                break
            command, _, argument = line.partition(" ")
            if command == "tick":
                clock.now = dt.datetime.fromisoformat(argument)
                report = await parts.reminders.tick()
                figures = {key: value for key, value in dataclasses.asdict(report).items() if key != "at"}
                print(json.dumps({"at": argument, "worker": parts.reminders.name, **figures}), flush=True)
    finally:
        await parts.reminders.stop()
        await parts.application.shutdown()
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
