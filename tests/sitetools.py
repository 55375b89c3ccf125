"""Build the site, serve it on 127.0.0.1, and drive Debian's Chromium with Playwright.

Shared by the tests (``tests/conftest.py``, ``tests/browser/``, ``tests/test_reproducible.py``)
and the site benchmarks (``bench/page_weight.py``, ``bench/build_time.py``). Playwright never
downloads a browser here: it drives ``/usr/bin/chromium`` (Debian's package, which ``make test``
installs).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = [sys.executable, "-m", "mkdocs"]
# Point this at an already built site to iterate on the browser tests without a rebuild.
PREBUILT = "LLMARCH_TEST_SITE"
# The build writes every snippet's result there (JSON), for the tests to read (docs/plugin/).
REPORT = "LLMARCH_SNIPPET_REPORT"
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
HOST = "127.0.0.1"
# Without the background-networking flags Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def build(
    project: Path, site: Path, env: dict[str, str] | None = None, prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` of ``project`` into ``site``, dated by ``SOURCE_DATE_EPOCH`` (default 0).

    ``env`` adds to the environment; ``prefix`` wraps the command (a network namespace, say).
    """
    full_env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0"),
        **(env or {}),
    }
    return subprocess.run(
        [*(prefix or []), *MKDOCS, "build", "--strict", "--site-dir", str(site)],
        cwd=project,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


SMALL_CONFIG = """site_name: a small project
strict: true
theme: {name: material, font: false}
plugins: [llmarch-guide]
markdown_extensions: [admonition, attr_list, md_in_html, tables, toc, pymdownx.superfences,
  {pymdownx.snippets: {base_path: [snippets], check_paths: true}}]
"""


def small_project(root: Path, pages: dict[str, str], snippets: dict[str, str]) -> Path:
    """A MkDocs project in ``root`` with the guide's plugin: ``pages`` (docs/) and ``snippets`` by path.

    For a check of one rule of the build without building the whole site (no notebooks, no API).
    """
    for folder, items in (("docs", pages), ("snippets", snippets)):
        for name, text in items.items():
            (root / folder / name).parent.mkdir(parents=True, exist_ok=True)
            (root / folder / name).write_text(text, encoding="utf-8")
    (root / "mkdocs.yml").write_text(SMALL_CONFIG, encoding="utf-8")
    return root


class _QuietHandler(SimpleHTTPRequestHandler):
    """The standard library's static file handler, without a log line per request."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 at a free port; yield the base URL (ending in ``/``)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer((HOST, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def page_paths(site: Path) -> list[str]:
    """Every page of a built site as a URL path relative to the root: ``""``, ``"api/"``, ``"404.html"``.

    Found by walking the HTML files, so pages added by anyone are covered without a list here.
    """
    paths = []
    for html in sorted(site.rglob("*.html")):
        rel = html.relative_to(site).as_posix()
        paths.append(rel.removesuffix("index.html") if html.name == "index.html" else rel)
    return paths


def page_file(path: str) -> str:
    """The file behind a page path of :func:`page_paths`: ``"api/"`` -> ``"api/index.html"``."""
    return path + "index.html" if path.endswith("/") or not path else path


def is_local(url: str) -> bool:
    """True for URLs a page may load: on 127.0.0.1, or inline (data:, blob:, about:)."""
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    return parts.hostname == HOST


def launch(playwright):  # -> playwright.sync_api.Browser
    """Headless Debian Chromium, never a browser that Playwright downloads."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def network_namespace_prefix() -> list[str] | None:
    """A command prefix that runs a program in a new, empty network namespace; None where none can be made.

    ``unshare --net`` needs root (CI runs as root); elsewhere ``--map-root-user`` makes a user
    namespace first. The new namespace has only a loopback interface, which starts down.
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for flags in (["--net"], ["--net", "--map-root-user"]):
        probe = subprocess.run([unshare, *flags, "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [unshare, *flags]
    return None


def offline_prefix() -> list[str] | None:
    """Like :func:`network_namespace_prefix`, with the namespace's loopback brought up.

    Loopback is not a network, and local tools rely on it (a Jupyter kernel talks to its
    client over 127.0.0.1); every other address is unreachable. None where it cannot be made.
    """
    prefix, ip = network_namespace_prefix(), shutil.which("ip")
    if prefix is None or ip is None:
        return None
    return [*prefix, "sh", "-c", f'{ip} link set lo up && exec "$@"', "offline"]
