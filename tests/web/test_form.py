"""An officer fills the seed report on the page in a real Chromium; the chat sees the same values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.async_api import Browser, Page, expect
from sqlmodel import select

from storage.db import session_scope
from storage.models import AuditLog, Entry, Evidence, Submission
from tests.web.conftest import Site

pytestmark = pytest.mark.asyncio(loop_scope="module")

MAI = 1001  # Trần Thị Mai's Telegram id, officer tttt-tdkt of STTTT


async def fill(page: Page, code: str, typed: str) -> None:
    """Type into an item's field and leave it, as a person does (the page saves on change)."""
    field = page.locator(f'.card[data-item="{code}"] input.value')
    await field.fill(typed)
    await field.press("Tab")


def reading(page: Page, code: str):  # noqa: ANN201 (a Playwright locator)
    return page.locator(f'.card[data-item="{code}"] .reading').first


async def test_the_whole_seed_report_on_the_page_then_in_the_chat(site: Site, browser: Browser,
                                                                    tmp_path) -> None:  # noqa: ANN001
    mai = await site.joined("tttt-tdkt", MAI, "Trần Thị Mai")
    context, page = await site.page(browser)
    await page.goto(site.mini_app_url(site.init_data(MAI), theme="dark"))
    await expect(page.locator("h1")).to_contain_text("Sở Thông tin và Truyền thông")
    assert await page.locator(".card").count() == 9
    await expect(page.locator(".card").first).to_contain_text("29.945")

    # A number that reads two ways: the chat's question, then the reading picked is saved.
    await fill(page, "TT-1", "30,544")
    await expect(reading(page, "TT-1")).to_contain_text("có thể hiểu theo hai cách")
    await page.locator('.card[data-item="TT-1"] button[data-pick="0"]').click()
    await expect(reading(page, "TT-1")).to_contain_text("30.544 hộ = 102,0% kế hoạch")
    await expect(page.locator('.card[data-item="TT-1"] input.value')).to_have_value("30.544")

    # Typed wrong: the chat's answer, nothing saved.
    await fill(page, "TT-2", "ba mươi")
    await expect(reading(page, "TT-2")).to_contain_text("không đọc được số này")
    await fill(page, "I.2", "11")
    await expect(reading(page, "I.2")).to_contain_text("Điểm phải từ 0 đến 10")
    with session_scope(site.engine) as session:
        assert set(session.exec(select(Entry.item_code))) == {"TT-1"}

    await fill(page, "TT-2", "31,5")
    await expect(reading(page, "TT-2")).to_contain_text("31,5% = 105,0% kế hoạch")

    # Evidence: a file within the limits, a note; a file of a kind not allowed is refused.
    card = page.locator('.card[data-item="TT-2"]')
    await card.locator("summary").click()
    pdf = tmp_path / "bien-ban.pdf"
    pdf.write_bytes(b"%PDF-1.4 test" * 100)
    await card.locator("input[type=file]").set_input_files(str(pdf))
    await card.locator("form button[type=submit]").click()
    await expect(card.locator(".evidence-result")).to_contain_text("Đã lưu minh chứng")
    await expect(card.locator(".kept")).to_contain_text("bien-ban.pdf")
    exe = tmp_path / "virus.exe"
    exe.write_bytes(b"MZ")
    await card.locator("input[type=file]").set_input_files(str(exe))
    await card.locator("form button[type=submit]").click()
    await expect(card.locator(".evidence-result")).to_contain_text("Chỉ nhận tệp PDF")
    await card.locator("input[type=file]").set_input_files([])
    await card.locator("textarea").fill("Theo báo cáo số 12/BC-STTTT <script>alert(1)</script>")
    await card.locator("form button[type=submit]").click()
    await expect(card.locator(".kept")).to_contain_text("2 minh chứng")
    # What was typed is text on the page: the note's markup shows as typed, no script of it exists.
    await expect(card.locator(".kept")).to_contain_text("<script>aler")  # a note is listed by its first 40 characters
    assert await page.evaluate("document.scripts.length") == 1  # ours, /web/static/app.js

    # Half the self scores on the page; the chat resumes at the first item the page left.
    for code, typed in [("I.2", "9,8"), ("II.1", "9,8"), ("II.2", "9,8")]:
        await fill(page, code, typed)
        await expect(reading(page, code)).to_contain_text(f"{typed}/10 điểm")
    await mai.say("/report", "Mục 6/9")
    await mai.say("10", "10/10 điểm")
    await mai.press("Đúng, lưu", "Mục 7/9")

    # The page shows what the chat saved; the rest on the page; submit.
    await page.reload()
    await expect(page.locator('.card[data-item="III.1"] input.value')).to_have_value("10")
    for code, typed in [("III.2", "9,8"), ("III.3", "9,5"), ("B.1", "0")]:
        await fill(page, code, typed)
        await expect(reading(page, code)).to_contain_text("điểm")
    await expect(page.locator("#summary")).to_contain_text("Đã nhập đủ")
    await expect(page.locator("#summary")).to_contain_text("(thưởng 0,35")
    await page.locator('button[data-action="submit"]').click()
    await expect(page.locator("#submit-result")).to_contain_text("Đã nộp báo cáo")
    await expect(page.locator("#banner")).to_contain_text("đã nộp")

    # The chat shows the same report: submitted, the same figures in its summary.
    await mai.say("/report", "đang ở trạng thái")
    summary = await mai.press("Xem tổng hợp", "Tổng hợp")
    for line in ("TT-1: 30.544 hộ = 102,0%", "TT-2: 31,5% = 105,0%", "III.1: 10/10 điểm", "III.3: 9,5/10 điểm"):
        assert line in summary.plain_text, line
    with session_scope(site.engine) as session:
        assert session.exec(select(Submission.status)).one() == "submitted"
        values = dict(session.exec(select(Entry.item_code, Entry.value)).all())
        assert values["TT-1"] == Decimal(30544) and values["TT-2"] == Decimal("31.5")
        assert values["III.1"] == Decimal(10)  # typed in the chat
        assert len(session.exec(select(Evidence)).all()) == 2
        audited = session.exec(select(AuditLog.actor, AuditLog.target).where(
            AuditLog.action.in_(["indicator.set", "criterion.set"]))).all()  # type: ignore[attr-defined]
    # The page and the chat audit alike: one row per value saved, by the officer.
    assert {actor for actor, _ in audited} == {"officer:tttt-tdkt"}
    assert sorted(target for _, target in audited) == sorted(values)
    # Escaped: the note's markup is text on the page, no script ran.
    assert site.console == []
    await context.close()
