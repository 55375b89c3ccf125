"""Every section page's notebook: made from the page and its snippets, and runs top to bottom in a fresh kernel.

The build does not run the notebooks: each cell's output there is what its snippet printed when the
build ran it as a script (docs/plugin/llmarch_guide/notebooks.py). Here each notebook runs as a reader runs it, in
one fresh kernel from top to bottom, and every cell must print exactly what the published notebook shows.
"""

import asyncio
import json
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from llmarch_guide import notebooks
from llmarch_guide.notebooks import NotebookError, SnippetResult, fill_outputs, page_to_notebook, section_notebooks
from llmarch_guide.snippets import included_snippets, snippet_env
from nbclient import NotebookClient
from sitetools import ROOT

DOCS, SNIPPETS = ROOT / "docs", ROOT / "snippets"
NOTEBOOKS = section_notebooks(DOCS, SNIPPETS)
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def markdown_text(nb) -> str:
    return "\n\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")


def test_every_page_with_a_snippet_has_a_notebook():
    pages = {
        path.relative_to(DOCS).as_posix()
        for path in DOCS.rglob("*.md")
        if "plugin" not in path.parts and included_snippets(path.read_text(encoding="utf-8"))
    }
    assert set(NOTEBOOKS) == pages
    assert "transformers.md" in NOTEBOOKS
    assert "index.md" not in NOTEBOOKS and not any(p.startswith("api/") for p in NOTEBOOKS)  # no snippets


@pytest.mark.parametrize("page", sorted(NOTEBOOKS))
def test_code_cells_are_the_snippets_themselves(page):
    nb = NOTEBOOKS[page]
    nbformat.validate(nb)
    cells = code_cells(nb)
    assert [cell.metadata["snippet"] for cell in cells] == included_snippets((DOCS / page).read_text(encoding="utf-8"))
    for cell in cells:
        source = (SNIPPETS / cell.metadata["snippet"]).read_text(encoding="utf-8")
        assert cell.source == notebooks.cell_source(source)  # the file without its #> lines
        assert not re.search(r"^\s*#>", cell.source, re.MULTILINE)  # the cell's output shows what it prints
    text = markdown_text(nb)
    assert "--8<--" not in text
    assert "][llmarch." not in text  # mkdocstrings cross-references became plain code
    assert not re.search(r"^\s*(!!!|\?\?\?)", text, re.MULTILINE)
    assert not re.search(r"\]\((?!https?:)[^)]*\.md\b", text)  # no link to a page the notebook does not have
    assert not any(target.startswith(("figures/", "../")) for target in IMAGE.findall(text))
    assert not re.search(r":material-[\w-]+:", text)  # Jupyter would show an icon shortcode as text


KERNEL_NAME = "llmarch-test"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A kernelspec for this Python with the environment snippets run in (offline, answers replayed).

    Written to a folder put first on ``JUPYTER_PATH``: a kernelspec ``python3`` elsewhere (in the
    user's folder, say) may run another Python, which may lack ``llmarch``.
    """
    directory = tmp_path_factory.mktemp("jupyter")
    env = {key: value for key, value in snippet_env().items() if os.environ.get(key) != value}
    overrides = {"display_name": "Python (llmarch tests)", "env": env}
    spec = write_kernel_spec(directory / "kernels" / KERNEL_NAME, overrides=overrides)
    assert json.loads((Path(spec) / "kernel.json").read_text())["argv"][0] == sys.executable
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(directory))
        yield KERNEL_NAME


def streams(cell) -> list[tuple[str, str]]:
    """A code cell's printed output, stream by stream (stdout, then stderr, each joined)."""
    texts: dict[str, str] = {}
    for out in cell.outputs:
        if out.output_type == "stream":
            texts[out.name] = texts.get(out.name, "") + out.text
    return sorted(texts.items(), key=lambda item: item[0] != "stdout")


@pytest.fixture(scope="module")
def executed(kernel, tmp_path_factory, request) -> dict[str, tuple[nbformat.NotebookNode, Path, BaseException | None]]:
    """The notebooks this session tests, each run top to bottom in a fresh kernel and an empty folder, one per core."""
    test = "test_notebook_runs_top_to_bottom_in_a_fresh_kernel"
    pages = sorted({item.callspec.params["page"] for item in request.session.items if item.originalname == test})

    async def run(page: str, limit: asyncio.Semaphore) -> tuple[nbformat.NotebookNode, Path, BaseException | None]:
        nb, folder = nbformat.reads(nbformat.writes(NOTEBOOKS[page]), as_version=4), tmp_path_factory.mktemp("nb")
        client = NotebookClient(nb, kernel_name=kernel, timeout=600, resources={"metadata": {"path": str(folder)}})
        async with limit:
            try:
                await client.async_execute()
            except Exception as exc:  # a cell that raised: its test reports it
                return nb, folder, exc
        return nb, folder, None

    async def run_all() -> list[tuple[nbformat.NotebookNode, Path, BaseException | None]]:
        limit = asyncio.Semaphore(os.cpu_count() or 1)
        return await asyncio.gather(*(run(page, limit) for page in pages))

    with ThreadPoolExecutor(max_workers=1) as thread:  # a loop of its own: Playwright (browser tests) holds this one's
        return dict(zip(pages, thread.submit(asyncio.run, run_all()).result(), strict=True))


@pytest.mark.parametrize("page", sorted(NOTEBOOKS))
def test_notebook_runs_top_to_bottom_in_a_fresh_kernel(page, executed, site):
    nb, tmp_path, error = executed[page]
    if error is not None:
        raise error
    stem = Path(notebooks.notebook_uri(page)).stem
    published = code_cells(nbformat.read(site / "notebooks" / stem / f"{stem}.ipynb", as_version=4))
    for cell, shown in zip(code_cells(nb), published, strict=True):
        snippet = cell.metadata["snippet"]
        assert not [out for out in cell.outputs if out.output_type == "error"], snippet
        assert any(out.output_type == "stream" for out in cell.outputs), f"{snippet} printed nothing"
        assert streams(cell) == streams(shown), f"{snippet}: the kernel printed other than the built notebook shows"
    for figure in IMAGE.findall(markdown_text(nb)):
        if not figure.startswith(("http:", "https:")):
            assert (tmp_path / figure).is_file(), f"no cell drew {figure}, which a Markdown cell shows"


def test_each_cell_shows_what_its_snippet_printed():
    nb = page_to_notebook(PAGE, "components/test.md", SNIPPETS)
    printed = SnippetResult("transformers/attention_heatmap.py", stdout="it attends\n", stderr="warned\n")
    fill_outputs(nb, {"transformers/attention_heatmap.py": printed})
    (cell,) = code_cells(nb)
    assert cell.execution_count == 1
    assert [(out.name, out.text) for out in cell.outputs] == [("stdout", "it attends\n"), ("stderr", "warned\n")]
    failed = page_to_notebook(PAGE, "components/test.md", SNIPPETS)
    fill_outputs(failed, {"transformers/attention_heatmap.py": SnippetResult(printed.name, error="boom")})
    assert code_cells(failed)[0].outputs == [] and code_cells(failed)[0].execution_count is None


PAGE = """\
---
title: A test page
---
# A test page

!!! note "Keep in mind"
    Attention is a **weighted** lookup.

    It has two paragraphs.

Text with [`softmax`][llmarch.softmax], [softmax][], a [page link](other.md#part), an
[outside link](https://example.org) and a [reference link][ref] that is defined.

[ref]: https://example.org/ref

```python title="snippets/transformers/attention_heatmap.py"
--8<-- "transformers/attention_heatmap.py"
```

![A heatmap](../figures/attention_heatmap.svg)

<!-- llm-answer: transformers/ask_transformers.py -->

## Next

```bash
# a shell block stays a Markdown code block, and its comment is no heading
pip install llmarch
```
"""


def test_page_syntax_is_turned_into_plain_notebook_markdown():
    nb = page_to_notebook(PAGE, "components/test.md", SNIPPETS, site_name="The guide")
    kinds = [cell.cell_type for cell in nb.cells]
    assert kinds == ["markdown", "code", "markdown", "markdown"]
    first, after, last = (cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert first.startswith("# A test page\n\n> This notebook is the page “A test page” of the guide *The guide*")
    assert "> **Keep in mind**\n>\n> Attention is a **weighted** lookup.\n>\n> It has two paragraphs." in first
    assert "Text with `softmax`, softmax, a page link, an\n[outside link](https://example.org)" in first
    assert "[reference link][ref]" in first and "title: A test page" not in first
    assert after == "![A heatmap](attention_heatmap.svg)\n\n<!-- llm-answer: transformers/ask_transformers.py -->"
    assert last.startswith("## Next\n\n```bash\n# a shell block")
    assert nb.cells[1].metadata == {"snippet": "transformers/attention_heatmap.py"}
    assert [cell.id for cell in nb.cells] == ["cell-1", "cell-2", "cell-3", "cell-4"]  # the same page, the same file
    again = page_to_notebook(PAGE, "components/test.md", SNIPPETS, site_name="The guide")
    assert nbformat.writes(nb) == nbformat.writes(again)


def test_the_rule_and_its_opt_out():
    assert notebooks.wants_notebook(PAGE)
    assert not notebooks.wants_notebook("---\nnotebook: false\n---\n" + PAGE.split("---\n", 2)[2])
    assert not notebooks.wants_notebook("# No snippet\n\n```bash\nmake serve\n```\n")
    assert notebooks.notebook_uri("transformers.md") == "notebooks/transformers.ipynb"
    assert notebooks.notebook_uri("components/index.md") == "notebooks/components.ipynb"
    assert notebooks.notebook_uri("components/masks.md") == "notebooks/components-masks.ipynb"


def test_an_include_the_notebook_cannot_show_is_an_error():
    with pytest.raises(NotebookError, match="outside a code block"):
        page_to_notebook('# Page\n\n--8<-- "transformers/attention_heatmap.py"\n', "x.md", SNIPPETS)
