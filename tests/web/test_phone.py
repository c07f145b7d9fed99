"""Made for a phone first: 360 x 740, large touch targets, Telegram's dark theme, no console errors."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.web.conftest import THEMES, Site

pytestmark = pytest.mark.asyncio(loop_scope="module")

MAI = 1001


@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_the_form_fits_a_phone_in_telegrams_theme(site: Site, browser: Browser, theme: str) -> None:
    await site.joined("tttt-tdkt", MAI, "Trần Thị Mai")
    context, page = await site.page(browser, width=360, height=740)
    await page.goto(site.mini_app_url(site.init_data(MAI), theme=theme))
    await expect(page.locator("#form")).to_be_visible()
    # Telegram's colours through its CSS variables.
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(THEMES[theme]["bg_color"][i:i + 2], 16) for i in (1, 3, 5))
    assert background == f"rgb({red}, {green}, {blue})"
    # Nothing wider than the phone; every field and button shown at least 44 px high (a finger). The
    # buttons inside an item's closed evidence box are not shown (no box at all) until it is opened.
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    heights = await page.eval_on_selector_all(
        "input.value, button, .evidence summary",
        "elements => elements.filter(e => e.getClientRects().length > 0)"
        ".map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 44
    # The submit button stays in view at the bottom while the officer scrolls the items.
    await page.mouse.wheel(0, 2000)
    box = await page.locator('button[data-action="submit"]').bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 740
    await context.close()
    assert site.console == []


async def test_english_officers_get_the_form_in_english_and_a_plain_browser_works(site: Site,
                                                                                    browser: Browser) -> None:
    mai = await site.joined("tttt-tdkt", MAI, "Trần Thị Mai")
    await mai.say("/lang", "Choose a language")
    await mai.press("English", "")
    _, link = site.link("tttt-tdkt")
    context, page = await site.page(browser, width=1280, height=800)
    await page.goto(link)  # no Telegram: the personal link's cookie
    await expect(page.locator("h1")).to_contain_text("report for")
    await expect(page.locator(".card").first).to_contain_text("Plan: 29,945")  # English marks, as the chat writes them
    await context.close()
    assert site.console == []


async def test_the_link_the_bot_sends_opens_that_officers_form(site: Site, browser: Browser) -> None:
    mai = await site.joined("tttt-tdkt", MAI, "Trần Thị Mai")
    sent = await mai.say("/form", "chỉ dành riêng")
    assert sent.reply_markup is not None
    urls = [button.get("url") for row in sent.reply_markup["inline_keyboard"] for button in row]
    assert len(urls) == 1 and str(urls[0]).startswith(f"{site.base}/web/l/")
    context, page = await site.page(browser)
    await page.goto(str(urls[0]))
    await expect(page.locator("h1")).to_contain_text("Sở Thông tin và Truyền thông")
    await page.locator('.card[data-item="TT-1"] input.value').fill("30.544")
    await page.locator('.card[data-item="TT-1"] input.value').press("Tab")
    await expect(page.locator('.card[data-item="TT-1"] .reading').first).to_contain_text("102,0% kế hoạch")
    await context.close()
    assert site.console == []
