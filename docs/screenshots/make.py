"""Screenshots of the report form, the review table and the board's overview at 360 x 740 (a phone) and
1280 x 800, for README.md.

    .venv/bin/python docs/screenshots/make.py

Plays the seed bloc on a fresh SQLite database in a temporary folder: Trần Thị Mai
(Sở Thông tin và Truyền thông) has saved a few items, the page is opened by a personal
link (light) and as Telegram's Mini App with its dark theme; Debian's Chromium
(/usr/bin/chromium) takes the pictures. Nothing reaches the internet.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.http_server import HttpServer  # noqa: E402
from bot.loading import load_bloc_file, load_results_file  # noqa: E402
from bot.web.auth import Signer, sign_init_data  # noqa: E402
from bot.web.board import board_link_url  # noqa: E402
from bot.web.routes import WebSettings  # noqa: E402
from handlers.services.reporting import UnitReport  # noqa: E402
from storage.blocs import load_bloc  # noqa: E402
from storage.chat import officer_by_code, officer_view  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.invites import link_account  # noqa: E402
from storage.models import stored_id  # noqa: E402
from storage.results import import_results  # noqa: E402
from storage.web import issue_board_link, issue_link  # noqa: E402

OUT = Path(__file__).resolve().parent
NOW = dt.datetime(2019, 1, 5, 3, 0, tzinfo=dt.UTC)  # the seed year's year-end reporting
TOKEN = "123456:screenshots"  # noqa: S105 (a made-up bot token; nothing is sent)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DARK = {"bg_color": "#212121", "text_color": "#ffffff", "hint_color": "#aaaaaa", "link_color": "#8774e1",
        "button_color": "#8774e1", "button_text_color": "#ffffff", "secondary_bg_color": "#181818"}
SAVED = {"TT-1": Decimal(30544), "TT-2": Decimal("31.5"), "I.2": Decimal("9.8"), "II.1": Decimal("9.8")}


def _prepare(url: str) -> int:
    """The seed loaded, a few values saved, Mai's Telegram account linked; her officer id."""
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        load_bloc(session=session, config=load_bloc_file(ROOT / "examples" / "khoi3-2018.yaml"), actor="screenshots")
        officer = officer_by_code(session=session, bloc_code="K3", officer_code="tttt-tdkt")
        if officer is None:
            raise SystemExit("the seed bloc has no officer tttt-tdkt")
        officer_id = stored_id(officer)
        link_account(session=session, officer_id=officer_id, channel="telegram", external_id="1001", now=NOW)
        view = officer_view(session=session, officer_id=officer_id)
        report = UnitReport.open(session=session, officer=view, period_id=1) if view is not None else None
        if report is None:
            raise SystemExit("the seed bloc's first period is missing")
        for code, value in SAVED.items():
            report.save(report.by_code[code], value)
    engine.dispose()
    return officer_id


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/screens.db"
        officer_id = _prepare(url)
        engine = make_engine(url)
        parts = build_application(token=TOKEN, engine=engine, base_url="http://127.0.0.1:9/bot",
                                  base_file_url="http://127.0.0.1:9/file/bot", clock=lambda: NOW)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        base = f"http://127.0.0.1:{port}"
        server = HttpServer(parts.runtime, clock=lambda: NOW)
        pages = server.add_web(WebSettings(signer=Signer(b"s" * 32), base_url=base, telegram_token=TOKEN,
                                           upload_dir=Path(folder) / "uploads"))
        with session_scope(engine) as session:
            link = issue_link(session=session, officer_id=officer_id, now=NOW, ttl=dt.timedelta(days=3),
                              sent_to=None, actor="screenshots")
        personal = pages.link_url(pages.settings.signer.token("link", link.id, link.expires_at))
        user = json.dumps({"id": 1001, "first_name": "Mai", "language_code": "vi"}, separators=(",", ":"))
        init_data = sign_init_data({"auth_date": str(int(NOW.timestamp())), "user": user}, TOKEN)
        mini_app = (f"{base}/web/report#tgWebAppData={quote(init_data)}"
                    f"&tgWebAppThemeParams={quote(json.dumps(DARK))}")
        await server.start("127.0.0.1", port)
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                for name, address, width, height in [("form-360-light", personal, 360, 740),
                                                     ("form-1280-light", personal, 1280, 800),
                                                     ("form-360-dark", mini_app, 360, 740)]:
                    context = await browser.new_context(viewport={"width": width, "height": height},
                                                        device_scale_factor=1)
                    page = await context.new_page()
                    await page.goto(address)
                    await page.wait_for_selector("#form")
                    # The ambiguity question, as the page shows it after "30,544" is typed.
                    field = page.locator('.card[data-item="TT-1"] input.value')
                    await field.fill("30,544")
                    await field.press("Tab")
                    await page.wait_for_selector('.card[data-item="TT-1"] .reading.ask')
                    await page.screenshot(path=str(OUT / f"{name}.png"))
                    print(OUT / f"{name}.png")
                    await context.close()
                # Every unit's report handed in: the leader's review table and the board's overview.
                with session_scope(engine) as session:
                    import_results(session=session, results=load_results_file(
                        ROOT / "examples" / "khoi3-2018-results.yaml"), actor="screenshots")
                    member = issue_board_link(session=session, name="Nguyễn Văn Bình", now=NOW,
                                              ttl=dt.timedelta(days=30), actor="screenshots")
                board = board_link_url(pages.settings, member)
                for name, address, selector in [("review", f"{personal}?next=review", "#review"),
                                                ("board", board, "section.board-bloc")]:
                    for width, height in [(360, 740), (1280, 800)]:
                        context = await browser.new_context(viewport={"width": width, "height": height},
                                                            device_scale_factor=1)
                        page = await context.new_page()
                        await page.goto(address)
                        await page.wait_for_selector(selector)
                        await page.screenshot(path=str(OUT / f"{name}-{width}-light.png"))
                        print(OUT / f"{name}-{width}-light.png")
                        await context.close()
                await browser.close()
        finally:
            await server.stop()
            await parts.runtime.units.close()
            engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
