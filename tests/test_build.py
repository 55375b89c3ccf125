"""The strict MkDocs build: it passes, checks snippets, and produces a self-contained site."""

import re
import shutil
from pathlib import Path

import pytest
from sitetools import ROOT, build

# The session's strict build, the `site` fixture, lives in tests/conftest.py (the browser and
# reproducibility tests use it too).


NO_EXECUTION = {"LLMARCH_SKIP_EXECUTION": "1"}


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_build_verifies_every_snippet(site):
    assert (site / "index.html").is_file()


def test_no_page_loads_anything_from_another_host(site):
    external = re.compile(r"""<(script|link|img|source|iframe)\b[^>]*\b(src|href)=["'](https?:)?//""", re.IGNORECASE)
    css_import = re.compile(r"""@import\s+url\(["']?(https?:)?//|url\(["']?https?://""")
    offenders = [p.relative_to(site) for p in html_pages(site) if external.search(p.read_text())]
    offenders += [p.relative_to(site) for p in site.rglob("*.css") if css_import.search(p.read_text())]
    assert not offenders


def test_math_is_mathml_and_no_latex_is_left(site):
    page = (site / "transformers" / "index.html").read_text()
    assert page.count("<math") >= 5
    assert "\\(" not in page and "\\[" not in page and "\\frac" not in page.replace("<annotation", "")


def test_heatmap_is_generated_and_shown(site):
    assert (site / "figures" / "attention_heatmap.svg").is_file()
    page = (site / "transformers" / "index.html").read_text()
    # linked to itself, to open full size (docs/plugin/llmarch_guide/markup.py)
    assert re.search(r'<a class="llmarch-figure" href="../figures/attention_heatmap.svg"><img alt="[^"]+"', page)


def test_verified_output_is_on_the_page(site):
    page = (site / "transformers" / "index.html").read_text()
    assert "it attends most to cat" in page
    assert "--8&lt;--" not in page and "--8<--" not in page


def public_names() -> list[str]:
    """What the package exports, by full name: ``llmarch.softmax``, ``llmarch.llm.LLMConnector``."""
    import llmarch
    import llmarch.llm

    return [f"llmarch.{n}" for n in llmarch.__all__] + [f"llmarch.llm.{n}" for n in llmarch.llm.__all__]


def test_api_reference_has_the_public_names(site):
    """Each public name has its entry on exactly one API page, and the overview links it there."""
    api = site / "api"
    pages = {p.parent.relative_to(api).as_posix(): p.read_text() for p in api.rglob("index.html")}
    overview = pages.pop(".")
    assert 'id="llmarch.' not in overview  # the overview documents nothing itself
    for name in public_names():
        found = [page for page, html in pages.items() if f'id="{name}"' in html]
        assert len(found) == 1, f"{name} is documented on {found or 'no API page'}"
        assert f'href="{found[0]}/#{name}"' in overview, f"api/index.html does not link {name}"


def test_the_plugin_is_not_published(site):
    assert not (site / "plugin").exists()


@pytest.fixture
def project_copy(tmp_path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("mkdocs.yml", "docs", "snippets", "llmarch"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, copy / name)
    return copy


def test_a_changed_output_number_fails_the_build(project_copy, tmp_path):
    snippet = project_copy / "snippets" / "transformers" / "multi_head_attention.py"
    text = snippet.read_text()
    snippet.write_text(text.replace("#> output: (5, 8)", "#> output: (5, 9)"))
    proc = build(project_copy, tmp_path / "site")
    assert proc.returncode != 0
    log = proc.stdout + proc.stderr
    assert "snippets/transformers/multi_head_attention.py:" in log
    assert "#> output: (5, 9)" in log


def test_an_orphan_snippet_and_a_missing_include_fail_the_build(project_copy, tmp_path):
    # Both checks read the pages, not what the snippets print: skip running them.
    (project_copy / "snippets" / "transformers" / "orphan.py").write_text("print(1)\n#> 1\n")
    proc = build(project_copy, tmp_path / "site", env=NO_EXECUTION)
    assert proc.returncode != 0
    assert "snippets/transformers/orphan.py is not included by any page" in proc.stdout + proc.stderr

    (project_copy / "snippets" / "transformers" / "orphan.py").unlink()
    page = project_copy / "docs" / "transformers.md"
    page.write_text(page.read_text() + '\n```python\n--8<-- "transformers/missing.py"\n```\n')
    proc = build(project_copy, tmp_path / "site2", env=NO_EXECUTION)
    assert proc.returncode != 0
    assert "missing.py" in proc.stdout + proc.stderr


def test_every_section_page_is_a_notebook_to_read_and_download(site):
    import nbformat
    from llmarch_guide import notebooks

    made = notebooks.section_notebooks(ROOT / "docs", ROOT / "snippets")
    assert "transformers.md" in made
    for page, nb in made.items():
        stem = Path(notebooks.notebook_uri(page)).stem
        rendered = (site / "notebooks" / stem / "index.html").read_text()
        assert "jp-Notebook" in rendered and 'data-mime-type="text/plain"' in rendered, page  # run: outputs shown
        assert f'href="{stem}.ipynb" download' in rendered
        for script in re.findall(r"<script\b[^>]*>(.*?)</script>", rendered, re.DOTALL):
            assert "://" not in script, f"{page}: a script of its notebook page names another host"
        downloaded = nbformat.read(site / "notebooks" / stem / f"{stem}.ipynb", as_version=4)
        nbformat.validate(downloaded)
        code = [c for c in downloaded.cells if c.cell_type == "code"]
        assert [c.source for c in code] == [c.source for c in nb.cells if c.cell_type == "code"]
        for count, cell in enumerate(code, start=1):  # downloaded as run, outputs included
            assert cell.execution_count == count and cell.outputs[0].name == "stdout", cell.metadata["snippet"]

        section = (site / page.removesuffix(".md").removesuffix("index") / "index.html").read_text()
        assert f'notebooks/{stem}/{stem}.ipynb" download' in section and f'notebooks/{stem}/"' in section

    notebook = (site / "notebooks" / "transformers" / "index.html").read_text()
    assert notebook.count("<math") >= 5 and "$$" not in notebook
    assert 'src="../../figures/attention_heatmap.svg"' in notebook
    # printed by the snippet when the build ran it (a snippet that raises fails the build instead):
    assert re.search(r'data-mime-type="text/plain"[^>]*>\s*<pre>it attends most to cat', notebook)


def test_api_reference_lists_every_public_name():
    """Every public name has its ``::: name`` on exactly one page of docs/api/; the overview links each entry."""
    api = ROOT / "docs" / "api"
    documented: dict[str, list[str]] = {}
    for page in sorted(api.glob("*.md")):
        for name in re.findall(r"^::: (\S+)$", page.read_text(), re.MULTILINE):
            documented.setdefault(name, []).append(page.name)
    missing = [name for name in public_names() if name not in documented]
    assert not missing, f"add these to a page of docs/api/: {missing}"
    twice = {name: pages for name, pages in documented.items() if len(pages) > 1}
    assert not twice, f"documented on more than one page: {twice}"
    overview = (api / "index.md").read_text()
    assert "::: " not in overview  # the overview documents nothing itself
    unlinked = [name for name in documented if f"][{name}]" not in overview]
    assert not unlinked, f"link these from docs/api/index.md: {unlinked}"
