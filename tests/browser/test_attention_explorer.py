"""The interactive attention figure on *Multi-head attention*: by keyboard and by mouse, without errors.

The page script (``docs/javascripts/attention-explorer.js``) reads the weights out of the SVG a
snippet saved (``llmarch.plotting.AttentionExplorer``) and puts an explorer in the picture's
place. A reader must be able to use it without a mouse (Tab to the tokens, arrow keys, a
visible focus), with a mouse (hover a token or a row of the matrix), and axe must find nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from pagetour import AXE_RUN, SCHEMES, new_context

PAGE = "components/attention/"
READY = "figure.llmarch-explorer[data-ready='true']"
TOKENS = f"{READY} .llmarch-explorer__token"
READOUT = f"{READY} .llmarch-explorer__readout"


@pytest.fixture(params=list(SCHEMES))
def explorer(request, browser, base_url) -> Iterator[tuple[Any, list[str]]]:
    """The page in one colour scheme, its explorer built; the console's errors so far."""
    context, foreign = new_context(browser, request.param, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.goto(base_url + PAGE, wait_until="load")
    page.wait_for_selector(READY, timeout=15_000)
    try:
        yield page, errors
    finally:
        assert not foreign, f"requests to other hosts: {foreign}"
        context.close()


def position(text: str) -> int:
    found = re.search(r"at position (\d+) looks", text)
    assert found, f"the readout does not name the token's position: {text!r}"
    return int(found[1])


def test_the_explorer_replaces_the_picture_and_shows_every_choice(explorer):
    page, errors = explorer
    assert page.locator("img[src$='.explorer.svg']").evaluate("img => !img.checkVisibility()")
    selects = page.locator(f"{READY} select")
    assert selects.count() == 3  # text, layer, head
    for i in range(3):  # each has a label a screen reader announces
        assert page.locator(f"{READY} label").nth(i).locator("select").count() == 1
    assert page.locator(TOKENS).count() > 10
    assert page.locator(f"{READY} svg.llmarch-explorer__matrix").get_attribute("aria-label")
    assert not errors


def test_the_tokens_work_by_keyboard(explorer):
    page, errors = explorer
    page.locator(f"{READY} select").nth(2).focus()  # the head
    page.keyboard.press("Tab")  # one tab stop into the tokens: the last one
    focused = page.evaluate("document.activeElement.className")
    assert "llmarch-explorer__token" in focused
    last = position(page.locator(READOUT).inner_text())
    assert last == page.locator(TOKENS).count() - 1
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "the focused token shows no focus outline"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert position(page.locator(READOUT).inner_text()) == last - 2
    assert page.evaluate("document.activeElement.dataset.position") == str(last - 2)
    page.keyboard.press("Home")
    assert position(page.locator(READOUT).inner_text()) == 0
    # Only one token is a tab stop (a roving tabindex), so Tab leaves the strip at once.
    assert page.locator(f"{TOKENS}[tabindex='0']").count() == 1
    assert not errors


def test_the_tokens_and_the_matrix_work_by_mouse(explorer):
    page, errors = explorer
    page.locator(TOKENS).nth(5).hover()
    assert position(page.locator(READOUT).inner_text()) == 5
    weights = page.locator(TOKENS).evaluate_all(
        "buttons => buttons.map(b => Number(b.style.getPropertyValue('--weight')))"
    )
    assert abs(sum(weights[:6]) - 1) < 0.06 and not any(weights[6:]), "row 5 must spread 1 over tokens 0..5"
    cell = page.locator(f"{READY} svg rect[data-query='9']").first
    cell.hover()
    assert position(page.locator(READOUT).inner_text()) == 9
    cells, opacities = page.locator(f"{READY} svg rect[data-query]"), "r => r.map(c => c.getAttribute('fill-opacity'))"
    before = cells.evaluate_all(opacities)
    page.locator(f"{READY} select").nth(1).select_option("1")  # another layer
    after = cells.evaluate_all(opacities)
    assert before != after, "choosing another layer did not redraw the matrix"
    page.locator(f"{READY} select").nth(0).select_option("1")  # another text
    assert page.locator(TOKENS).count() != len(weights) or page.locator(READOUT).inner_text()
    assert not errors


def test_axe_finds_nothing_in_the_explorer(explorer, axe_source):
    page, errors = explorer
    page.locator(TOKENS).nth(3).focus()
    page.add_script_tag(content=axe_source)
    violations = page.evaluate(AXE_RUN)
    assert not violations, violations
    assert not errors
