"""Visit the built site the way a reader does: served on 127.0.0.1, in headless Debian Chromium.

Every page is visited once per colour scheme (light and dark, as the reader's system asks
through ``prefers-color-scheme``); each visit records what the tests in this folder assert on:
console errors, requests to other hosts, math, images, links and anchors, and axe-core's
accessibility report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sitetools import is_local

SCHEMES = {"light": "default", "dark": "slate"}  # prefers-color-scheme -> Material's data-md-color-scheme

# Runs in the page after it has loaded: what a reader would see, read from the live DOM.
INSPECT = """
async () => {
  const visible = (el) => el.checkVisibility({ visibilityProperty: true });
  const maths = [...document.querySelectorAll("math")].map((m) => {
    const box = m.getBoundingClientRect();
    return {
      visible: visible(m),
      width: box.width,
      height: box.height,
      display: getComputedStyle(m).display,
      mathml: m.namespaceURI === "http://www.w3.org/1998/Math/MathML",
      text: m.textContent.trim().slice(0, 60),
    };
  });
  const reading = (document.querySelector("article") || document.body).cloneNode(true);
  reading.querySelectorAll("pre, code, math, script, style, textarea").forEach((el) => el.remove());
  const text = reading.textContent;
  const latex = ["\\\\(", "\\\\[", "$$", "\\\\frac", "\\\\sqrt", "\\\\mathrm", "\\\\begin{"]
    .filter((s) => text.includes(s));
  const images = [...document.images];
  await Promise.all(images.map((img) => { img.loading = "eager"; return img.decode().catch(() => null); }));
  return {
    scheme: document.body.getAttribute("data-md-color-scheme"),
    maths,
    latex,
    images: images.map((img) => ({
      src: img.currentSrc || img.src,
      alt: img.getAttribute("alt"),
      loaded: img.complete && img.naturalWidth > 0,
    })),
    ids: [...document.querySelectorAll("[id]")].map((el) => el.id)
      .concat([...document.querySelectorAll("a[name]")].map((a) => a.name)),
    links: [...new Set([...document.querySelectorAll("a[href]")].map((a) => a.href))],
    resources: performance.getEntriesByType("resource").map((entry) => entry.name),
  };
}
"""

AXE_RUN = """
async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
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
    """What one page showed in one colour scheme."""

    path: str
    status: int | None = None
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    dom: dict[str, Any] = field(default_factory=dict)
    axe: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Tour:
    """Every page of the site, visited in one colour scheme."""

    scheme: str  # what the reader's system prefers: "light" or "dark"
    visits: dict[str, Visit]


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


def visit(context: Any, foreign: list[str], url: str, path: str, axe_source: str) -> Visit:
    record = Visit(path)
    page = context.new_page()
    page.on("console", lambda msg: record.console_errors.append(_console_text(msg)) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: record.console_errors.append(f"uncaught: {exc}"))
    page.on("websocket", lambda ws: None if is_local(ws.url) else record.foreign_requests.append(ws.url))
    before = len(foreign)
    try:
        response = page.goto(url + path, wait_until="load")
        record.status = response.status if response else None
        page.wait_for_load_state("networkidle")
        record.dom = page.evaluate(INSPECT)
        page.add_script_tag(content=axe_source)
        record.axe = page.evaluate(AXE_RUN)
    finally:
        page.close()
    record.foreign_requests += foreign[before:]
    record.foreign_requests += [r for r in record.dom.get("resources", []) if not is_local(r)]
    record.foreign_requests = sorted(set(record.foreign_requests))
    return record
