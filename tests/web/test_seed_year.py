"""Issue 15's done-when: the seed year reported on the page, reviewed on the review table, seen on the
board's overview, with the ranking the chat gives for the same figures.

What is driven how:

- Reporting. Every unit of the seed bloc reports its whole seed year-end report
  (tests/factories.py `seed_report`: the seed results, item by item) through the
  form's server path. The units of `IN_BROWSER` fill the form in Chromium, field
  by field, and press submit: one in Telegram's Mini App (initData), one by a
  personal link (as a Zalo or browser officer). The others send the same
  requests the page's script sends (`POST /web/report/value` per field, then
  `/web/report/submit`) with their personal link's session cookie and the
  page's CSRF token, taken from the page as served. Typing the Vietnamese
  number corpus has its own test (test_corpus.py).
- Review. In Chromium on the review table (/web/review): the leader's officer
  changes SXD's I.2 to 9 with a reason (as the chat's e2e test does) and sets
  the seed's deduction (SNNPTNT's D.1) with a reason, and accepts every unit but
  its own; the deputy's officer accepts the leader's unit.
- The board. In Chromium, a board member's link opens the overview; its K3 table
  gives each unit's rank, points and award proposal.
- The chat, for comparison. In a second database of the same backend, every
  unit reports the same figures through the chat's conversation (typed the
  Vietnamese way, confirmed, submitted), the leader and the deputy make the same
  review decisions by `/review`, and `/ranking` gives the ranking. On the page's
  database the leader's `/ranking` in Telegram (the real bot, the fake Bot API)
  is read as well. The board's ranking (order, rank, points, award) must equal
  both, and the two databases' rankings must be the same rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from decimal import Decimal

import aiohttp
import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.terminal import plain
from bot.web.auth import CSRF_HEADER
from bot.web.board import board_link_url
from handlers.i18n import t
from handlers.markup import to_plain
from rules.numbers import format_number
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.invites import issue_invites
from storage.models import Entry, Submission, Unit
from storage.web import issue_board_link
from tests.chat.driver import Clock, Person, make_person
from tests.e2e.conftest import DURING
from tests.factories import seed_bloc, seed_deductions, seed_report, seed_reporter
from tests.review.checks import ranking_in_db
from tests.web.conftest import Site

pytestmark = pytest.mark.asyncio(loop_scope="module")

UNITS = [unit.code for unit in seed_bloc().units]
LEADER, DEPUTY = "STTTT", "SGTVT"  # the seed's roles for 2018
MINI_APP, BY_LINK = "STTTT", "SXD"
IN_BROWSER = (MINI_APP, BY_LINK)
MAI = 1001  # Trần Thị Mai's Telegram id, officer tttt-tdkt of STTTT
THANH = 1010  # Nguyễn Văn Thành, head of STTTT, asks the chat for /ranking
# The review's score changes, each with its reason: SXD's I.2 as in tests/e2e/test_review.py, then the
# seed's deductions (a unit does not report its own), set by the reviewer.
CHANGES = [("SXD", "I.2", Decimal(9), "Chưa có văn bản tham mưu kèm theo")] + [
    (unit, code, value, "Gửi báo cáo chậm so với thời hạn") for unit, code, value in seed_deductions()]

Ranked = list[tuple[str, str, Decimal, str]]  # rank ("1", "2="), unit name, total, award proposal


def _vietnamese(number: str) -> Decimal:
    return Decimal(number.replace(".", "").replace(",", "."))


def _award(code: str | None) -> str:
    return to_plain(t("vi", f"review_award_{code}")) if code else ""


def chat_ranking(text: str) -> Ranked:
    """The chat's `/ranking` as (rank, unit, total, award): "1. Sở …", "   Tổng 98,75 = …", "   ➜ Cờ thi đua"."""
    found: Ranked = []
    for line in plain(text).splitlines():
        head = re.match(r"^(\d+)\. (.+?)( \(đồng hạng\))?$", line)
        total = re.match(r"^\s+Tổng ([\d.,]+) = ", line)
        award = re.match(r"^\s+➜ (.+)$", line)
        if head:
            found.append((head[1] + ("=" if head[3] else ""), head[2], Decimal(0), ""))
        elif total and found:
            found[-1] = (*found[-1][:2], _vietnamese(total[1]), "")
        elif award and found:
            found[-1] = (*found[-1][:3], award[1])
    return found


async def report_in_browser(site: Site, browser: Browser, unit: str) -> None:
    """The unit's officer fills every field of the form in Chromium and submits."""
    context, page = await site.page(browser)
    if unit == MINI_APP:
        await site.joined(seed_reporter(unit), MAI, "Trần Thị Mai")
        await page.goto(site.mini_app_url(site.init_data(MAI)))
    else:
        await page.goto(site.link(seed_reporter(unit))[1])
    figures = seed_report(unit)
    await expect(page.locator(".card")).to_have_count(len(figures))
    for code, value in figures:
        card = page.locator(f'.card[data-item="{code}"]')
        field = card.locator("input.value")
        await field.fill(format_number(value))
        await field.press("Tab")
        reading = card.locator(".reading").first
        await expect(reading).to_have_class(re.compile(r"\bsaved\b"))
        await expect(reading).to_contain_text(format_number(value))
    await expect(page.locator("#summary")).to_contain_text("Đã nhập đủ")
    await page.locator('button[data-action="submit"]').click()
    await expect(page.locator("#submit-result")).to_contain_text("Đã nộp báo cáo")
    await context.close()


async def report_by_requests(site: Site, unit: str) -> None:
    """The unit's officer sends the requests the page's script sends, field by field, then submits."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        async with client.get(site.link(seed_reporter(unit))[1]) as response:  # the link, then the form
            assert response.status == 200 and str(response.url).endswith("/web/report")
            form = await response.text()
        csrf = re.search(r'data-csrf="([0-9a-f]+)"', form)
        period = re.search(r'data-period="(\d+)"', form)
        assert csrf is not None and period is not None
        headers = {CSRF_HEADER: csrf[1], "X-Requested-With": "fetch"}
        for code, value in seed_report(unit):
            assert f'data-item="{code}"' in form
            fields = aiohttp.FormData({"period": period[1], "item": code, "typed": format_number(value)},
                                      default_to_multipart=True)
            async with client.post(f"{site.base}/web/report/value", data=fields, headers=headers) as response:
                answer = await response.json()
            assert (answer["kind"], answer["shown"]) == ("saved", format_number(value)), (unit, code, answer)
        fields = aiohttp.FormData({"period": period[1]}, default_to_multipart=True)
        async with client.post(f"{site.base}/web/report/submit", data=fields, headers=headers) as response:
            answer = await response.json()
        assert answer["kind"] == "saved" and "Đã nộp báo cáo" in answer["html"], answer


async def review_on_the_table(site: Site, browser: Browser) -> None:
    """The leader's officer changes the scores (with reasons) and accepts every unit but its own; the
    deputy's officer accepts the leader's unit. All on /web/review in Chromium."""
    for reviewer, units in ((LEADER, [unit for unit in UNITS if unit != LEADER]), (DEPUTY, [LEADER])):
        context, page = await site.page(browser)
        await page.goto(site.link(seed_reporter(reviewer))[1] + "?next=review")
        await expect(page.locator("h1")).to_contain_text("Rà soát báo cáo")
        for unit in units:
            card = page.locator(f'.unit-card[data-unit="{unit}"]')
            for changed, code, value, reason in CHANGES:
                if changed != unit:
                    continue
                await card.locator("details").first.locator("summary").click()
                change = card.locator('form[data-action="change"]')
                await change.locator("select").select_option(code)
                await change.locator('input[name="value"]').fill(format_number(value))
                await change.locator("textarea").fill(reason)
                await change.locator("button").click()
                await expect(card.locator(".review-result")).to_contain_text(f"Đã sửa {code}")
                await expect(page.locator(f'td[data-unit="{unit}"] .entry[data-item="{code}"] .reviewed')
                             ).to_contain_text(format_number(value))
            await card.locator('form[data-action="accept"] button').click()
            await expect(card.locator(".review-result")).to_contain_text("chấp nhận")
        await context.close()


async def board_ranking(site: Site, browser: Browser) -> Ranked:
    """The K3 table of the board's overview, as a board member sees it."""
    with session_scope(site.engine) as session:
        member = issue_board_link(session=session, name="Nguyễn Văn Bình", now=site.world.clock.now,
                                  ttl=dt.timedelta(days=30), actor="test")
    context, page = await site.page(browser)
    await page.goto(board_link_url(site.pages.settings, member))
    k3 = page.locator('section.board-bloc[data-bloc="K3"]')
    await expect(k3).to_contain_text(f"{len(UNITS)}/{len(UNITS)}")  # every unit handed in
    await expect(k3).to_contain_text(f"{len(UNITS)} đã rà soát xong")
    rows: Ranked = []
    for row in await k3.locator("tbody tr").all():
        rank, name, total, award = [cell.strip() for cell in await row.locator("td").all_inner_texts()]
        rows.append((rank, name, _vietnamese(total), award))
    await context.close()
    return rows


def chat_year(engine: Engine) -> Ranked:
    """The same year through the chat's conversation, in another database: every unit reports its seed
    figures, the leader and the deputy make the same review decisions, and `/ranking` answers."""
    clock = Clock(DURING)
    with session_scope(engine) as session:
        load_bloc(session=session, config=seed_bloc(), actor="test")
        codes = {invite.officer_code: invite.code for invite in issue_invites(
            session=session, bloc_id=1, now=DURING - dt.timedelta(days=1), ttl=dt.timedelta(days=30),
            actor="test")}

    def joined(officer_code: str, user_id: int) -> Person:
        person = make_person(engine, user_id, clock)
        assert "Kính chào" in person.command("start", codes[officer_code]).replies[0].text
        return person

    officers = {unit: joined(seed_reporter(unit), 2000 + index) for index, unit in enumerate(UNITS)}
    config = seed_bloc()
    short = {unit.code: unit.short_name for unit in config.units}
    for unit, person in officers.items():
        person.command("report")
        figures = seed_report(unit)
        for index, (_code, value) in enumerate(figures):
            assert f"Mục {index + 1}/{len(figures)}" in person.texts()
            person.text(format_number(value))
            assert "Số liệu vừa nhập" in person.texts()
            person.press("Đúng, lưu")
        assert "Đã nộp báo cáo" in "".join(reply.text for reply in person.press("Nộp báo cáo").replies)
    for reviewer, units in ((LEADER, [unit for unit in UNITS if unit != LEADER]), (DEPUTY, [LEADER])):
        person = officers[reviewer]
        person.command("review")
        for unit in units:
            person.press(str(short[unit]))
            assert "Tổng sau rà soát" in person.texts()
            for changed, code, value, reason in CHANGES:
                if changed != unit:
                    continue
                person.press("Sửa điểm")
                person.press(f"{code} ·")
                person.text(format_number(value))
                assert "lý do sửa" in person.texts()
                assert f"Đã sửa {code}" in person.text(reason).replies[0].text
            person.press("Chấp nhận")
            assert "Đã chấp nhận" in person.texts()
    return chat_ranking("\n".join(reply.text for reply in officers[LEADER].command("ranking").replies))


async def test_the_seed_year_on_the_page_the_review_table_and_the_board_ranks_as_by_chat(
        site: Site, browser: Browser, second_engine: Engine) -> None:
    for unit in UNITS:
        if unit in IN_BROWSER:
            await report_in_browser(site, browser, unit)
        else:
            await report_by_requests(site, unit)
    with session_scope(site.engine) as session:
        statuses = dict(session.exec(select(Unit.code, Submission.status)
                                     .join(Submission, col(Submission.unit_id) == Unit.id)).all())
        saved = {(code, item): value for code, item, value in session.exec(
            select(Unit.code, Entry.item_code, Entry.value).join(Submission, col(Submission.unit_id) == Unit.id)
            .join(Entry, col(Entry.submission_id) == Submission.id))}
    assert statuses == dict.fromkeys(UNITS, "submitted")
    assert saved == {(unit, code): value for unit in UNITS for code, value in seed_report(unit)}

    await review_on_the_table(site, browser)
    board = await board_ranking(site, browser)

    # The chat on the page's database: the leader's /ranking in Telegram.
    thanh = await site.joined("tttt-head", THANH, "Nguyễn Văn Thành")
    mark = site.world.fake.mark()
    await thanh.say("/ranking", "Tổng")
    await site.world.wait_handled()
    told = "\n".join(message.text or "" for message in site.world.fake.sent[mark:] if message.chat_id == THANH)
    # The chat in a database of its own, the same figures and decisions typed in the chat.
    by_chat = await asyncio.to_thread(chat_year, second_engine)

    assert len(board) == len(UNITS)
    assert board == by_chat == chat_ranking(told)
    assert ranking_in_db(site.engine).rows == ranking_in_db(second_engine).rows
    # The seed's outcome (DOMAIN.md): Information & Communications first for the flag, Industry & Trade
    # second for the certificate; Construction at 96,80 after its I.2 was reviewed (97,40 before).
    names = {unit.code: unit.name for unit in seed_bloc().units}
    assert board[0][1::2] == (names["STTTT"], _award("flag-pending-acclaim"))
    assert board[1][1::2] == (names["SCT"], _award("merit"))
    assert next(row for row in board if row[1] == names["SXD"])[2] == Decimal("96.80")
    assert site.console == []
