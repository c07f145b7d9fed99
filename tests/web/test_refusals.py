"""What the pages refuse, each with nothing changed: forged or stale initData, expired or revoked links,
another unit's item, a missing or wrong CSRF token, too many requests; and the headers every page carries."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, expect
from sqlmodel import func, select

from bot.web.auth import CSRF_HEADER, INIT_DATA_HEADER
from storage.db import session_scope
from storage.models import AuditLog, Entry, Evidence, Submission, WebLink
from storage.web import revoke_links
from tests.web.conftest import Site

pytestmark = pytest.mark.asyncio(loop_scope="module")

MAI = 1001


def changes(site: Site) -> tuple[int, ...]:
    """What a refused request must leave as it was: entries, evidence, submissions, audit rows."""
    with session_scope(site.engine) as session:
        return tuple(int(session.exec(select(func.count()).select_from(model)).one())
                     for model in (Entry, Evidence, Submission, AuditLog))


async def csrf_of(client: aiohttp.ClientSession, site: Site, headers: dict[str, str]) -> str:
    async with client.get(f"{site.base}/web/report/main", headers=headers) as response:
        assert response.status == 200
        found = re.search(r'data-csrf="([0-9a-f]+)"', await response.text())
    assert found is not None
    return found.group(1)


async def save(client: aiohttp.ClientSession, site: Site, headers: dict[str, str], item: str = "TT-1",
               typed: str = "30.544", period: str = "1") -> tuple[int, str]:
    async with client.post(f"{site.base}/web/report/value", headers=headers,
                           data={"period": period, "item": item, "typed": typed}) as response:
        return response.status, await response.text()


async def test_forged_and_stale_init_data_are_refused(site: Site, browser: Browser) -> None:
    await site.joined("tttt-tdkt", MAI, "Trần Thị Mai")
    before = changes(site)
    forged = site.init_data(MAI, token="123456:another-bots-token")
    stale = site.init_data(MAI, age=dt.timedelta(hours=2))
    good = site.init_data(MAI)
    tampered = good.replace("1001", "1002")  # another user id under Mai's hash
    context, page = await site.page(browser)
    await page.goto(site.mini_app_url(forged))
    await expect(page.locator("main")).to_contain_text("Không xác minh được người dùng")
    await context.close()
    async with aiohttp.ClientSession() as client:
        token = await csrf_of(client, site, {INIT_DATA_HEADER: good})
        for bad in (forged, stale, tampered, "", "hash=&auth_date=1"):
            status, _ = await save(client, site, {INIT_DATA_HEADER: bad, CSRF_HEADER: token})
            assert status == 401, bad
            async with client.get(f"{site.base}/web/report/main", headers={INIT_DATA_HEADER: bad}) as response:
                assert response.status == 401
                assert "30.544" not in await response.text()
    assert changes(site) == before


async def test_the_mini_app_of_each_telegram_bot_is_checked_with_that_bots_token(site: Site) -> None:
    """A deployment of two Telegram bots offers the Mini App on both: each one's initData is accepted."""
    await site.joined("tttt-tdkt", MAI, "Trần Thị Mai")
    second = "654321:the-second-bots-token"
    site.pages.settings = dataclasses.replace(site.pages.settings,
                                              telegram_tokens=(site.world.fake.token, second))
    async with aiohttp.ClientSession() as client:
        for token, status in ((second, 200), (site.world.fake.token, 200), ("777:a-third-bots-token", 401)):
            headers = {INIT_DATA_HEADER: site.init_data(MAI, token=token)}
            async with client.get(f"{site.base}/web/report/main", headers=headers) as response:
                assert response.status == status, token


async def test_another_units_item_and_a_missing_or_wrong_csrf_token_are_refused(site: Site) -> None:
    await site.joined("tttt-tdkt", MAI, "Trần Thị Mai")
    before = changes(site)
    headers = {INIT_DATA_HEADER: site.init_data(MAI)}
    async with aiohttp.ClientSession() as client:
        token = await csrf_of(client, site, headers)
        status, body = await save(client, site, {**headers, CSRF_HEADER: token}, item="XD-1")  # Sở Xây dựng's
        assert status == 404 and "Không tìm thấy mục này" in body
        status, _ = await save(client, site, {**headers, CSRF_HEADER: token}, period="99")
        assert status == 404
        status, body = await save(client, site, headers)  # no CSRF token
        assert status == 403 and "mã xác nhận" in body
        status, _ = await save(client, site, {**headers, CSRF_HEADER: "0" * 32})
        assert status == 403
        other = site.pages.settings.signer.csrf("telegram:1002")  # another person's token
        status, _ = await save(client, site, {**headers, CSRF_HEADER: other})
        assert status == 403
        async with client.post(f"{site.base}/web/report/submit", headers=headers, data={"period": "1"}) as response:
            assert response.status == 403
        assert changes(site) == before
        status, body = await save(client, site, {**headers, CSRF_HEADER: token})  # the same request, right
        assert status == 200 and "30.544 hộ = 102,0% kế hoạch" in body
    assert changes(site) != before


async def test_expired_and_revoked_links_are_refused(site: Site, browser: Browser) -> None:
    before = changes(site)
    _, expiring = site.link("xd-tdkt", ttl=dt.timedelta(hours=1))
    link_id, lasting = site.link("xd-tdkt")
    context, page = await site.page(browser)
    # A personal link opens the form in a plain browser (no Telegram): the session cookie.
    await page.goto(lasting)
    await expect(page.locator("h1")).to_contain_text("Sở Xây dựng")
    cookie = next(c for c in await context.cookies() if c["name"] == "ktd_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    await expect(page.locator('.card[data-item="XD-1"]')).to_be_visible()
    assert await page.locator('.card[data-item="TT-1"]').count() == 0  # another unit's items are not shown
    # Revoked: the cookie the link set stops working at the next request, the link too.
    with session_scope(site.engine) as session:
        officer_id = session.get(WebLink, link_id).officer_id  # type: ignore[union-attr]
        revoked = revoke_links(session=session, officer_id=officer_id, link_id=link_id, now=site.world.clock.now,
                               actor="test")
    assert revoked == 1
    await page.locator('.card[data-item="XD-1"] input.value').fill("1")
    await page.locator('.card[data-item="XD-1"] input.value').press("Tab")
    await expect(page.locator('.card[data-item="XD-1"] .reading').first).to_contain_text("Không xác minh được")
    await page.reload()
    await expect(page.locator("main")).to_contain_text("Không xác minh được người dùng")
    await page.goto(lasting)
    await expect(page.locator("main")).to_contain_text("không còn hiệu lực")
    # Expired: an hour-long link two hours later.
    site.world.clock.now += dt.timedelta(hours=2)
    await page.goto(expiring)
    await expect(page.locator("main")).to_contain_text("không còn hiệu lực")
    await context.close()
    assert changes(site)[:3] == before[:3]  # only the links' own audit rows were added


async def test_every_page_has_a_strict_policy_and_requests_are_limited(site: Site) -> None:
    await site.joined("tttt-tdkt", MAI, "Trần Thị Mai")
    headers = {INIT_DATA_HEADER: site.init_data(MAI)}
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{site.base}/web/report") as response:
            policy = response.headers["Content-Security-Policy"]
            assert "script-src 'self'" in policy and "default-src 'none'" in policy
            assert "unsafe-inline" not in policy
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert "<script>" not in await response.text()  # the one script is a file of ours
        site.pages.counter.per_minute = 3
        statuses = []
        for _ in range(5):
            async with client.get(f"{site.base}/web/report/main", headers=headers) as response:
                statuses.append(response.status)
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]


async def test_evidence_opens_for_its_unit_only(site: Site, browser: Browser, tmp_path) -> None:  # noqa: ANN001
    _, mai_link = site.link("tttt-tdkt")
    _, ha_link = site.link("xd-tdkt")  # Phạm Thu Hà, Sở Xây dựng: a member unit, not a reviewer
    context, page = await site.page(browser)
    await page.goto(mai_link)
    await page.locator('.card[data-item="TT-1"] input.value').fill("30.544")
    await page.locator('.card[data-item="TT-1"] input.value').press("Tab")
    await expect(page.locator('.card[data-item="TT-1"] .reading').first).to_contain_text("102,0%")
    card = page.locator('.card[data-item="TT-1"]')
    await card.locator("summary").click()
    picture = tmp_path / "anh-lap-dat.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 300)
    await card.locator("input[type=file]").set_input_files(str(picture))
    await card.locator("form button[type=submit]").click()
    link = card.locator("a.evidence-file")
    await expect(link).to_have_text("anh-lap-dat.png")
    href = await link.get_attribute("href")
    assert href is not None
    async with page.expect_download() as caught:
        await link.click()
    download = await caught.value
    assert Path(await download.path()).read_bytes() == picture.read_bytes()
    await download.delete()
    await context.close()
    # A file too large is refused, nothing kept.
    context, page = await site.page(browser)
    await page.goto(mai_link)
    before = changes(site)
    card = page.locator('.card[data-item="TT-1"]')
    await card.locator("summary").click()
    big = tmp_path / "qua-lon.pdf"
    big.write_bytes(b"%PDF" + b"0" * (300 * 1024))
    await card.locator("input[type=file]").set_input_files(str(big))
    await card.locator("form button[type=submit]").click()
    await expect(card.locator(".evidence-result")).to_contain_text("Tệp quá lớn")
    assert changes(site) == before
    assert len(list((tmp_path / "uploads").iterdir())) == 1  # only the picture kept
    await context.close()
    # Another unit's officer does not get it.
    context, page = await site.page(browser)
    await page.goto(ha_link)
    await expect(page.locator("h1")).to_contain_text("Sở Xây dựng")
    response = await page.request.get(f"{site.base}{href}")
    assert response.status == 404 and b"PNG" not in await response.body()
    await context.close()
