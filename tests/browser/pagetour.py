"""Visit the built site the way a reader does: served on 127.0.0.1, in headless Debian Chromium.

Every page is loaded once per colour scheme (light and dark, as the reader's system asks
through ``prefers-color-scheme``) and looked at in two widths: a desktop window (1280 px), then,
the same page narrowed, a phone (390 px). Each look records what the tests in this folder assert
on (console errors, requests to other hosts, math and its font, images, raw emoji, elements wider
than the window, links and anchors, axe-core's accessibility report) and saves a full-page
screenshot for a maintainer to look at (:func:`screenshot_folder`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitetools import is_local

SCHEMES = {"light": "default", "dark": "slate"}  # prefers-color-scheme -> Material's data-md-color-scheme
WIDTHS = {1280: 800, 390: 844}  # a desktop window, then a phone: width -> height, in CSS pixels
DESKTOP, PHONE = WIDTHS
MATH_FONT = "Noto Sans Math"  # docs/stylesheets/extra.css, docs/plugin/llmarch_guide/mathfont.py
SCREENSHOTS = "LLMARCH_SCREENSHOTS"  # a folder for the screenshots; else one in pytest's temporary folder

# Runs in the page after it has loaded: what a reader would see, read from the live DOM.
INSPECT = """
async () => {
  await document.fonts.ready;
  const visible = (el) => el.checkVisibility({ visibilityProperty: true });
  const maths = [...document.querySelectorAll("math")].map((m) => {
    const box = m.getBoundingClientRect();
    return {
      visible: visible(m),
      width: box.width,
      height: box.height,
      display: getComputedStyle(m).display,
      font: getComputedStyle(m).fontFamily,
      mathml: m.namespaceURI === "http://www.w3.org/1998/Math/MathML",
      text: m.textContent.trim().slice(0, 60),
    };
  });
  const fonts = [...document.fonts].map((f) => ({ family: f.family.replace(/["']/g, ""), status: f.status }));
  // Emoji and pictographs as characters (the pages use Material's icons, inline SVG, instead).
  const pictograph = /[\\u{1F000}-\\u{1FAFF}\\u{2600}-\\u{27BF}\\u{2B00}-\\u{2BFF}\\u{FE0F}]/u;
  const emoji = [...document.body.innerText.matchAll(new RegExp(`.{0,20}${pictograph.source}.{0,20}`, "gu"))]
    .map((m) => m[0]);
  // Elements reaching past the window's sides, except inside a box that scrolls sideways and in
  // a closed drawer (fixed, wholly off screen: the phone's navigation until it slides in).
  const vw = document.documentElement.clientWidth;
  const overflow = (el) => getComputedStyle(el).overflowX;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].slice(0, 2).map((c) => "." + c).join("");
  const wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || (box.right <= vw + 1 && box.left >= -1)) continue;
    if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
    let fine = false;
    for (let a = el; a && a !== document.body && !fine; a = a.parentElement) {
      const ab = a.getBoundingClientRect();
      fine = getComputedStyle(a).position === "fixed" && (ab.right <= 0 || ab.left >= vw);
    }
    for (let a = el.parentElement; a && a !== document.body && !fine; a = a.parentElement) {
      if (["hidden", "clip"].includes(overflow(a))) break;  // cut off where a reader cannot scroll to it
      fine = ["auto", "scroll"].includes(overflow(a));
    }
    if (!fine) wide.push(`${name(el)}: ${Math.round(box.left)} to ${Math.round(box.right)} px, `
      + `${JSON.stringify((el.textContent || "").trim().slice(0, 50))}`);
  }
  const reading = (document.querySelector("article") || document.body).cloneNode(true);
  reading.querySelectorAll("pre, code, math, script, style, textarea").forEach((el) => el.remove());
  const text = reading.textContent;
  const latex = ["$", "\\\\(", "\\\\[", "\\\\frac", "\\\\sqrt", "\\\\mathrm", "\\\\begin{"]
    .filter((s) => text.includes(s));
  const images = [...document.images];
  const decoded = await Promise.all(images.map((img) => {
    img.loading = "eager";
    return img.decode().then(() => true, () => false);
  }));
  return {
    scheme: document.body.getAttribute("data-md-color-scheme"),
    width: vw,
    scrollWidth: document.documentElement.scrollWidth,
    maths,
    fonts,
    latex,
    emoji,
    wide: wide.slice(0, 20).concat(wide.length > 20 ? [`(+${wide.length - 20} more)`] : []),
    images: images.map((img, i) => ({
      src: img.currentSrc || img.src,
      alt: img.getAttribute("alt"),
      loaded: img.complete && img.naturalWidth > 0,
      decoded: decoded[i],
    })),
    ids: [...document.querySelectorAll("[id]")].map((el) => el.id)
      .concat([...document.querySelectorAll("a[name]")].map((a) => a.name)),
    links: [...new Set([...document.querySelectorAll("a[href]")].map((a) => a.href))],
    resources: performance.getEntriesByType("resource").map((entry) => entry.name),
  };
}
"""

# At the phone's width axe runs without its colour-contrast rule, by far its slowest: a page's
# colours do not change with its width (nothing in docs/stylesheets/ sets a colour by width),
# and the desktop look of the same page has just checked them.
AXE_RUN = """
async (phone) => {
  const options = { resultTypes: ["violations"] };
  if (phone) options.rules = { "color-contrast": { enabled: false } };
  const result = await axe.run(document, options);
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 200), impact: n.impact })),
  }));
}
"""


@dataclass
class Visit:
    """What one page showed in one colour scheme at one width."""

    path: str
    width: int = DESKTOP
    status: int | None = None
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    dom: dict[str, Any] = field(default_factory=dict)
    axe: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Tour:
    """Every page of the site, visited in one colour scheme: at the desktop's width, then the phone's."""

    scheme: str  # what the reader's system prefers: "light" or "dark"
    visits: dict[str, Visit]  # at 1280 px, by path
    phone: dict[str, Visit] = field(default_factory=dict)  # the same pages at 390 px

    def looks(self) -> dict[str, Visit]:
        """Every visit at both widths, by a label that names the page and the width."""
        return {f"{path} at {v.width} px": v for visits in (self.visits, self.phone) for path, v in visits.items()}


def screenshot_folder(base: Path) -> Path:
    """Where the screenshots go: ``$LLMARCH_SCREENSHOTS``, else ``screenshots`` under ``base``."""
    return Path(os.environ[SCREENSHOTS]).resolve() if os.environ.get(SCREENSHOTS) else base / "screenshots"


def screenshot_path(folder: Path, scheme: str, width: int, path: str) -> Path:
    """``folder/light-1280/components/attention.jpg`` for the page ``components/attention/``."""
    name = path.strip("/").removesuffix(".html") or "index"
    return folder / f"{scheme}-{width}" / f"{name}.jpg"


def new_context(browser: Any, scheme: str, **options: Any) -> tuple[Any, list[str]]:
    """A browser context that prefers ``scheme``; every request to another host is recorded and refused."""
    context = browser.new_context(color_scheme=scheme, **options)
    foreign: list[str] = []

    def guard(route: Any) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    context.on("request", lambda request: None if is_local(request.url) else foreign.append(request.url))
    return context, foreign


def _console_text(msg: Any) -> str:
    where = msg.location.get("url") if msg.location else ""
    return f"{msg.text} ({where})" if where else msg.text


def visit(
    context: Any, foreign: list[str], url: str, path: str, axe_source: str, shots: tuple[Path, str] | None = None
) -> tuple[Visit, Visit]:
    """One page, loaded once: what it shows at the desktop's width, then narrowed to the phone's.

    With ``shots`` (a folder, the context's scheme), a full-page screenshot of each look is saved
    there (:func:`screenshot_path`).
    """
    wide, narrow = Visit(path, DESKTOP), Visit(path, PHONE)
    errors: list[str] = []
    page = context.new_page()
    page.set_viewport_size({"width": DESKTOP, "height": WIDTHS[DESKTOP]})
    page.on("console", lambda msg: errors.append(_console_text(msg)) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("websocket", lambda ws: None if is_local(ws.url) else foreign.append(ws.url))
    before = len(foreign)
    try:
        response = page.goto(url + path, wait_until="load")
        wide.status = narrow.status = response.status if response else None
        page.wait_for_load_state("networkidle")
        page.add_script_tag(content=axe_source)
        for record in (wide, narrow):
            if record is narrow:
                page.set_viewport_size({"width": PHONE, "height": WIDTHS[PHONE]})
                page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
            record.dom = page.evaluate(INSPECT)
            record.axe = page.evaluate(AXE_RUN, record is narrow)
            if shots is not None:
                file = screenshot_path(*shots, record.width, path)
                file.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=file, full_page=True, type="jpeg", quality=85)  # PNG takes 3 to 5 times longer
            record.console_errors = list(errors)
    finally:
        page.close()
    for record in (wide, narrow):
        requests = foreign[before:] + [r for r in record.dom.get("resources", []) if not is_local(r)]
        record.foreign_requests = sorted(set(requests))
    return wide, narrow
