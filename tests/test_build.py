"""The strict MkDocs build: it passes, checks snippets, and produces a self-contained site."""

import re
from pathlib import Path

from sitetools import ROOT, build, small_project

# The session's strict build, the `site` fixture, lives in tests/conftest.py (the snippet, notebook,
# browser and reproducibility tests use it too).


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


def test_a_changed_output_an_orphan_snippet_and_an_undrawn_figure_fail_the_build(tmp_path):
    """The build's own checks, on a small project with a copied snippet (the whole site builds once, in `site`)."""
    name = "transformers/multi_head_attention.py"
    text = (ROOT / "snippets" / name).read_text()
    assert "#> output: (5, 8)" in text
    pages = {"index.md": f'# A page\n\n```python\n--8<-- "{name}"\n```\n\n![A figure](figures/nowhere.svg)\n'}
    drifted = text.replace("#> output: (5, 8)", "#> output: (5, 9)")
    snippets = {name: drifted, "transformers/orphan.py": "print(1)\n#> 1\n"}
    proc = build(small_project(tmp_path / "project", pages, snippets), tmp_path / "site")
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0
    line = text.splitlines().index("#> output: (5, 8)") + 1
    assert f"snippets/{name}:{line}: printed output differs from the #> lines" in log
    assert "#> output: (5, 9)" in log and "#> output: (5, 8)" in log
    assert "snippets/transformers/orphan.py is not included by any page: include it or delete it" in log
    assert "index.md shows figures/nowhere.svg, which no snippet draws" in log


def test_a_missing_include_fails_the_build(tmp_path):
    pages = {"index.md": '# A page\n\n```python\n--8<-- "transformers/missing.py"\n```\n'}
    proc = build(small_project(tmp_path / "project", pages, {}), tmp_path / "site")
    assert proc.returncode != 0
    log = proc.stdout + proc.stderr
    assert "index.md includes 'transformers/missing.py', which is not a snippet in snippets/" in log


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
