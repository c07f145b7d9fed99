"""The catalogs' neutral markup, read on a channel without formatting."""

from __future__ import annotations

from handlers.i18n import t
from handlers.markup import to_plain


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
