"""The measured benchmark results the guide quotes, shipped with the package.

``make bench`` (the runner in ``bench/`` of the repository) times each case side by side in
one run and writes ``llmarch/data/benchmarks.json``: per case a table, the targets it is
held to, and the machine it ran on (CPU, cores, NumPy and its BLAS, torch, date). The pages
read that file through ``load_benchmarks``, so their tables are the measured numbers,
never numbers typed into prose, and a copied snippet reads the same file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["BenchmarkCase", "format_table", "load_benchmarks"]

RESULTS_FILE = "benchmarks.json"


@dataclass(frozen=True)
class BenchmarkCase:
    """One benchmark case as measured: a table, its targets and the machine it ran on.

    Attributes
    ----------
    name : str
        Key of the case (``"attention"``, ``"kv_cache"``, ...).
    title : str
        One line saying what was measured.
    columns : list of str
        Column headings of ``rows``.
    rows : list of list
        The measurements, one row per setting (numbers or strings).
    environment : dict
        Where and when: ``date``, ``cpu``, ``cores``, ``python``, ``numpy``, ``blas`` (what
        threadpoolctl reported: library, version, kernel, threads), ``torch`` if used, and
        the load average before and after.
    targets : list of dict
        Each ``{"what", "limit", "measured", "met"}``: a target of the issue and how the run did.
    notes : list of str
        How it was measured.
    extra : dict
        Further measured numbers of the case, by name (for example NumPy's matmul GFLOP/s).
    """

    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    environment: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def column(self, name: str) -> list[Any]:
        """The values of column ``name``, top to bottom."""
        if name not in self.columns:
            raise KeyError(f"column must be one of {self.columns}; got {name!r}")
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def table(self, columns: list[str] | None = None) -> str:
        """The rows as an aligned plain-text table (what ``make bench`` prints), or some ``columns`` of it."""
        if columns is None:
            return format_table(self.columns, self.rows)
        return format_table(columns, [list(row) for row in zip(*(self.column(c) for c in columns), strict=True)])

    def machine(self) -> str:
        """One line naming the machine, BLAS (threads it could use; a title says if a case used fewer), date."""
        env = self.environment
        blas = env.get("blas") or {}
        blas_text = " ".join(str(blas[k]) for k in ("library", "version") if blas.get(k))
        if blas.get("kernel"):
            blas_text += f" ({blas['kernel']} kernel, up to {blas.get('threads', '?')} threads)"
        parts = [
            f"{env.get('cpu', '?')}, {env.get('cores', '?')} cores",
            f"Python {env.get('python', '?')}",
            f"NumPy {env.get('numpy', '?')} with {blas_text or 'unknown BLAS'}",
        ]
        if env.get("torch"):
            parts.append(f"torch {env['torch']} (up to {env.get('torch_threads', '?')} threads)")
        parts.append(f"measured {env.get('date', '?')}")
        return "; ".join(parts)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def format_table(columns: list[str], rows: list[list[Any]]) -> str:
    """Columns right-aligned under their headings; floats to 3 significant digits."""
    cells = [[str(c) for c in columns]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def load_benchmarks(path: str | Path | None = None) -> dict[str, BenchmarkCase]:
    """Read the benchmark results: by default the file shipped inside the package.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Another results file written by the runner (``python -m bench --output PATH``).

    Returns
    -------
    dict of str to BenchmarkCase
        Every case in the file, by name.
    """
    if path is None:
        text = resources.files("llmarch").joinpath("data", RESULTS_FILE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text)
    return {
        name: BenchmarkCase(
            name=name,
            title=case["title"],
            columns=list(case["columns"]),
            rows=[list(r) for r in case["rows"]],
            environment=dict(case.get("environment", {})),
            targets=list(case.get("targets", [])),
            notes=list(case.get("notes", [])),
            extra=dict(case.get("extra", {})),
        )
        for name, case in data["cases"].items()
    }
