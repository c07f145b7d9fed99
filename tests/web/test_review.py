"""The leader's review table in a real Chromium: accept, change a score with a reason, return; the same
services, audit and notices as the chat's /review; refused to a member unit and without the CSRF token."""

from __future__ import annotations

import re
from decimal import Decimal

import aiohttp
import pytest
from playwright.async_api import Browser, expect
from sqlmodel import col, func, select

from bot.web.auth import CSRF_HEADER, INIT_DATA_HEADER
from fakes.telegram import SentMessage
from handlers.markup import to_plain
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.models import AuditLog, Entry, Period, Submission, Unit
from storage.results import import_results
from tests.factories import seed_bloc, seed_bloc_data, seed_results
from tests.web.conftest import Site

pytestmark = pytest.mark.asyncio(loop_scope="module")

MAI = 1001  # Trần Thị Mai, officer of STTTT: the 2018 leader unit
HA = 1002  # Phạm Thu Hà, officer of SXD: a member unit
LAN = 1003  # Vũ Thị Lan, officer of SCT


def handed_in(site: Site) -> None:
    """Every unit's seed report, handed in (as if each had submitted it in the chat)."""
    with session_scope(site.engine) as session:
        import_results(session=session, results=seed_results(), actor="test")


def state(site: Site) -> tuple[dict[str, str], list[tuple[str, str | None, str]], int]:
    """Each unit's status, the review audit rows (action, unit, actor) and the reviewed entries."""
    with session_scope(site.engine) as session:
        statuses = {code: status for code, status in session.exec(
            select(Unit.code, Submission.status).join(Submission, col(Submission.unit_id) == Unit.id))}
        audit = [(row.action, row.unit_code, row.actor) for row in session.exec(
            select(AuditLog).where(col(AuditLog.action).startswith("review.")).order_by(col(AuditLog.id)))]
        reviewed = int(session.exec(select(func.count()).select_from(Entry)
                                    .where(col(Entry.reviewed_value).is_not(None))).one())
    return statuses, audit, reviewed


async def told(site: Site, user_id: int, text: str, mark: int) -> SentMessage:
    return await site.world.fake.wait_for(lambda message: message.chat_id == user_id and text in to_plain(
        message.text), timeout=15, after=mark)


async def test_the_leader_accepts_changes_and_returns_on_the_table(site: Site, browser: Browser) -> None:
    handed_in(site)
    await site.joined("xd-tdkt", HA, "Phạm Thu Hà")
    await site.joined("ct-tdkt", LAN, "Vũ Thị Lan")
    _, link = site.link("tttt-tdkt")
    context, page = await site.page(browser)
    await page.goto(link)  # the form, with the way to the review table for the leader's officer
    await page.locator("p.review-link a").click()
    await expect(page.locator("h1")).to_contain_text("Rà soát báo cáo")
    table = page.locator("table.review-table")
    await expect(table.locator("thead th")).to_have_count(8)  # the item column and seven units
    # At 360 px the table scrolls sideways inside its frame, the page does not.
    wrap = page.locator(".table-wrap")
    assert await wrap.evaluate("e => e.scrollWidth > e.clientWidth")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await expect(table.locator('td[data-unit="SXD"][data-item="I.2"]')).to_contain_text("9,6")
    before = state(site)
    assert set(before[0].values()) == {"submitted"}

    # Accept SCT: its officer is told, as from the chat.
    mark = site.world.fake.mark()
    card = page.locator('.unit-card[data-unit="SCT"]')
    await card.locator('form[data-action="accept"] button').click()
    await expect(page.locator('.unit-card[data-unit="SCT"] .review-result')).to_contain_text("chấp nhận")
    await told(site, LAN, "đã được Sở Thông tin và Truyền thông chấp nhận", mark)

    # Change SXD's I.2 without a reason: refused, nothing changed; with one: saved, Hà told.
    card = page.locator('.unit-card[data-unit="SXD"]')
    await card.locator("details").first.locator("summary").click()
    change = card.locator('form[data-action="change"]')
    await change.locator("select").select_option("I.2")
    await change.locator('input[name="value"]').fill("9")
    await change.locator("button").click()
    await expect(card.locator(".review-result")).to_contain_text("Cần ghi lý do")
    assert state(site)[1:] == (before[1] + [("review.accept", "SCT", "officer:tttt-tdkt")], 0)
    mark = site.world.fake.mark()
    await change.locator("textarea").fill("Chi bộ chưa có quyết định công nhận")
    await change.locator("button").click()
    await expect(page.locator('.unit-card[data-unit="SXD"] .review-result')).to_contain_text("I.2")
    await expect(page.locator('td[data-unit="SXD"][data-item="I.2"] .reviewed')).to_contain_text("9")
    message = await told(site, HA, "đã sửa điểm khi rà soát", mark)
    assert "Chi bộ chưa có quyết định công nhận" in to_plain(message.text)

    # Return SKHCN with a reason.
    card = page.locator('.unit-card[data-unit="SKHCN"]')
    await card.locator("details").nth(1).locator("summary").click()
    await card.locator('form[data-action="return"] textarea').fill("Thiếu minh chứng mục KH-1")
    await card.locator('form[data-action="return"] button').click()
    await expect(page.locator('.unit-card[data-unit="SKHCN"] .review-result')).to_contain_text("trả lại")
    await context.close()

    assert site.console == []
    statuses, audit, reviewed = state(site)
    assert statuses["SCT"] == "accepted" and statuses["SKHCN"] == "returned" and statuses["SXD"] == "submitted"
    assert audit[len(before[1]):] == [("review.accept", "SCT", "officer:tttt-tdkt"),
                                      ("review.score", "SXD", "officer:tttt-tdkt"),
                                      ("review.return", "SKHCN", "officer:tttt-tdkt")]
    assert reviewed == 1
    with session_scope(site.engine) as session:
        entry = session.exec(select(Entry).where(col(Entry.reviewed_value).is_not(None))).one()
        assert (entry.item_code, entry.reviewed_value) == ("I.2", Decimal(9))
        assert entry.review_reason == "Chi bộ chưa có quyết định công nhận"
        returned = session.exec(select(Submission).join(Unit, col(Unit.id) == Submission.unit_id)
                                .where(Unit.code == "SKHCN")).one()
        assert returned.return_reason == "Thiếu minh chứng mục KH-1"


async def test_a_member_unit_gets_403_and_a_missing_csrf_token_changes_nothing(site: Site) -> None:
    handed_in(site)
    await site.joined("xd-tdkt", HA, "Phạm Thu Hà")
    await site.joined("tttt-tdkt", MAI, "Trần Thị Mai")
    before = state(site)
    member = {INIT_DATA_HEADER: site.init_data(HA)}
    leader = {INIT_DATA_HEADER: site.init_data(MAI)}
    with session_scope(site.engine) as session:
        sct = session.exec(select(Unit.id).where(Unit.code == "SCT")).one()
        own = session.exec(select(Unit.id).where(Unit.code == "STTTT")).one()
    accept = {"action": "accept", "unit": str(sct)}
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{site.base}/web/review/main", headers=member) as response:
            assert response.status == 403 and "review-table" not in await response.text()
        async with client.get(f"{site.base}/web/report/main", headers=member) as response:
            assert "/web/review" not in await response.text()  # no way to the table for a member unit
        member_csrf = site.pages.settings.signer.csrf(f"telegram:{HA}")
        async with client.post(f"{site.base}/web/review/act", data=accept,
                               headers={**member, CSRF_HEADER: member_csrf}) as response:
            assert response.status == 403
        async with client.get(f"{site.base}/web/review/main", headers=leader) as response:
            assert response.status == 200
            found = re.search(r'data-csrf="([0-9a-f]+)"', await response.text())
        assert found is not None
        async with client.post(f"{site.base}/web/review/act", data=accept, headers=leader) as response:
            assert response.status == 403  # no CSRF token
        async with client.post(f"{site.base}/web/review/act", data=accept,
                               headers={**leader, CSRF_HEADER: member_csrf}) as response:
            assert response.status == 403  # another person's
        # The leader's own report is the deputy's to review.
        async with client.post(f"{site.base}/web/review/act", data={"action": "accept", "unit": str(own)},
                               headers={**leader, CSRF_HEADER: found.group(1)}) as response:
            assert response.status == 403
        async with client.post(f"{site.base}/web/review/act",
                               data={"action": "return", "unit": str(sct), "reason": "   "},
                               headers={**leader, CSRF_HEADER: found.group(1)}) as response:
            answer = await response.json()
            assert answer["kind"] == "error" and "Cần ghi lý do" in answer["html"]
        async with client.post(f"{site.base}/web/review/act",
                               data={"action": "change", "unit": str(sct), "item": "I.2", "value": "11",
                                     "reason": "quá điểm tối đa"},
                               headers={**leader, CSRF_HEADER: found.group(1)}) as response:
            answer = await response.json()
            assert answer["kind"] == "error" and "Điểm phải từ 0 đến 10" in answer["html"]
        assert state(site) == before
        async with client.post(f"{site.base}/web/review/act", data=accept,
                               headers={**leader, CSRF_HEADER: found.group(1)}) as response:
            assert response.status == 200
    assert state(site)[0]["SCT"] == "accepted"


async def test_an_earlier_period_is_chosen_above_the_table_and_only_read(site: Site, browser: Browser) -> None:
    data = seed_bloc_data()
    data["periods"] = [{"year": 2018, "kind": "mid-year",
                        "reporting": {"opens": "2018-06-01T08:00:00", "deadline": "2018-07-10T17:00:00"}},
                       *data["periods"],
                       {"year": 2019, "kind": "mid-year",  # not opened yet
                        "reporting": {"opens": "2019-06-01T08:00:00", "deadline": "2019-07-10T17:00:00"}}]
    with session_scope(site.engine) as session:
        load_bloc(session=session, config=seed_bloc(**data), actor="test")
        import_results(session=session, results=seed_results(period="mid-year"), actor="test")
        import_results(session=session, results=seed_results(), actor="test")
        periods = {(year, kind): period_id for period_id, year, kind in session.exec(
            select(Period.id, Period.year, Period.kind))}
    before = state(site)
    _, link = site.link("tttt-tdkt")
    context, page = await site.page(browser)
    await page.goto(link + "?next=review")
    await expect(page.locator("h1")).to_contain_text("tổng kết năm 2018")
    choices = page.locator("nav.periods a")
    await expect(choices).to_have_text(["Năm 2018 – tổng kết năm", "Năm 2018 – sơ kết 6 tháng đầu năm"])
    await expect(choices.first).to_have_attribute("aria-current", "page")
    await expect(page.locator('form[data-action="accept"]')).to_have_count(6)  # every unit but the leader's own
    await choices.nth(1).click()
    await expect(page.locator("h1")).to_contain_text("sơ kết 6 tháng đầu năm 2018")
    assert page.url.endswith(f"/web/review?period={periods[2018, 'mid-year']}")
    await expect(page.locator("#review > .banner")).to_contain_text("chỉ để xem")
    await expect(page.locator('td[data-unit="SXD"][data-item="I.2"]')).to_contain_text("9,6")
    await expect(page.locator("form.review-form")).to_have_count(0)  # read only: no decision to make here
    await page.locator("nav.periods a").first.click()
    await expect(page.locator('form[data-action="accept"]')).to_have_count(6)
    assert site.console == []
    # A period not opened yet, or of no bloc: refused.
    for period_id in (periods[2019, "mid-year"], 999999):
        response = await page.goto(f"{site.base}/web/review?period={period_id}")
        assert response is not None and response.status == 403
    await context.close()
    # In the Mini App the shell asks for the same period's table, with initData.
    await site.joined("tttt-tdkt", MAI, "Trần Thị Mai")
    middle = periods[2018, "mid-year"]
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{site.base}/web/review?period={middle}") as response:
            assert f'data-src="/web/review/main?period={middle}"' in await response.text()
        async with client.get(f"{site.base}/web/review/main?period={middle}",
                              headers={INIT_DATA_HEADER: site.init_data(MAI)}) as response:
            assert response.status == 200 and "sơ kết 6 tháng đầu năm 2018" in await response.text()
    assert state(site) == before
