"""The catalogs' neutral markup, read on a channel without formatting."""

from __future__ import annotations

import re

import pytest

from handlers.i18n import t
from handlers.markup import for_buttons, to_plain


def test_tags_go_entities_are_read_and_links_are_spelled_out() -> None:
    text = '<b>Mục 1/9</b> – <i>chỉ tiêu</i> <code>30.544</code> &lt;TT-1&gt; &amp; <a href="https://x.vn/f">tệp</a>'
    assert to_plain(text) == "Mục 1/9 – chỉ tiêu 30.544 <TT-1> & tệp (https://x.vn/f)"


def test_a_link_whose_text_is_its_address_is_not_repeated() -> None:
    assert to_plain('<a href="https://x.vn">https://x.vn</a>') == "https://x.vn"


def test_text_a_person_typed_stays_as_typed_after_escaping() -> None:
    typed = "<script>1 & 2</script>"
    assert typed in to_plain(t("vi", "err_note_long", max=typed, you="đồng chí"))


def test_a_period_kind_before_its_year_never_repeats_the_word_year() -> None:
    """'tổng kết năm' + ' năm 2018' read 'tổng kết năm năm 2018' in the leader's notice."""
    from handlers.i18n import catalog

    kinds = [value for key, value in catalog("vi").items() if key.startswith("kind_")]
    assert kinds
    for key, text in catalog("vi").items():
        if "{kind}" in text:
            for kind in kinds:
                filled = text.replace("{kind}", kind).replace("{year}", "2018")
                assert "năm năm" not in filled, key


# Texts a channel without buttons never shows (toasts answer Telegram's buttons; the demo's chronicle and
# the command line speak of pressing on their own), or that speak of a web page's button to the page.
NOT_ON_TYPED_CHANNELS = {"demo.pressed", "run_ready", "stale_notice", "review_stale_notice", "web_not_signed_in"}
PRESSING = re.compile(r"bấm|\bnút\b|\bpress|\bbutton", re.IGNORECASE)


def test_press_says_bam_where_there_are_buttons_and_chon_where_options_are_typed() -> None:
    text = '<press typed="chọn">bấm</press> <b>📨 Nộp báo cáo</b>; <press typed="Lựa chọn vừa gõ">Nút vừa bấm</press>'
    assert for_buttons(text) == "bấm <b>📨 Nộp báo cáo</b>; Nút vừa bấm"
    assert to_plain(text) == "bấm 📨 Nộp báo cáo; Nút vừa bấm"
    assert to_plain(text, typed=True) == "chọn 📨 Nộp báo cáo; Lựa chọn vừa gõ"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_no_catalog_text_tells_a_person_without_buttons_to_press_one(language: str) -> None:
    """Zalo and the terminal number their options: "bấm"/"press" is said only where there are buttons."""
    from handlers.i18n import catalog

    pressing = [key for key, text in catalog(language).items()
                if key not in NOT_ON_TYPED_CHANNELS and PRESSING.search(to_plain(text, typed=True))]
    assert pressing == []
    with_press = [key for key, text in catalog(language).items() if "<press" in text]
    assert len(with_press) >= 25
    for key in with_press:  # every element well formed: nothing of it is left for Telegram's HTML
        assert "<press" not in for_buttons(catalog(language)[key]), key
        assert PRESSING.search(for_buttons(catalog(language)[key])), key
