"""Notebook pages look like the rest of the site, with a small stylesheet of their own.

mkdocs-jupyter's own template inlines nbconvert's JupyterLab CSS (595 kB); the guide's template
(docs/plugin/llmarch_guide/jupyter/) makes each code cell a Material code block instead, and the
plugin links docs/stylesheets/notebook.css.
"""

import re
from pathlib import Path

STYLESHEET = "stylesheets/notebook.css"
MAX_BYTES = 10_000  # nbconvert's was 595 kB; the whole page must stay under 1 MB (bench/page_weight.py)


def notebook_pages(site: Path) -> list[Path]:
    pages = sorted((site / "notebooks").glob("*/index.html"))
    assert pages
    return pages


def test_notebook_pages_load_a_small_stylesheet_and_no_inline_css(site):
    assert (site / STYLESHEET).stat().st_size <= MAX_BYTES
    for page in notebook_pages(site):
        html = page.read_text(encoding="utf-8")
        assert '<link rel="stylesheet" href="../../stylesheets/notebook.css">' in html, page
        assert "<style" not in html, page


def test_code_cells_are_material_code_blocks(site):
    for page in notebook_pages(site):
        html = page.read_text(encoding="utf-8")
        cells = html.count("jp-CodeCell jp-Notebook-cell")
        blocks = re.findall(r'<div class="highlight[^"]*"><pre id="([\w-]+)"><code>', html)
        assert cells and len(blocks) == cells, page
        assert len(set(blocks)) == len(blocks), page  # Material names each copy button's target by this id
        assert "highlight-ipynb" not in html and "clipboard-copy" not in html, page
        assert "anchor-link" not in html, page  # headings carry Material's permalink instead
