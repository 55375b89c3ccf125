"""The copy button gives a script that runs: click it, read the clipboard, run what it holds.

For every Python block on a sample of pages (the pages are drawn with a fixed seed from those
that have Python blocks, so new pages join the draw), the copied text is run with this
project's Python in an empty folder, with no network and a clean environment (no credentials,
a fresh home), as a reader who pasted it into a file would. What it prints must be what its
``#>`` lines say.

"No network" means: a new network namespace with no interface up (``unshare --net``), so
every connection fails at once, 127.0.0.1 included. Where no namespace can be made, proxies
pointing at a closed port stand in, and the test says so in its output.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from pagetour import new_context
from sitetools import ROOT, network_namespace_prefix, page_file, page_paths

SAMPLE_PAGES = int(os.environ.get("LLMARCH_COPY_SAMPLE", "3"))  # how many pages; 0 for every page
SEED = 2017  # the draw is fixed, so a failure is seen again on the next run
PYTHON_BLOCK = 'class="language-python highlight"'  # pymdownx.highlight, pygments_lang_class: true
OUTPUT_LINE = re.compile(r"^\s*#>(?: |$)(.*)$")
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens there

# Python blocks a reader can copy: not the signatures in the API reference (mkdocstrings).
BLOCKS = """() => [...document.querySelectorAll(".md-content div.language-python.highlight")]
  .filter((block) => !block.closest(".doc"))
  .map((block, i) => { block.dataset.copyTest = String(i);
    return (block.querySelector(".filename") || {}).textContent || ""; })"""


@dataclass
class Copied:
    page: str
    index: int
    title: str
    text: str

    @property
    def name(self) -> str:
        return f"/{self.page} block {self.index + 1}" + (f" ({self.title})" if self.title else "")


def sample(site: Path) -> list[str]:
    """The pages whose Python blocks are copied: a fixed draw from every page that has one."""
    candidates = [p for p in page_paths(site) if PYTHON_BLOCK in (site / page_file(p)).read_text(encoding="utf-8")]
    if SAMPLE_PAGES <= 0 or SAMPLE_PAGES >= len(candidates):
        return candidates
    return sorted(random.Random(SEED).sample(candidates, SAMPLE_PAGES))


def copy_blocks(browser, base_url: str, pages: list[str]) -> list[Copied]:
    context, foreign = new_context(browser, "light")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    copied = []
    try:
        for path in pages:
            page = context.new_page()
            page.goto(base_url + path, wait_until="load")
            for index, title in enumerate(page.evaluate(BLOCKS)):
                page.evaluate("navigator.clipboard.writeText('')")
                block = page.locator(f'[data-copy-test="{index}"]')
                block.scroll_into_view_if_needed()
                block.hover()
                block.locator('button[data-md-type="copy"]').click()
                page.wait_for_function("async () => (await navigator.clipboard.readText()) !== ''", timeout=5_000)
                copied.append(Copied(path, index, title.strip(), page.evaluate("navigator.clipboard.readText()")))
            page.close()
    finally:
        context.close()
    assert not foreign, foreign
    return copied


def run_copied(item: Copied, workdir: Path, home: Path, prefix: list[str]) -> subprocess.CompletedProcess[str]:
    script = workdir.parent / f"{workdir.name}.py"  # beside the folder it runs in, which stays empty
    script.write_text(item.text, encoding="utf-8")
    workdir.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        **{name: CLOSED for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")},
    }
    return subprocess.run(
        [*prefix, sys.executable, str(script)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def expected_output(text: str) -> list[str]:
    return [m[1].rstrip() for line in text.splitlines() if (m := OUTPUT_LINE.match(line))]


def test_the_copy_button_gives_a_script_that_runs(browser, base_url: str, site: Path, tmp_path: Path, capsys):
    pages = sample(site)
    if not pages:
        pytest.skip("no page has a Python block")
    copied = copy_blocks(browser, base_url, pages)
    assert copied, f"no Python block found on {pages}"
    prefix = network_namespace_prefix() or []
    with capsys.disabled():
        network = "a new network namespace" if prefix else "proxies at a closed port (no network namespace here)"
        print(f"\n  copy test: {len(copied)} blocks on {', '.join('/' + p for p in pages)}; no network: {network}")

    home = tmp_path / "home"
    home.mkdir()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        runs = list(pool.map(lambda i: run_copied(copied[i], tmp_path / f"run{i}", home, prefix), range(len(copied))))

    problems = []
    for item, proc in zip(copied, runs, strict=True):
        if item.title.startswith("snippets/") and (ROOT / item.title).is_file():
            source = (ROOT / item.title).read_text(encoding="utf-8")
            if item.text.rstrip("\n") != source.rstrip("\n"):
                problems.append(f"{item.name}: the copied text is not the file {item.title}")
        if proc.returncode != 0:
            tail = "\n      ".join(proc.stderr.splitlines()[-8:])
            problems.append(f"{item.name}: exit {proc.returncode}\n      {tail}")
            continue
        printed = [line.rstrip() for line in proc.stdout.rstrip("\n").split("\n")] if proc.stdout else []
        expected = expected_output(item.text)
        # The #> lines follow the source, the output follows execution: a print inside a
        # function defined early and called late is the same output in another order.
        if printed != expected and Counter(printed) != Counter(expected):
            missing = list((Counter(expected) - Counter(printed)).elements())[:3]
            extra = list((Counter(printed) - Counter(expected)).elements())[:3]
            problems.append(f"{item.name}: printed output differs from its #> lines: missing {missing}, extra {extra}")
    assert not problems, "\n".join(problems)
