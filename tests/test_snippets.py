"""Every snippet ran in the session's build and printed exactly its `#>` lines; the check itself can fail.

The snippets run once, in the build (docs/plugin/): these tests read its report. The rules that
every include is a snippet and every snippet is included are the build's too (tests/test_build.py
shows them failing); here, the checker on single files.
"""

import pytest
from llmarch_guide import snippets
from llmarch_guide.snippets import expected_source, run_snippet, snippet_files
from sitetools import ROOT

SNIPPETS = ROOT / "snippets"
NAMES = [p.relative_to(SNIPPETS).as_posix() for p in snippet_files(SNIPPETS)]


@pytest.mark.parametrize("name", NAMES)
def test_snippet_prints_its_expected_output(name, snippet_results):
    assert name in snippet_results, f"the build did not run snippets/{name}"
    assert snippet_results[name]["error"] is None, snippet_results[name]["error"]


def test_figures_are_collected_and_published(snippet_results, site):
    assert snippet_results["transformers/attention_heatmap.py"]["figures"] == ["attention_heatmap.svg"]
    assert (site / "figures" / "attention_heatmap.svg").read_bytes().startswith(b"<?xml")
    # byte-identical run to run: tests/test_reproducible.py compares two whole builds


def test_a_changed_output_line_is_reported(tmp_path):
    source = SNIPPETS / "transformers" / "attention_by_hand.py"
    copy = tmp_path / "attention_by_hand.py"
    text = source.read_text()
    assert "#> True True" in text
    copy.write_text(text.replace("#> [1. 1. 1.]", "#> [1. 1. 2.]"))
    result = run_snippet(copy)
    assert not result.ok
    line = text.splitlines().index("#> [1. 1. 1.]") + 1
    assert f"attention_by_hand.py:{line}:" in result.error
    assert "#> [1. 1. 2.]" in result.error and "#> [1. 1. 1.]" in result.error


def test_an_exception_is_reported(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import numpy as np\nprint(np.ones(2))\n#> [1. 1.]\nraise RuntimeError('boom')\n")
    result = run_snippet(broken)
    assert not result.ok
    assert "broken.py" in result.error and "RuntimeError: boom" in result.error


def test_missing_output_lines_are_reported(tmp_path):
    bare = tmp_path / "bare.py"
    bare.write_text("print('hello')\n")
    result = run_snippet(bare)
    assert not result.ok and "bare.py:2" in result.error


def test_a_snippet_runs_with_one_blas_thread(monkeypatch, tmp_path):
    """The build runs one snippet per core: BLAS threads on top of that would fight for the cores."""
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "8")
    script = tmp_path / "threads.py"
    names = ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"]
    names.append("NUMEXPR_NUM_THREADS")
    assert set(names) == set(snippets.ONE_THREAD)
    script.write_text(f"import os\nprint(*(os.environ[n] for n in {names}))\n#> 1 1 1 1 1\n")
    assert run_snippet(script).ok


def test_update_writes_output_under_each_print(tmp_path):
    script = tmp_path / "loop.py"
    script.write_text("for i in range(2):\n    print(\n        i,\n    )\nprint('a\\n\\nb')\n#> stale\n")
    assert snippets.update([script]) == 0
    assert script.read_text() == (
        "for i in range(2):\n    print(\n        i,\n    )\n    #> 0\n    #> 1\nprint('a\\n\\nb')\n#> a\n#>\n#> b\n"
    )
    assert run_snippet(script).ok


def test_expected_source_rejects_print_aliases():
    with pytest.raises(ValueError, match="no direct print"):
        expected_source("p = print\np(1)\n", [(2, "1\n")], "alias.py")


@pytest.mark.parametrize("name", NAMES)
def test_code_fits_the_page(name):
    """Code lines (not `#>` output) stay within 88 characters, so a page shows them without scrolling."""
    long = [
        f"{n}: {line}"
        for n, line in enumerate((SNIPPETS / name).read_text().splitlines(), start=1)
        if len(line) > 88 and not line.lstrip().startswith("#>")
    ]
    assert not long, "\n".join(long)
