"""The numbers officers type (the chat tests' corpus), typed into the page: the server's reading shown back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.async_api import Browser, expect
from sqlmodel import select

from rules.numbers import format_number, format_percent
from storage.db import session_scope
from storage.models import Entry
from tests.rules.test_numbers import CORPUS
from tests.web.conftest import Site

pytestmark = pytest.mark.asyncio(loop_scope="module")

MAI = 1001
TARGET = Decimal(30)  # TT-2: "Tỷ lệ hồ sơ … trực tuyến", measured in %, plan 30
LIMIT = TARGET * 100  # the default plausible limit of an actual (`reporting.max_times_target`)


async def test_the_corpus_typed_on_the_page_reads_as_in_the_chat(site: Site, browser: Browser) -> None:
    await site.joined("tttt-tdkt", MAI, "Trần Thị Mai")
    context, page = await site.page(browser)
    await page.goto(site.mini_app_url(site.init_data(MAI)))
    field = page.locator('.card[data-item="TT-2"] input.value')
    shown = page.locator('.card[data-item="TT-2"] .reading').first
    saved = Decimal(-1)
    for text, value, _percent in CORPUS:
        await field.fill(text)
        await field.press("Tab")
        if value < 0:
            await expect(shown).to_contain_text("không thể là số âm")
        elif value > LIMIT:  # above the plausible limit (100 times the plan): refused, as in the chat
            await expect(shown).to_contain_text("vượt quá mức hợp lý")
        else:
            echo = f"{format_number(value)}% = {format_percent(value * 100 / TARGET)} kế hoạch"
            await expect(shown).to_contain_text(echo)
            await expect(field).to_have_value(format_number(value))
            saved = value
        with session_scope(site.engine) as session:
            stored = session.exec(select(Entry.value).where(Entry.item_code == "TT-2")).first()
            assert stored == (saved if saved >= 0 else None), text
    await context.close()
    assert site.console == []
