"""Build and test times: the strict build against the build with execution off, and ``make test``.

    python bench/build_time.py [--repeat N] [--keep-site DIR] [--no-test]     (``make bench-site`` runs it)

Both builds are ``mkdocs build --strict`` of this checkout, each in a fresh process, side by side
in one run (alternating, so a busy machine slows both alike). The second sets
``LLMARCH_SKIP_EXECUTION=1``: no snippet runs (docs/plugin/), so the notebooks get no outputs and
the figures are placeholders, while every other part of the build (pages, notebooks, include and
orphan checks, links, MathML, the API reference, search) still runs. In the full build every
snippet runs once, as a script, while the pages are rendered, and the notebooks show what it printed.

Then, in the same run, ``make test`` in a fresh clone of this checkout's last commit, setup
included (a new virtual environment, its packages, axe-core): what CI and a new contributor pay.

Targets: the full build takes at most twice as long as the build with execution off, and
``make test`` from a fresh clone at most 5 minutes (on 2 cores). A benchmark that prints a table,
not a test that fails.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the shared site helpers

from sitetools import REPORT, ROOT, build

SKIP_EXECUTION = "LLMARCH_SKIP_EXECUTION"  # honoured by the guide's plugin (docs/plugin/)
RATIO_TARGET = 2.0
TEST_TARGET_S = 300.0
MODES = {"full (every snippet runs)": {}, "execution off": {SKIP_EXECUTION: "1"}}


def timed_build(site: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = build(ROOT, site, env={**env, REPORT: str(site.with_suffix(".json"))})
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"the build failed ({env or 'full'}):\n{proc.stdout}{proc.stderr}")
    return elapsed


def timed_make_test(tmp: Path) -> tuple[float, int]:
    """``make test`` in a fresh clone of HEAD, setup included: (seconds, exit status)."""
    clone = tmp / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    start = time.perf_counter()
    proc = subprocess.run(["make", "test"], cwd=clone, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"make test failed in the fresh clone:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}", file=sys.stderr)
    return elapsed, proc.returncode


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="pairs of builds (default 1)")
    parser.add_argument("--keep-site", type=Path, help="leave the last full build here (for page_weight.py)")
    parser.add_argument("--no-test", action="store_true", help="time the builds only, not `make test`")
    args = parser.parse_args(argv)

    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="llmarch-build-time-") as tmp:
        for run in range(args.repeat):
            for mode, env in MODES.items():
                site = Path(tmp) / f"site-{run}-{len(times[mode])}-{bool(env)}"
                times[mode].append(timed_build(site, env))
                print(f"  run {run + 1}/{args.repeat}: {mode}: {times[mode][-1]:.1f} s", file=sys.stderr)
                if not env:
                    cpu = {name: r["cpu_s"] for name, r in json.loads(site.with_suffix(".json").read_text()).items()}
                if not env and args.keep_site:
                    shutil.rmtree(args.keep_site, ignore_errors=True)
                    shutil.copytree(site, args.keep_site)
                shutil.rmtree(site)
        test = None if args.no_test else timed_make_test(Path(tmp))

    full, off = (statistics.median(t) for t in times.values())
    width = max(map(len, MODES))
    print(f"{'strict build':<{width}}  {'runs':>4}  {'median':>8}  {'all runs (s)'}")
    for mode, values in times.items():
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(f"{mode:<{width}}  {len(values):>4}  {statistics.median(values):>7.1f}s  {runs}")
    ratio = full / off
    print(f"ratio full / execution off: {ratio:.2f}x (target <= {RATIO_TARGET:.0f}x: {verdict(ratio <= RATIO_TARGET)})")
    costliest = ", ".join(f"{name} {seconds:.1f}" for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1])[:5])
    print(f"the snippets' CPU time in the last full build: {sum(cpu.values()):.0f} s; costliest (s): {costliest}")
    if test is not None:
        seconds, status = test
        state = "passed" if status == 0 else f"FAILED (exit {status})"
        target = f"target <= {TEST_TARGET_S / 60:.0f} min: {verdict(seconds <= TEST_TARGET_S)}"
        print(f"make test, fresh clone, setup included: {seconds:.0f} s, {state} ({target})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
