"""Post length counting and rendering."""

from __future__ import annotations

import unicodedata

from chirp.posts import text


def test_length_counts_code_points_after_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "café")
    assert len(decomposed) == 5
    assert text.length(decomposed) == 4
    assert text.length("🐦🐦") == 2


def test_every_url_counts_as_23() -> None:
    long_url = "https://example.com/" + "a" * 100
    assert text.length(long_url) == 23
    assert text.length(f"see {long_url} and http://x.io") == 4 + 23 + 5 + 23
    # Without a scheme it is plain text, as on Mastodon.
    assert text.length("example.com") == len("example.com")


def test_html_is_escaped_and_links_are_safe() -> None:
    html = str(text.to_html('<script>alert("x")</script> https://example.com/?a=1&b=2'))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="https://example.com/?a=1&amp;b=2"' in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_quotes_in_urls_cannot_break_out_of_the_attribute() -> None:
    html = str(text.to_html('http://example.com/"onmouseover="alert(1)'))
    assert 'onmouseover="alert' not in html
    assert "&#34;" in html or "&quot;" in html


def test_paragraphs_and_line_breaks() -> None:
    assert str(text.to_html("one\ntwo\n\nthree")) == "<p>one<br />two</p><p>three</p>"
