"""Fixtures of the browser tests: the built site served on 127.0.0.1, Chromium, and one tour of
every page per colour scheme, each page at two widths (see ``pagetour.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pagetour import SCHEMES, Tour, new_context, screenshot_folder, visit
from sitetools import AXE, launch, page_paths, serve


@pytest.fixture(scope="session")
def base_url(site: Path) -> Iterator[str]:
    """The built site, served on 127.0.0.1 at a free port for the whole session."""
    with serve(site) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="`make test` installs the `browser` extra")
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: `make test` installs it (npm ci --prefix tests/browser)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def pages(site: Path) -> list[str]:
    """Every page of the built site (walked, never listed by hand)."""
    found = page_paths(site)
    assert "" in found, "the site has no index.html"
    return found


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """The folder of the tour's screenshots (``$LLMARCH_SCREENSHOTS``, else pytest's temporary folder)."""
    return screenshot_folder(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session", params=list(SCHEMES))
def tour(request, browser, base_url, pages, axe_source, screenshots) -> Tour:
    """Every page, loaded once in the light and once in the dark scheme, and looked at in both widths."""
    context, foreign = new_context(browser, request.param)
    try:
        tour = Tour(request.param, {})
        for path in pages:
            tour.visits[path], tour.phone[path] = visit(
                context, foreign, base_url, path, axe_source, (screenshots, request.param)
            )
    finally:
        context.close()
    return tour
