"""The benchmark runner and the results file the pages read (no timing here, and no torch)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from llmarch.benchmarks import format_table, load_benchmarks

ROOT = Path(__file__).resolve().parents[1]


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_shipped_results_name_their_machine_and_meet_their_shape():
    cases = load_benchmarks()
    assert {"attention", "attention_memory", "kv_cache"} <= set(cases)
    for case in cases.values():
        env = case.environment
        for key in ("date", "cpu", "cores", "python", "numpy", "blas"):
            assert env.get(key), f"{case.name}: environment lacks {key}"
        assert case.rows and all(len(row) == len(case.columns) for row in case.rows), case.name
        assert case.machine().endswith(f"measured {env['date']}")
        for target in case.targets:
            assert set(target) >= {"what", "limit", "measured", "met"}
    assert cases["attention"].environment.get("torch"), "the attention case compares with torch"
    assert cases["attention"].column("n") == [256, 1024, 2048]
    assert cases["kv_cache"].column("new tokens") == [64, 256, 1024]


def test_the_results_file_is_package_data():
    path = ROOT / "llmarch" / "data" / "benchmarks.json"
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == 1
    assert load_benchmarks(path).keys() == load_benchmarks().keys()


def test_format_table_aligns_columns():
    text = format_table(["n", "ms"], [[256, 1.23456], [2048, 1234.5]])
    assert text.splitlines() == ["   n    ms", "----  ----", " 256  1.23", "2048  1234"]


def test_a_missing_column_is_named():
    case = next(iter(load_benchmarks().values()))
    with pytest.raises(KeyError, match="column must be one of"):
        case.column("no such column")


def test_the_runner_lists_its_cases_without_torch():
    proc = run_bench("--list")
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert {"attention", "attention_memory", "kv_cache"} <= set(names)


def test_the_runner_runs_a_case_quickly_and_writes_nothing(tmp_path):
    output = tmp_path / "results.json"
    proc = run_bench("attention_memory", "--quick", "--output", str(output))
    assert proc.returncode == 0, proc.stderr
    assert "plain/tiled" in proc.stdout
    assert not output.exists()


def test_the_runner_refuses_an_unknown_case():
    proc = run_bench("no_such_case")
    assert proc.returncode != 0
    assert "unknown case" in proc.stderr
