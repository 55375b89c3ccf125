"""Page weight: what a first visit to each page downloads (HTML, CSS, JS, images, fonts, the rest).

    python bench/page_weight.py [--site DIR]     (``make bench-site`` runs it)

Every page of the built site (found by walking its HTML files) is opened in headless Debian
Chromium, each in a fresh browser context so nothing comes from the cache, served on 127.0.0.1
by the same server as the browser tests. Every distinct URL the page fetches until the network
is idle (the search worker's index included) is counted at the size of its file in the site,
uncompressed, as a server without compression sends it (the target applies to that); the last
column is the same files gzipped, about what GitHub Pages sends. The target is at most 1 MB per
page; this is a benchmark that prints a table, not a test that fails.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the shared site helpers

from sitetools import ROOT, build, is_local, launch, page_file, page_paths, serve

TARGET = 1_000_000  # bytes per page
KINDS = {".html": "html", ".css": "css", ".js": "js", ".woff2": "fonts", ".woff": "fonts", ".ttf": "fonts"}
KINDS |= dict.fromkeys([".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico"], "images")
COLUMNS = ["html", "css", "js", "images", "fonts", "other"]  # other: the search index, mostly


def weigh(site: Path) -> dict[str, dict[str, int]]:
    """``{page: {kind: bytes}}`` for every page of ``site``."""
    from playwright.sync_api import sync_playwright

    weights: dict[str, dict[str, int]] = {}
    with serve(site) as base_url, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for path in page_paths(site):
                context = browser.new_context()
                context.route("**/*", lambda route: route.continue_() if is_local(route.request.url) else route.abort())
                fetched: set[str] = set()
                context.on("requestfinished", lambda request, fetched=fetched: fetched.add(request.url))
                page = context.new_page()
                page.goto(base_url + path, wait_until="load")
                page.wait_for_load_state("networkidle")
                context.close()
                sizes: dict[str, int] = defaultdict(int)
                for url in fetched:
                    if not url.startswith(base_url):
                        continue  # data: URLs are inside a file already counted; nothing else is allowed
                    name = unquote(urlsplit(url).path).removeprefix(urlsplit(base_url).path)
                    file = site / page_file(name) if not name or name.endswith("/") else site / name
                    if not file.is_file():
                        continue  # a 404: nothing was downloaded (the browser tests report it)
                    data = file.read_bytes()
                    sizes[KINDS.get(file.suffix, "other")] += len(data)
                    sizes["gzip"] += len(gzip.compress(data, mtime=0))
                weights[path] = dict(sizes)
        finally:
            browser.close()
    return weights


def table(weights: dict[str, dict[str, int]]) -> str:
    width = max(len("/" + p) for p in weights)
    head = f"{'page':<{width}} " + " ".join(f"{c:>8}" for c in COLUMNS) + f" {'total':>9}  target {'gzip':>8}"
    lines = [head, "-" * len(head)]
    totals = {path: sum(sizes.get(c, 0) for c in COLUMNS) for path, sizes in weights.items()}
    for path, sizes in weights.items():
        cells = " ".join(f"{sizes.get(c, 0) / 1000:>7.1f}k" for c in COLUMNS)
        verdict = "ok" if totals[path] <= TARGET else "OVER"
        gzipped = sizes["gzip"] / 1000
        lines.append(f"{'/' + path:<{width}} {cells} {totals[path] / 1000:>8.1f}k  {verdict:<6} {gzipped:>7.1f}k")
    heaviest = max(totals, key=totals.__getitem__)
    totals = list(totals.values())
    lines.append("-" * len(head))
    lines.append(
        f"{len(weights)} pages; heaviest /{heaviest} at {max(totals) / 1000:.1f} kB; "
        f"median {sorted(totals)[len(totals) // 2] / 1000:.1f} kB; target <= {TARGET / 1e6:.0f} MB per page: "
        f"{sum(t <= TARGET for t in totals)} of {len(totals)} pages meet it"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, help="an already built site (default: build one now, strictly)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="llmarch-weight-") as tmp:
        site = args.site
        if site is None:
            site = Path(tmp) / "site"
            proc = build(ROOT, site)
            if proc.returncode != 0:
                print(proc.stdout + proc.stderr, file=sys.stderr)
                return 1
        print(table(weigh(site)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
