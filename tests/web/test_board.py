"""The provincial board's overview in a real Chromium: every bloc, the ranking compute_ranking gives, the
score sheet and minutes as real files; a revoked board link, an officer's link and no link refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from bot.loading import load_bloc_file
from bot.web.board import board_link_url
from handlers.i18n import points
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.results import import_results
from storage.web import BoardMember, issue_board_link, revoke_board_links
from tests.factories import ROOT, seed_results
from tests.review.checks import check_minutes, check_score_sheet, ranking_in_db
from tests.web.conftest import Site

pytestmark = pytest.mark.asyncio(loop_scope="module")


def board_member(site: Site, name: str = "Nguyễn Văn Bình", language: str = "vi") -> tuple[BoardMember, str]:
    with session_scope(site.engine) as session:
        member = issue_board_link(session=session, name=name, now=site.world.clock.now,
                                  ttl=dt.timedelta(days=30), actor="test", language=language)
    return member, board_link_url(site.pages.settings, member)


async def test_the_board_sees_every_bloc_its_ranking_and_downloads_the_paperwork(site: Site,
                                                                                 browser: Browser) -> None:
    with session_scope(site.engine) as session:
        import_results(session=session, results=seed_results(), actor="test")
        load_bloc(session=session, config=load_bloc_file(ROOT / "examples" / "cum-1000.yaml"), actor="test")
    _, link = board_member(site)
    context, page = await site.page(browser)
    await page.goto(link)
    await expect(page.locator("h1")).to_contain_text("Tổng quan thi đua")
    await expect(page.locator("section.board-bloc")).to_have_count(2)
    k3 = page.locator('section.board-bloc[data-bloc="K3"]')
    await expect(k3).to_contain_text("7/7")  # every unit handed in
    await expect(page.locator('section.board-bloc[data-bloc="C1000"]')).to_contain_text("chưa mở kỳ báo cáo")
    report = ranking_in_db(site.engine)
    shown = [await row.get_attribute("data-unit") for row in await k3.locator("tbody tr").all()]
    assert shown == [row.unit_code for row in report.rows]
    first = k3.locator("tbody tr").first
    await expect(first).to_contain_text(report.rows[0].unit_name)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    files = {}
    for kind in ("xlsx", "docx"):
        async with page.expect_download() as caught:
            await k3.locator(f'a[href$="/{kind}"]').click()
        download = await caught.value
        files[kind] = Path(await download.path()).read_bytes()
        assert download.suggested_filename.endswith(f".{kind}")
    check_score_sheet(files["xlsx"], report)
    check_minutes(files["docx"], report)
    assert site.console == []
    await context.close()


async def test_the_overview_is_in_english_for_a_link_issued_in_english(site: Site, browser: Browser) -> None:
    with session_scope(site.engine) as session:
        import_results(session=session, results=seed_results(), actor="test")
    _, english = board_member(site, "Jane Doe", language="en")
    context, page = await site.page(browser)
    await page.goto(english)
    assert await page.get_attribute("html", "lang") == "en"
    await expect(page.locator("h1")).to_have_text("Overview of the province's emulation blocs")
    k3 = page.locator('section.board-bloc[data-bloc="K3"]')
    await expect(k3).to_contain_text("The year-end review 2018: 7/7 units handed in, 0 reviewed")
    await expect(k3.locator("thead th")).to_have_text(["Rank", "Unit", "Points", "Award proposed"])
    first = k3.locator("tbody tr").first
    await expect(first).to_contain_text("Emulation flag (pending acclaim)")
    await expect(first).to_contain_text(points(ranking_in_db(site.engine).rows[0].total, "en"))
    await expect(k3.locator("a.download").first).to_contain_text("Score sheet (.xlsx, in Vietnamese)")
    body = await page.locator("main").inner_text()
    # Nothing of the page's own text is left in Vietnamese (the units' and blocs' names are theirs).
    for vietnamese in ("Tổng quan", "Hạng", "Điểm", "đã nộp", "Cờ thi đua", "Bảng tổng hợp", "Đường dẫn riêng"):
        assert vietnamese not in body, vietnamese
    assert site.console == []
    await context.close()
    # The same overview for a link issued without a language: Vietnamese.
    _, vietnamese_link = board_member(site)
    context, page = await site.page(browser)
    await page.goto(vietnamese_link)
    assert await page.get_attribute("html", "lang") == "vi"
    await expect(page.locator('section.board-bloc[data-bloc="K3"] thead th').first).to_have_text("Hạng")
    await context.close()


async def test_a_revoked_board_link_an_officers_link_and_no_link_are_refused(site: Site, browser: Browser) -> None:
    member, link = board_member(site)
    context, page = await site.page(browser)
    await page.goto(link)
    await expect(page.locator("h1")).to_contain_text("Tổng quan thi đua")
    with session_scope(site.engine) as session:
        assert revoke_board_links(session=session, now=site.world.clock.now, actor="test", name=member.name) == 1
    response = await page.reload()
    assert response is not None and response.status == 401
    await expect(page.locator("main")).to_contain_text("Không xác minh được người dùng")
    response = await page.goto(link)
    assert response is not None and response.status == 403
    await context.close()
    # An officer's personal link (another purpose) opens no overview, and its session neither.
    _, officer_link = site.link("tttt-tdkt")
    token = officer_link.rsplit("/", 1)[1]
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{site.base}/web/b/{token}", allow_redirects=False) as answer:
            assert answer.status == 403
        async with client.get(officer_link, allow_redirects=False) as answer:
            assert answer.status == 303
        async with client.get(f"{site.base}/web/board") as answer:
            assert answer.status == 401 and "board-bloc" not in await answer.text()
        async with client.get(f"{site.base}/web/board/file/1/xlsx") as answer:
            assert answer.status == 401
