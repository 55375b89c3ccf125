"""The site's search box, typed into as a reader does."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pagetour import SCHEMES, new_context


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_search_finds_attention(browser, base_url: str, site: Path, scheme: str):
    context, foreign = new_context(browser, scheme)
    try:
        page = context.new_page()
        page.goto(base_url, wait_until="load")
        box = page.locator("input.md-search__input")
        box.click()
        box.press_sequentially("attention", delay=20)
        results = page.locator(".md-search-result__item")
        results.first.wait_for(state="visible", timeout=15_000)
        meta = page.locator(".md-search-result__meta").inner_text()
        hrefs = results.locator("a").evaluate_all("links => links.map((a) => a.href)")
    finally:
        context.close()
    assert "matching" in meta.lower(), meta
    assert hrefs, "search showed no result for 'attention'"
    for href in hrefs:
        path = urlsplit(href).path.removeprefix(urlsplit(base_url).path)
        assert (site / path / "index.html").is_file() or (site / path).is_file(), f"result points nowhere: {href}"
    assert not foreign
