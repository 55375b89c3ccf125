"""Every snippet runs and prints exactly its `#>` lines; every snippet is on a page; the check can fail."""

import shutil

import pytest
from llmarch_guide import snippets as snippet_check
from llmarch_guide.snippets import expected_source, included_snippets, run_snippet, snippet_files
from sitetools import ROOT

DOCS, SNIPPETS = ROOT / "docs", ROOT / "snippets"
SNIPPET_FILES = snippet_files(SNIPPETS)


def page_includes() -> dict[str, list[str]]:
    return {page.relative_to(DOCS).as_posix(): included_snippets(page.read_text()) for page in DOCS.rglob("*.md")}


@pytest.mark.parametrize("path", SNIPPET_FILES, ids=[p.relative_to(SNIPPETS).as_posix() for p in SNIPPET_FILES])
def test_snippet_prints_its_expected_output(path):
    result = run_snippet(path)
    assert result.ok, result.error


def test_every_snippet_is_on_a_page():
    included = {name for names in page_includes().values() for name in names}
    orphans = sorted(
        p.relative_to(SNIPPETS).as_posix() for p in SNIPPET_FILES if p.relative_to(SNIPPETS).as_posix() not in included
    )
    assert not orphans, f"snippets no page includes: {orphans}"


def test_every_include_exists():
    missing = [
        (page, name) for page, names in page_includes().items() for name in names if not (SNIPPETS / name).is_file()
    ]
    assert not missing


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


def test_update_writes_output_under_each_print(tmp_path):
    script = tmp_path / "loop.py"
    script.write_text("for i in range(2):\n    print(\n        i,\n    )\nprint('a\\n\\nb')\n#> stale\n")
    assert snippet_check.update([script]) == 0
    assert script.read_text() == (
        "for i in range(2):\n    print(\n        i,\n    )\n    #> 0\n    #> 1\nprint('a\\n\\nb')\n#> a\n#>\n#> b\n"
    )
    assert run_snippet(script).ok


def test_expected_source_rejects_print_aliases():
    with pytest.raises(ValueError, match="no direct print"):
        expected_source("p = print\np(1)\n", [(2, "1\n")], "alias.py")


def test_figures_are_collected(tmp_path):
    script = tmp_path / "draw.py"
    shutil.copy(SNIPPETS / "transformers" / "attention_heatmap.py", script)
    result = run_snippet(script)
    assert result.ok, result.error
    assert set(result.figures) == {"attention_heatmap.svg"}
    assert result.figures["attention_heatmap.svg"].startswith(b"<?xml")
    assert result.figures == run_snippet(script).figures, "figures must be byte-identical run to run"


@pytest.mark.parametrize("path", SNIPPET_FILES, ids=[p.relative_to(SNIPPETS).as_posix() for p in SNIPPET_FILES])
def test_code_fits_the_page(path):
    """Code lines (not `#>` output) stay within 88 characters, so a page shows them without scrolling."""
    long = [
        f"{n}: {line}"
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if len(line) > 88 and not line.lstrip().startswith("#>")
    ]
    assert not long, "\n".join(long)
