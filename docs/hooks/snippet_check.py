"""Run every snippet and check what it prints against the ``#>`` lines under each ``print``.

One module serves three callers:

* the MkDocs hook (``mkdocs.yml`` -> ``hooks:``): runs every file in ``snippets/`` during the
  build, fails the strict build on an exception, a ``#>`` mismatch or a snippet no page
  includes, publishes the figures the snippets draw under ``figures/`` and hands what each
  printed to the notebooks (``docs/hooks/notebooks.py``), so every snippet runs once a build;
* pytest (``tests/test_snippets.py``), which runs the same check per file;
* ``python docs/hooks/snippet_check.py --update`` (``make snippets``), which rewrites the
  ``#>`` lines from a fresh run after an intentional change.

Why not pytest-examples itself: it writes multi-line output as a triple-quoted string rather
than ``#>`` lines, and its runner needs a live pytest request, so the build could not use it.
The convention (``#>`` under each ``print``, refreshed by tooling) is the same.

Each snippet runs in its own Python process, in an empty temporary folder, exactly as a
reader who copied it would run it; files it writes there (figures) are collected.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "snippets"
FIGURE_SUFFIXES = {".svg", ".png"}
OUTPUT_LINE = re.compile(r"^\s*#>( |$)")
INCLUDE = re.compile(r"""^\s*-{1,}8<-{1,}\s+["']([^"']+)["']""", re.MULTILINE)
TIMEOUT_S = 600
_RUNNER_FRAME = re.compile(r'File "(<string>|<frozen runpy>)"')

# Runs inside the snippet's own process: records each print's text and the line of the
# print call in the snippet (also for prints inside functions the snippet calls).
_RUNNER = r"""
import builtins, io, json, runpy, sys
path, out = sys.argv[1], sys.argv[2]
records, real_print = [], builtins.print
def recording_print(*args, sep=" ", end="\n", file=None, flush=False):
    if file is None or file is sys.stdout:
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != path:
            frame = frame.f_back
        if frame is not None:
            buf = io.StringIO()
            real_print(*args, sep=sep, end=end, file=buf)
            records.append((frame.f_lineno, buf.getvalue()))
    real_print(*args, sep=sep, end=end, file=file, flush=flush)
builtins.print = recording_print
try:
    runpy.run_path(path, run_name="__main__")
finally:
    with open(out, "w") as f:
        json.dump(records, f)
"""


@dataclass
class SnippetResult:
    """The outcome of running one snippet."""

    path: Path
    error: str | None = None
    expected_source: str | None = None
    figures: dict[str, bytes] = field(default_factory=dict)
    stdout: str = ""  # everything it printed, in order (the notebook cell's output)
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def name(self) -> str:
        try:
            return self.path.relative_to(ROOT).as_posix()
        except ValueError:
            return str(self.path)


def snippet_files(root: Path = SNIPPETS) -> list[Path]:
    """Every snippet, sorted: ``*.py`` files under ``root``, skipping private ``_*`` files."""
    return sorted(p for p in root.rglob("*.py") if not p.name.startswith("_") and "__pycache__" not in p.parts)


def snippet_env() -> dict[str, str]:
    """The environment a snippet runs in: offline, deterministic, LLM answers replayed."""
    env = dict(os.environ)
    env.update(
        {
            "MPLBACKEND": "Agg",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "LLMARCH_LLM_MODE": "replay",
            "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0"),
        }
    )
    return env


def expected_source(source: str, records: list[tuple[int, str]], name: str = "<snippet>") -> str:
    """``source`` with its ``#>`` lines rewritten from ``records`` of ``(line, printed text)``.

    The output of each ``print`` goes right under the call's last line, one ``#>`` line per
    printed line, indented like the call. Stale ``#>`` lines anywhere are dropped.
    """
    tree = ast.parse(source, filename=name)
    end_of_print = {
        node.lineno: node.end_lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
    }
    printed: dict[int, str] = {}
    for line, text in records:
        if line not in end_of_print:
            raise ValueError(f"{name}:{line}: output came from a line with no direct print(...) call")
        printed[end_of_print[line]] = printed.get(end_of_print[line], "") + text
    starts = {end: start for start, end in end_of_print.items()}

    lines = source.splitlines()
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        if OUTPUT_LINE.match(line):
            continue
        out.append(line)
        if number in printed:
            first = lines[starts[number] - 1]
            indent = first[: len(first) - len(first.lstrip())]
            out.extend(f"{indent}#> {text}".rstrip() for text in printed[number].rstrip("\n").split("\n"))
    return "\n".join(out) + "\n"


def first_difference(name: str, old: str, new: str) -> str:
    """Name the first line where the file's ``#>`` lines and the fresh output differ."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        has = "\n    ".join(old_lines[i1:i2][:3]) or "(nothing)"
        printed = "\n    ".join(new_lines[j1:j2][:3]) or "(nothing)"
        return (
            f"{name}:{i1 + 1}: printed output differs from the #> lines\n"
            f"  the file has:\n    {has}\n  the snippet printed:\n    {printed}\n"
            "  (after an intentional change, refresh with `make snippets`)"
        )
    return f"{name}: printed output differs from the #> lines"


def run_snippet(path: Path) -> SnippetResult:
    """Run ``path`` in a fresh process and empty folder; compare its output with its ``#>`` lines."""
    path = path.resolve()
    result = SnippetResult(path)
    source = path.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="llmarch-snippet-") as tmp:
        records_file = Path(tmp) / ".records.json"
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _RUNNER, str(path), str(records_file)],
                cwd=workdir,
                env=snippet_env(),
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            result.error = f"{result.name}: did not finish within {TIMEOUT_S} s"
            return result
        if proc.returncode != 0:
            frames = [line for line in proc.stderr.strip().splitlines() if not _RUNNER_FRAME.search(line)]
            tail = "\n    ".join(frames[-12:])
            result.error = f"{result.name}: raised an exception\n    {tail}"
            return result
        records = [(int(line), str(text)) for line, text in json.loads(records_file.read_text())]
        result.stdout, result.stderr = proc.stdout, proc.stderr
        for produced in sorted(workdir.rglob("*")):
            if produced.suffix in FIGURE_SUFFIXES:
                result.figures[produced.relative_to(workdir).as_posix()] = produced.read_bytes()
    try:
        result.expected_source = expected_source(source, records, result.name)
    except (SyntaxError, ValueError) as exc:
        result.error = str(exc)
        return result
    if result.expected_source != source:
        result.error = first_difference(result.name, source, result.expected_source)
    return result


def run_snippets(paths: list[Path], jobs: int | None = None) -> list[SnippetResult]:
    """Run many snippets side by side (one process each), results in the order given."""
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        return list(pool.map(run_snippet, paths))


def included_snippets(markdown: str) -> list[str]:
    """Paths (relative to ``snippets/``) that a page includes with ``--8<-- "path"``."""
    return INCLUDE.findall(markdown)


def update(paths: list[Path]) -> int:
    """Rewrite the ``#>`` lines of ``paths`` from a fresh run; report snippets that raise."""
    status = 0
    for result in run_snippets(paths):
        if result.expected_source is None:
            print(result.error, file=sys.stderr)
            status = 1
        elif result.expected_source != result.path.read_text(encoding="utf-8"):
            result.path.write_text(result.expected_source, encoding="utf-8")
            print(f"updated {result.name}")
    return status


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="snippet files (default: all of snippets/)")
    parser.add_argument("--update", action="store_true", help="rewrite the #> lines instead of checking them")
    args = parser.parse_args(argv)
    paths = args.paths or snippet_files()
    if args.update:
        return update(paths)
    failures = [r for r in run_snippets(paths) if not r.ok]
    for r in failures:
        print(r.error, file=sys.stderr)
    print(f"{len(paths) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


# ---------------------------------------------------------------- the MkDocs hook
log = logging.getLogger("mkdocs.hooks.snippet_check")
# Set (to anything but "" or "0") only to time the build without execution: no snippet runs
# and every figure a page links to is an empty placeholder. Never for a build that is published.
SKIP_EXECUTION = "LLMARCH_SKIP_EXECUTION"
FIGURE_LINK = re.compile(r"figures/([\w./-]+\.(?:svg|png))")
PLACEHOLDER_FIGURE = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n'


def skip_execution() -> bool:
    """True when ``LLMARCH_SKIP_EXECUTION`` asks for a build that runs no snippet."""
    return os.environ.get(SKIP_EXECUTION, "") not in {"", "0"}


_cache: dict[str, SnippetResult] = {}
_state: dict[str, Any] = {}
# MkDocs loads a hook as a module named after its path. Registered under its own name too, it is
# what `from snippet_check import ...` in a later hook (notebooks.py) gets, with this build's results.
sys.modules.setdefault("snippet_check", sys.modules[__name__])


def _package_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "llmarch").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def results() -> dict[str, SnippetResult]:
    """This build's result for every snippet, by path relative to ``snippets/`` (after ``on_files``)."""
    return _state.get("results", {})


@event_priority(100)  # first: the notebooks hook's on_files (priority 50) takes the outputs from here
def on_files(files: Any, config: Any) -> Any:
    """Run every snippet (cached on its text and the package's) and publish its figures."""
    from mkdocs.structure.files import File

    package = _package_digest()
    paths = snippet_files()
    keys = {p: hashlib.sha256(package.encode() + p.read_bytes() + str(p).encode()).hexdigest() for p in paths}
    if skip_execution():
        # A timing build (bench/build_time.py): nothing runs, include and orphan checks still do.
        results = [SnippetResult(p) for p in paths]
        pages = "".join(page.read_text() for page in Path(config["docs_dir"]).rglob("*.md"))
        for name in sorted(set(FIGURE_LINK.findall(pages))):
            files.append(File.generated(config, f"figures/{name}", content=PLACEHOLDER_FIGURE))
    else:
        todo = [p for p in paths if keys[p] not in _cache]
        for path, result in zip(todo, run_snippets(todo), strict=True):
            _cache[keys[path]] = result
        results = [_cache[keys[p]] for p in paths]
    _state["results"] = {r.path.relative_to(SNIPPETS).as_posix(): r for r in results}
    _state["included"] = set()

    owners: dict[str, str] = {}
    for result in results:
        if not result.ok:
            log.error(result.error)
        for name, content in result.figures.items():
            uri = f"figures/{name}"
            if uri in owners:
                log.error(f"{result.name} and {owners[uri]} both write {name}; give each figure its own name")
                continue
            owners[uri] = result.name
            files.append(File.generated(config, uri, content=content))
    if skip_execution():
        log.info(f"snippet_check: {SKIP_EXECUTION} is set: {len(results)} snippets not run, figures are placeholders")
    else:
        log.info(f"snippet_check: {sum(r.ok for r in results)} of {len(results)} snippets verified")
    return files


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Remember which snippets the page includes, for the orphan check."""
    for include in included_snippets(markdown):
        _state["included"].add(include)
        if include not in _state["results"]:
            log.error(f"{page.file.src_uri} includes {include!r}, which is not a snippet in snippets/")
    return markdown


def on_env(env: Any, **_: Any) -> Any:
    """After every page is read: a snippet that no page shows is an error (no orphans)."""
    for orphan in sorted(set(_state["results"]) - _state["included"]):
        log.error(f"snippets/{orphan} is not included by any page: include it or delete it")
    return env


if __name__ == "__main__":
    raise SystemExit(main())
