"""Run a snippet and check what it prints against the ``#>`` lines under each ``print``.

Used by the guide's MkDocs plugin (``plugin.py``), which runs every snippet once a build, and by
``python -m llmarch_guide.snippets --update`` (``make snippets``), which rewrites the ``#>`` lines
from a fresh run after an intentional change.

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
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FIGURE_SUFFIXES = {".svg", ".png"}
OUTPUT_LINE = re.compile(r"^\s*#>( |$)")
INCLUDE = re.compile(r"""^\s*-{1,}8<-{1,}\s+["']([^"']+)["']""", re.MULTILINE)
TIMEOUT_S = 600
# One BLAS thread per snippet: the build runs one snippet per core, and BLAS threads on top of
# that fight for the same cores (on 2 cores, a full run took twice as long without this).
ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
ONE_THREAD += ("NUMEXPR_NUM_THREADS",)
_RUNNER_FRAME = re.compile(r'File "(<string>|<frozen runpy>)"')

# Runs inside the snippet's own process: records each print's text and the line of the
# print call in the snippet (also for prints inside functions the snippet calls).
_RUNNER = r"""
import builtins, io, json, runpy, sys, time
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
        json.dump({"records": records, "cpu_s": time.process_time()}, f)
"""


@dataclass
class SnippetResult:
    """The outcome of running one snippet: ``error`` is None when it ran and printed its ``#>`` lines."""

    name: str  # as the pages include it: relative to the snippets folder
    error: str | None = None
    expected_source: str | None = None  # the file with its #> lines rewritten from this run
    figures: dict[str, bytes] = field(default_factory=dict)
    stdout: str = ""  # everything it printed, in order (the notebook cell's output)
    stderr: str = ""
    cpu_s: float = 0.0  # the CPU time its process took (bench/build_time.py names the costliest)

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> dict[str, Any]:
        """What the build reports to the tests (JSON): figures by name only, they are in the site."""
        return {**asdict(self), "figures": sorted(self.figures)}


def snippet_files(root: Path) -> list[Path]:
    """Every snippet, sorted: ``*.py`` files under ``root``, skipping private ``_*`` files."""
    return sorted(p for p in root.rglob("*.py") if not p.name.startswith("_") and "__pycache__" not in p.parts)


def included_snippets(markdown: str) -> list[str]:
    """Paths (relative to the snippets folder) that a page includes with ``--8<-- "path"``."""
    return INCLUDE.findall(markdown)


def snippet_env() -> dict[str, str]:
    """The environment a snippet runs in: offline, deterministic, one BLAS thread, LLM answers replayed."""
    return {
        **os.environ,
        **dict.fromkeys(ONE_THREAD, "1"),
        "MPLBACKEND": "Agg",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LLMARCH_LLM_MODE": "replay",
        "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0"),
    }


def package_digest(package: Path) -> str:
    """A digest of every file of the package the snippets import: a change anywhere reruns them all."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def content_key(path: Path, name: str, package: str) -> str:
    """What a snippet's result depends on: its name, its text and the package (``package_digest``)."""
    return hashlib.sha256(f"{package}\0{name}\0".encode() + path.read_bytes()).hexdigest()


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


def run_snippet(path: Path, name: str | None = None) -> SnippetResult:
    """Run ``path`` in a fresh process and empty folder; compare its output with its ``#>`` lines.

    ``name`` is how errors name the file (default: the path as given).
    """
    result = SnippetResult(name or path.as_posix())
    path = path.resolve()
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
        run = json.loads(records_file.read_text())
        records = [(int(line), str(text)) for line, text in run["records"]]
        result.stdout, result.stderr, result.cpu_s = proc.stdout, proc.stderr, run["cpu_s"]
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


def run_all(paths: list[Path]) -> list[SnippetResult]:
    """Run many snippets side by side (one process per core), results in the order given."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(run_snippet, paths))


def update(paths: list[Path]) -> int:
    """Rewrite the ``#>`` lines of ``paths`` from a fresh run; report snippets that raise."""
    status = 0
    for path, result in zip(paths, run_all(paths), strict=True):
        if result.expected_source is None:
            print(result.error, file=sys.stderr)
            status = 1
        elif result.expected_source != path.read_text(encoding="utf-8"):
            path.write_text(result.expected_source, encoding="utf-8")
            print(f"updated {result.name}")
    return status


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Run snippets and check (or --update) their #> output lines.")
    parser.add_argument("paths", nargs="*", type=Path, help="snippet files (default: all of ./snippets)")
    parser.add_argument("--update", action="store_true", help="rewrite the #> lines instead of checking them")
    args = parser.parse_args(argv)
    paths = args.paths or snippet_files(Path("snippets"))
    if args.update:
        return update(paths)
    failures = [r for r in run_all(paths) if not r.ok]
    for r in failures:
        print(r.error, file=sys.stderr)
    print(f"{len(paths) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
