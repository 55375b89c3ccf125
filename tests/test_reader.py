"""What a reader sees in the built pages: no raw emoji, figures that follow the colour scheme,
diagrams whose alt text is their description, and code blocks that fit the column."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sitetools import ROOT

SNIPPETS = ROOT / "snippets"
COLUMN = 88  # characters of code that fit the code column at 1280 px (docs/stylesheets/extra.css)

# Emoji and pictographs, whose glyphs many systems lack (they showed as empty boxes); the
# pages use Material's icons (inline SVG) instead. Not arrows, maths or box-drawing signs.
RAW_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")
IMAGE = re.compile(r"<img\b[^>]*>")
ATTRIBUTE = re.compile(r'\b(alt|src)="([^"]*)"')
DESC = re.compile(r"<desc\b[^>]*>(.*?)</desc>", re.DOTALL)


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def figures_on(page: Path) -> list[tuple[str, Path]]:
    """(alt text, figure file) of every image of the site's figures/ folder on ``page``."""
    found = []
    for tag in IMAGE.findall(page.read_text(encoding="utf-8")):
        attributes = dict(ATTRIBUTE.findall(tag))
        src = attributes.get("src", "")
        if "figures/" in src:
            found.append((html.unescape(attributes.get("alt", "")), (page.parent / src).resolve()))
    return found


def test_no_raw_emoji_on_any_page(site):
    problems = {}
    for page in pages(site):
        found = sorted(set(RAW_EMOJI.findall(page.read_text(encoding="utf-8"))))
        if found:
            problems[page.relative_to(site).as_posix()] = found
    assert not problems, f"raw emoji (use a Material icon shortcode such as :material-barcode:): {problems}"


def test_every_diagram_has_alt_text_that_says_what_it_shows(site):
    """A diagram's alt text is the description its code wrote into the SVG, so the two cannot drift."""
    problems, diagrams = [], 0
    for page in pages(site):
        for alt, figure in figures_on(page):
            described = DESC.search(figure.read_text(encoding="utf-8"))
            if described is None:
                continue  # a chart: its alt text is the page's own words
            diagrams += 1
            desc = " ".join(html.unescape(described[1]).split())
            if " ".join(alt.split()) != desc:
                where = page.relative_to(site).as_posix()
                problems.append(f"/{where}: {figure.name}: the alt text should be the diagram's description:\n{desc}")
    assert diagrams >= 10, f"only {diagrams} diagrams found on the pages"
    assert not problems, "\n".join(problems)


def test_every_figure_follows_the_colour_scheme(site):
    """Transparent, with colours that change with the page's scheme (no white panel in the dark)."""
    figures = sorted((site / "figures").glob("*.svg"))
    assert len(figures) >= 25
    problems = []
    for figure in figures:
        svg = figure.read_text(encoding="utf-8")
        if "@media (prefers-color-scheme: dark)" not in svg or "var(--fg)" not in svg:
            problems.append(f"{figure.name}: no dark variant of its colours")
        background = re.search(r'<g id="patch_1">\s*<path\b[^>]*style="([^"]*)"', svg)
        if background and "fill: none" not in background[1]:
            problems.append(f"{figure.name}: an opaque background ({background[1]})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", sorted(SNIPPETS.rglob("*.py")), ids=lambda p: p.relative_to(SNIPPETS).as_posix())
def test_every_line_of_a_block_fits_the_column(path):
    """Code and printed output alike: a block shows no line that runs off the right edge."""
    long = [
        f"{number}: {line[:60]}... ({len(line)} characters)"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if len(line) > COLUMN
    ]
    assert not long, f"lines longer than {COLUMN} characters (wrap printed text, e.g. textwrap.fill):\n" + "\n".join(
        long
    )
