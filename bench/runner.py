"""The benchmark runner: a registry of cases, side-by-side timing, and the results file.

A case is a function ``run(quick: bool) -> Result`` registered with :func:`case`. The runner
records the machine (CPU, cores, NumPy and the BLAS kernel it runs, torch), runs the case,
prints its table and targets, and stores everything in ``llmarch/data/benchmarks.json``,
which the pages read through :func:`llmarch.benchmarks.load_benchmarks`. Running some
cases only replaces those cases in the file and keeps the others.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib
import importlib.util
import json
import os
import pkgutil
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from llmarch.benchmarks import format_table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "llmarch" / "data" / "benchmarks.json"
# Set on some processors for older OpenBLAS builds; they slow a current one. `make bench`
# unsets both for its own process only; the results file records what the run saw.
OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass
class Target:
    """A target of the issue: ``measured`` must be at most (or at least) ``limit``."""

    what: str
    limit: float
    measured: float
    at_most: bool = True

    @property
    def met(self) -> bool:
        return self.measured <= self.limit if self.at_most else self.measured >= self.limit

    def describe(self) -> str:
        sign = "<=" if self.at_most else ">="
        return f"{'met   ' if self.met else 'MISSED'}  {self.what}: {self.measured:.2f} (target {sign} {self.limit:g})"


@dataclass
class Result:
    """What a case measured: a table, the targets it is held to, and how it measured."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    name: str
    run: Callable[[bool], Result]
    needs: tuple[str, ...] = ()
    description: str = ""


CASES: dict[str, Case] = {}


def case(name: str, *, needs: tuple[str, ...] = ()) -> Callable[[Callable[[bool], Result]], Callable[[bool], Result]]:
    """Register ``run(quick) -> Result`` as benchmark ``name``; ``needs`` lists modules it imports."""

    def register(run: Callable[[bool], Result]) -> Callable[[bool], Result]:
        if name in CASES:
            raise ValueError(f"benchmark case {name!r} is registered twice")
        doc = (run.__doc__ or "").strip().splitlines()
        CASES[name] = Case(name, run, needs, doc[0] if doc else "")
        return run

    return register


def discover() -> dict[str, Case]:
    """Import every module of ``bench.cases``; each registers its cases."""
    import bench.cases

    for module in pkgutil.iter_modules(bench.cases.__path__):
        importlib.import_module(f"bench.cases.{module.name}")
    return CASES


# ----------------------------------------------------------------------------- timing
def time_side_by_side(
    functions: dict[str, Callable[[], object]],
    *,
    repeats: int = 7,
    warmup: int = 1,
    outputs: dict[str, object] | None = None,
) -> dict[str, float]:
    """Median seconds of each function, the runs interleaved so that all see the same machine.

    Round ``r`` runs the functions in an order rotated by ``r``, so a burst of load from
    elsewhere (the machine has 2 cores and may be shared) falls on all of them alike. If
    ``outputs`` is given, it receives what each function returned on its last run.
    """
    for run in functions.values():
        for _ in range(warmup):
            run()
    names = list(functions)
    times: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            output = functions[name]()
            times[name].append(time.perf_counter() - start)
            if outputs is not None:
                outputs[name] = output
    return {name: statistics.median(ts) for name, ts in times.items()}


# ------------------------------------------------------------------------ environment
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> dict[str, Any]:
    """NumPy's BLAS as threadpoolctl sees it: library, version, kernel (architecture), threads."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {"library": "unknown (install threadpoolctl)"}
    numpy_dir = Path(np.__file__).resolve().parent.parent
    for pool in threadpool_info():
        if pool.get("user_api") == "blas" and Path(pool["filepath"]).resolve().is_relative_to(numpy_dir):
            return {
                "library": pool.get("internal_api"),
                "version": pool.get("version"),
                "kernel": pool.get("architecture"),
                "threads": pool.get("num_threads"),
                "threading_layer": pool.get("threading_layer"),
            }
    return {"library": "not found by threadpoolctl"}


def environment(needs: tuple[str, ...] = ()) -> dict[str, Any]:
    """The machine and software a measurement ran on, and when (torch only if the case uses it)."""
    env: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas(),
        "environment_variables": {name: os.environ.get(name) for name in OPENBLAS_VARIABLES},
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    if "torch" in needs and "torch" in sys.modules:
        torch = sys.modules["torch"]
        env["torch"] = torch.__version__
        env["torch_threads"] = torch.get_num_threads()
    return env


# ------------------------------------------------------------------------------- main
def run_case(c: Case, quick: bool) -> dict[str, Any]:
    """Run one case; print its table and targets; return its entry for the results file."""
    missing = [m for m in c.needs if importlib.util.find_spec(m) is None]
    if missing:
        raise SystemExit(f"case {c.name!r} needs {', '.join(missing)}: run `make bench` (installs llmarch[bench])")
    for module in c.needs:
        importlib.import_module(module)
    env = environment(c.needs)
    result = c.run(quick)
    env["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"\n== {c.name}: {result.title}")
    print(format_table(result.columns, result.rows))
    for key, value in result.extra.items():
        print(f"  {key}: {value}")
    for target in result.targets:
        print("  " + target.describe())
    print(f"  load average before {env['load_average_before']}, after {env['load_average_after']}")
    return {
        "title": result.title,
        "columns": result.columns,
        "rows": result.rows,
        "targets": [asdict(t) | {"met": t.met} for t in result.targets],
        "notes": result.notes,
        "extra": result.extra,
        "environment": env,
    }


def main(argv: list[str] | None = None) -> int:
    cases = discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"cases to run (default: all): {', '.join(cases)}")
    parser.add_argument("--list", action="store_true", help="name the cases and stop")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check that the cases run")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"results file (default: {RESULTS})")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the results file alone")
    args = parser.parse_args(argv)
    if args.list:
        for c in cases.values():
            print(f"{c.name:20} {c.description}")
        return 0
    unknown = [name for name in args.cases if name not in cases]
    if unknown:
        parser.error(f"unknown case(s) {unknown}; choose from {list(cases)}")
    chosen = args.cases or list(cases)

    print(f"NumPy {np.__version__}; BLAS {_blas()}; {_cpu_model()}, {os.cpu_count()} cores")
    set_variables = {name: os.environ[name] for name in OPENBLAS_VARIABLES if name in os.environ}
    if set_variables:
        print(f"note: {set_variables} set; `make bench` unsets them for its own process")

    measured = {name: run_case(cases[name], args.quick) for name in chosen}
    if args.no_write or args.quick:
        print("\n(results not written: --no-write or --quick)")
        return 0
    # Read the file only now, so that cases another run wrote meanwhile are kept.
    data: dict[str, Any] = {"format": 1, "cases": {}}
    if args.output.exists():
        data = json.loads(args.output.read_text(encoding="utf-8"))
    data["cases"].update(measured)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.output)
    print(f"\nwrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0
