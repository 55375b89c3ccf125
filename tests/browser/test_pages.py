"""Every page, in the light and in the dark scheme, at a desktop's and a phone's width, as a
reader's browser shows it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pagetour import MATH_FONT, SCHEMES, WIDTHS, Tour, new_context, screenshot_path


def report(problems: dict[str, list[str]]) -> str:
    """One readable block per page: the page, then each problem indented under it."""
    return "\n".join(f"/{page}\n    " + "\n    ".join(items) for page, items in problems.items())


def test_every_page_opens_in_the_readers_colour_scheme(tour: Tour):
    expected = SCHEMES[tour.scheme]
    problems = {
        path: [f"HTTP {v.status}, data-md-color-scheme={v.dom.get('scheme')!r}, expected {expected!r}"]
        for path, v in tour.looks().items()
        if v.status != 200 or v.dom.get("scheme") != expected
    }
    assert not problems, report(problems)


def test_nothing_is_wider_than_the_window(tour: Tour):
    """Wide formulas, code and tables scroll inside their own box; nothing else reaches past the window."""
    problems: dict[str, list[str]] = {}
    for label, v in tour.looks().items():
        items = list(v.dom["wide"])
        if v.dom["scrollWidth"] > v.dom["width"]:
            width, window = v.dom["scrollWidth"], v.dom["width"]
            items.insert(0, f"the page scrolls sideways: {width} px wide in a {window} px window")
        if items:
            problems[label] = items
    assert not problems, report(problems)
    assert {v.dom["width"] for v in tour.looks().values()} == set(WIDTHS)


def test_no_console_errors(tour: Tour):
    problems = {path: v.console_errors for path, v in tour.visits.items() if v.console_errors}
    assert not problems, report(problems)


def test_no_request_to_any_other_host(tour: Tour):
    problems = {path: v.foreign_requests for path, v in tour.visits.items() if v.foreign_requests}
    assert not problems, report(problems)


def test_math_is_typeset(tour: Tour):
    problems: dict[str, list[str]] = {}
    for path, v in tour.looks().items():
        items = [f"LaTeX left as text: {s!r}" for s in v.dom["latex"]]
        for m in v.dom["maths"]:
            if not m["mathml"] or "math" not in m["display"]:
                items.append(f"<math> not rendered as MathML (display: {m['display']}): {m['text']!r}")
            elif m["visible"] and (m["width"] <= 0 or m["height"] <= 0):
                items.append(f"<math> has no size ({m['width']}x{m['height']}): {m['text']!r}")
        if items:
            problems[path] = items
    assert not problems, report(problems)
    assert sum(len(v.dom["maths"]) for v in tour.visits.values()) > 0, "no page has any math"


def test_math_is_laid_out_with_the_site_math_font(tour: Tour):
    """Every formula is set in Noto Sans Math (the site serves it), loaded by the time the page is shown."""
    problems: dict[str, list[str]] = {}
    for label, v in tour.looks().items():
        if not v.dom["maths"]:
            continue
        items = [
            f"<math> in {m['font']!r}: {m['text']!r}"
            for m in v.dom["maths"]
            if m["font"].split(",")[0].strip().strip("\"'") != MATH_FONT
        ]
        faces = [f["status"] for f in v.dom["fonts"] if f["family"] == MATH_FONT]
        if "loaded" not in faces:
            items.append(f"the font {MATH_FONT!r} is not loaded (its faces: {faces or 'none'})")
        if items:
            problems[label] = items[:10]
    assert not problems, report(problems)


def test_no_raw_emoji(tour: Tour):
    """Icons are Material's inline SVG; a raw emoji shows as an empty box where no emoji font is installed."""
    problems = {label: v.dom["emoji"] for label, v in tour.looks().items() if v.dom["emoji"]}
    assert not problems, report(problems)


def test_every_figure_loads_and_has_alt_text(tour: Tour):
    problems: dict[str, list[str]] = {}
    for path, v in tour.looks().items():
        items = [f"does not load: {img['src']}" for img in v.dom["images"] if not img["loaded"]]
        items += [f"does not decode: {img['src']}" for img in v.dom["images"] if img["loaded"] and not img["decoded"]]
        items += [f"no alt text: {img['src']}" for img in v.dom["images"] if not (img["alt"] or "").strip()]
        if items:
            problems[path] = items
    assert not problems, report(problems)


def test_internal_links_and_anchors_resolve(tour: Tour, site: Path, base_url: str):
    # The DOM of every page is already at hand, so resolving its links against the files and
    # the ids seen is a few lines; a link checker would fetch every page again.
    ids = {path: set(v.dom["ids"]) for path, v in tour.visits.items()}
    base = urlsplit(base_url)
    problems: dict[str, list[str]] = {}
    for path, v in tour.visits.items():
        items = []
        for link in v.dom["links"]:
            parts = urlsplit(link)
            if parts.scheme not in {"http", "https"} or parts.netloc != base.netloc:
                continue  # mailto: and the like; other hosts are for the request test
            target = unquote(parts.path).removeprefix(base.path)
            file = site / (target + "index.html" if target.endswith("/") or not target else target)
            if not file.is_file():
                items.append(f"broken link: {link}")
            elif parts.fragment and target in ids and unquote(parts.fragment) not in ids[target]:
                items.append(f"missing anchor: {link}")
        if items:
            problems[path] = items
    assert not problems, report(problems)


def test_axe_finds_no_violation(tour: Tour, capsys):
    """The issue asks for no serious or critical violation; there is none of any impact, and it stays so."""
    problems: dict[str, list[str]] = {}
    impacts: Counter[str] = Counter()
    for path, v in tour.looks().items():
        items = []
        for violation in v.axe:
            nodes = violation["nodes"]
            impacts.update(n["impact"] or violation["impact"] for n in nodes)
            where = "; ".join(f"{n['target']} {n['html']}" for n in nodes[:3])
            more = f" (+{len(nodes) - 3} more)" if len(nodes) > 3 else ""
            items.append(f"{violation['id']} [{violation['impact']}] {violation['help']}: {where}{more}")
        if items:
            problems[path] = items
    with capsys.disabled():
        found = ", ".join(f"{impact}: {n}" for impact, n in sorted(impacts.items())) or "no nodes"
        widths = " and ".join(map(str, WIDTHS))
        pages = f"{len(tour.visits)} pages at {widths} px: {len(problems)} looks with violations"
        print(f"\n  axe-core, {tour.scheme} scheme, {pages} ({found})")
    assert not problems, report(problems)


def test_every_page_has_its_screenshots(tour: Tour, screenshots: Path, capsys):
    """A full-page screenshot of every page, in each scheme and width, for a maintainer to look at."""
    missing = [
        label
        for label, v in tour.looks().items()
        if not screenshot_path(screenshots, tour.scheme, v.width, v.path).is_file()
    ]
    with capsys.disabled():
        print(f"\n  screenshots, {tour.scheme} scheme: {screenshots}/{tour.scheme}-{{{','.join(map(str, WIDTHS))}}}/")
    assert not missing, missing


# Pages whose formulas use most of what the font must draw: sums, roots, fractions, cases, norms.
FONT_PAGES = ["transformers/", "components/masks/", "api/attention/"]


def test_math_glyphs_are_drawn_from_the_math_font(browser, base_url: str):
    """What Chromium really drew each token of a formula with (DevTools' platform fonts): the math font.

    Only a character Noto Sans Math lacks may come from another font: the macron of ``\\bar``.
    """
    context, _ = new_context(browser, "light")
    problems: dict[str, list[str]] = {}
    try:
        for path in FONT_PAGES:
            page = context.new_page()
            page.goto(base_url + path, wait_until="load")
            page.wait_for_load_state("networkidle")
            page.evaluate("document.fonts.ready.then(() => true)")
            cdp = context.new_cdp_session(page)
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
            tokens = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": "math mi, math mo, math mn"})
            assert tokens["nodeIds"], f"/{path} has no math"
            items = set()
            for node in tokens["nodeIds"]:
                for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]:
                    if font["familyName"] != MATH_FONT or not font["isCustomFont"]:
                        text = cdp.send("DOM.getOuterHTML", {"nodeId": node})["outerHTML"]
                        if "&#x000AF;" not in text and "\u00af" not in text:
                            items.add(f"{text[:80]} drawn with {font['familyName']}")
            if items:
                problems[path] = sorted(items)[:10]
            page.close()
    finally:
        context.close()
    assert not problems, report(problems)
