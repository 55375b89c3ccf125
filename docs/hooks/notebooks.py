"""Make each section page a Jupyter notebook as well, from the page itself, while the site builds.

The rule, with no list to keep: **a page that includes at least one snippet gets a notebook** (front
matter ``notebook: false`` opts a page out). Nothing is kept as a second copy: every build makes the
notebook afresh from the page's Markdown and the snippet files it includes.

* The prose becomes Markdown cells (a new cell at each heading) and each included snippet becomes a
  code cell holding the file's text exactly; its ``#>`` output lines are plain comments.
* What only MkDocs understands is rewritten: ``!!!``/``???`` admonitions become block quotes,
  mkdocstrings cross-references such as ``[`softmax`][llmarch.softmax]`` become plain code, links to
  other pages of the site keep only their text, and an image ``figures/x.svg`` (drawn by the snippet
  above it, which saves ``x.svg`` in the current folder) points at ``x.svg`` next to the notebook.
  HTML comments, such as the ``<!-- llm-answer: ... -->`` markers, stay: Jupyter does not show them.

As a MkDocs hook it hands the notebooks to mkdocs-jupyter, which renders each as a page
``notebooks/<name>/`` and copies the ``.ipynb`` beside it. Every snippet runs once a build: the
snippet hook (``snippet_check.py``) runs each as a script of its own, as a reader who copied it would,
and a code cell's output is exactly what that run printed (mkdocs-jupyter does not run them again):

* ``on_files`` (after the snippet hook's, before mkdocs-jupyter's): writes the notebooks, with those
  outputs, into a temporary folder outside ``docs/`` (so ``mkdocs serve`` does not rebuild in a loop).
  ``LLMARCH_SKIP_EXECUTION=1`` (build timing only) leaves the outputs empty.
* ``on_page_markdown``: a line under each section page's title links to its notebook.
* ``on_page_content``, on a notebook page: math as MathML, figures from ``figures/``, no script that
  loads from another host (nbconvert adds MathJax and mermaid from a CDN), code cells as Material's
  code blocks styled by ``docs/stylesheets/notebook.css`` instead of nbconvert's inlined JupyterLab
  CSS, a download button, and no second copy of the prose in the search index.

``tests/test_notebooks.py`` makes every notebook with :func:`section_notebooks`, runs each with
nbclient from top to bottom in a fresh kernel, and checks each cell prints what the built notebook shows.
"""

from __future__ import annotations

import html
import logging
import posixpath
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import material
import nbformat
from bs4 import BeautifulSoup, Comment, NavigableString
from mathml import render as render_math
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, InclusionLevel
from mkdocs.utils import get_relative_url
from mkdocs.utils.meta import get_data
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from snippet_check import INCLUDE, ROOT, SNIPPETS, SnippetResult, skip_execution
from snippet_check import results as snippet_results

DOCS = ROOT / "docs"
NOTEBOOKS = "notebooks"  # where the notebook pages go in the site

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})")
_HEADING = re.compile(r"^#{1,6}[ \t]")
_ADMONITION = re.compile(  # !!! note "Title", ??? tip, ???+ warning inline end
    r"^(?P<indent>[ \t]*)(?:!!!|\?\?\?\+?)[ \t]+(?P<kind>[\w-]+)(?:[ \t]+[\w-]+)*"
    r"""(?:[ \t]+"(?P<title>[^"]*)")?[ \t]*$"""
)
_BRACKETED = r"(?P<text>[^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*)"  # link text, which may hold one level of [...]
_REFERENCE = re.compile(r"(?<![!\]\\])\[" + _BRACKETED + r"\]\[(?P<ref>[^\[\]]*)\]")
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[(?P<ref>[^\]]+)\]:", re.MULTILINE)
_LINK = re.compile(
    r"(?P<bang>!?)(?<!\\)\[" + _BRACKETED + r"""\]\((?P<target><[^>\n]*>|[^()\s]+)(?:\s+(?:"[^"]*"|'[^']*'))?\)"""
)
_SCHEME = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")


class NotebookError(ValueError):
    """A page cannot be turned into a notebook (the message names the page)."""


# ---------------------------------------------------------------- page -> notebook
def wants_notebook(markdown: str) -> bool:
    """The rule: a page that includes at least one snippet gets a notebook, unless ``notebook: false``."""
    body, meta = get_data(markdown)
    return meta.get("notebook", True) is not False and bool(INCLUDE.search(body))


def notebook_uri(page_uri: str) -> str:
    """``transformers.md`` -> ``notebooks/transformers.ipynb``; ``components/index.md`` -> ``.../components.ipynb``."""
    stem = page_uri.removesuffix(".md")
    stem = stem.removesuffix("/index") if stem != "index" else stem
    return f"{NOTEBOOKS}/{stem.replace('/', '-')}.ipynb"


@dataclass
class _Segment:
    text: str
    fenced: bool


def _segments(markdown: str) -> list[_Segment]:
    """Split Markdown into fenced code blocks and the text between them."""
    segments: list[_Segment] = []
    lines = markdown.splitlines(keepends=True)
    i = 0
    text: list[str] = []
    while i < len(lines):
        opened = _FENCE_OPEN.match(lines[i])
        if not opened:
            text.append(lines[i])
            i += 1
            continue
        fence, indent = opened["fence"], opened["indent"]
        closing = re.compile(rf"^{re.escape(indent)}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j].rstrip("\n"))), len(lines) - 1)
        if text:
            segments.append(_Segment("".join(text), fenced=False))
            text = []
        segments.append(_Segment("".join(lines[i : end + 1]), fenced=True))
        i = end + 1
    if text:
        segments.append(_Segment("".join(text), fenced=False))
    return segments


def _included(fence: str) -> list[str] | None:
    """The snippet paths of a fenced block that holds only includes, else None."""
    body = [line for line in fence.splitlines()[1:-1] if line.strip()]
    paths = [INCLUDE.match(line) for line in body]
    if not body or not all(paths):
        return None
    return [m[1] for m in paths if m]


def _admonitions_to_quotes(text: str) -> str:
    # Hand-written: no library turns Python-Markdown admonition syntax back into plain Markdown.
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        start = _ADMONITION.match(lines[i])
        if not start:
            out.append(lines[i])
            i += 1
            continue
        indent = start["indent"]
        body_indent = indent + "    "
        body: list[str] = []
        i += 1
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith((body_indent, indent + "\t"))):
            body.append(lines[i])
            i += 1
        while body and not body[-1].strip():
            i -= 1
            body.pop()
        title = start["kind"].replace("-", " ").capitalize() if start["title"] is None else start["title"]
        quote = [f"**{title}**", ""] if title else []
        quote += [line[len(body_indent) :] if line.strip() else "" for line in body]
        out += [f"{indent}> {line}".rstrip() for line in quote]
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def _rewrite_links(text: str, page_uri: str, definitions: set[str]) -> str:
    """Cross-references -> their text; page links -> their text; ``figures/x`` images -> ``x``."""

    def reference(m: re.Match[str]) -> str:
        ref = (m["ref"] or m["text"]).strip().lower()
        return m[0] if ref in definitions else m["text"]  # an autorefs/mkdocstrings cross-reference

    def link(m: re.Match[str]) -> str:
        target = m["target"].strip("<>")
        if _SCHEME.match(target):
            return m[0]
        if not m["bang"]:
            return m["text"]  # another page or an anchor of the site: the notebook has no such page
        path = posixpath.normpath(posixpath.join(posixpath.dirname(page_uri), target.split("#")[0]))
        if path.startswith("figures/"):
            return f"![{m['text']}]({path.removeprefix('figures/')})"  # the cell above saved it here
        return f"*{m['text']}*"

    return _LINK.sub(link, _REFERENCE.sub(reference, text))


def _prose_cells(text: str, page_uri: str, definitions: set[str]) -> list[str]:
    """Markdown cells for the prose between two snippets, split at headings."""
    parts: list[str] = []
    for segment in _segments(text):
        if segment.fenced:
            parts.append(segment.text)
        else:
            parts.append(_rewrite_links(_admonitions_to_quotes(segment.text), page_uri, definitions))
    cells: list[list[str]] = [[]]
    for segment in _segments("".join(parts)):
        if segment.fenced:
            cells[-1].append(segment.text)
            continue
        for line in segment.text.splitlines(keepends=True):
            if _HEADING.match(line) and "".join(cells[-1]).strip():
                cells.append([])
            cells[-1].append(line)
    return [source for cell in cells if (source := "".join(cell).strip("\n"))]


def _intro(title: str | None, site_name: str | None) -> str:
    where = f"the guide *{site_name}*" if site_name else "the guide"
    page = f"the page “{title}” of {where}" if title else f"a page of {where}"
    return (
        f"> This notebook is {page}, made from the page when the site was built. Each code cell is a "
        "complete script that also runs on its own; its `#>` comments show what it prints. Run the cells "
        "from top to bottom. They need the package `llmarch` with matplotlib "
        '(`pip install -e ".[plot]"` in a checkout of its repository).'
    )


def page_to_notebook(
    markdown: str, page_uri: str, snippets: Path = SNIPPETS, site_name: str | None = None
) -> nbformat.NotebookNode:
    """The notebook of the page ``page_uri`` (relative to ``docs/``) whose Markdown is ``markdown``."""
    body, _ = get_data(markdown)
    definitions = {m["ref"].strip().lower() for m in _REFERENCE_DEFINITION.finditer(body)}
    cells: list[nbformat.NotebookNode] = []
    prose: list[str] = []

    def flush() -> None:
        cells.extend(new_markdown_cell(source) for source in _prose_cells("".join(prose), page_uri, definitions))
        prose.clear()

    for segment in _segments(body):
        paths = _included(segment.text) if segment.fenced else None
        if paths is None:
            if INCLUDE.search(segment.text):
                raise NotebookError(f"{page_uri}: a snippet include outside a code block of includes only")
            prose.append(segment.text)
            continue
        flush()
        for path in paths:
            file = snippets / path
            if not file.is_file():
                raise NotebookError(f"{page_uri}: includes {path!r}, not a file in snippets/ (whole files only)")
            cells.append(new_code_cell(file.read_text(encoding="utf-8").rstrip("\n"), metadata={"snippet": path}))
    flush()

    title = None
    if cells and cells[0].cell_type == "markdown" and cells[0].source.startswith("# "):
        heading, _, rest = cells[0].source.partition("\n")
        title = heading[2:].strip()
        cells[0].source = "\n\n".join(part for part in (heading, _intro(title, site_name), rest.strip("\n")) if part)
    else:
        cells.insert(0, new_markdown_cell(_intro(None, site_name)))
    for number, cell in enumerate(cells, start=1):
        cell.id = f"cell-{number}"  # stable ids: the same page gives the same file
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
            "language_info": {"name": "python"},
            "llmarch": {"page": page_uri},
        },
    )
    nbformat.validate(nb)
    return nb


def section_notebooks(docs: Path = DOCS, snippets: Path = SNIPPETS) -> dict[str, nbformat.NotebookNode]:
    """The notebook of every page in ``docs`` that gets one, by page (``transformers.md``)."""
    notebooks = {}
    for path in sorted(docs.rglob("*.md")):
        uri = path.relative_to(docs).as_posix()
        markdown = path.read_text(encoding="utf-8")
        if not uri.startswith("hooks/") and wants_notebook(markdown):
            notebooks[uri] = page_to_notebook(markdown, uri, snippets)
    return notebooks


def fill_outputs(nb: nbformat.NotebookNode, results: dict[str, SnippetResult]) -> None:
    """Give each code cell what its snippet printed when the build ran it (``snippet_check.results()``).

    A snippet is a whole script that runs on its own, so the output of its run as a script is the
    cell's output; ``tests/test_notebooks.py`` checks that a kernel running the notebook prints the same.
    """
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for count, cell in enumerate(code_cells, start=1):
        result = results.get(cell.metadata.get("snippet", ""))
        if result is None or not result.ok:
            continue  # the snippet hook has already failed the build, naming the snippet
        cell.execution_count = count
        streams = (("stdout", result.stdout), ("stderr", result.stderr))
        cell.outputs = [new_output("stream", name=name, text=text) for name, text in streams if text]


# ---------------------------------------------------------------- the MkDocs hook
log = logging.getLogger("mkdocs.hooks.notebooks")
_tmp: dict[str, tempfile.TemporaryDirectory[str]] = {}
_state: dict[str, Any] = {"notebooks": {}, "pages": {}}


def _workdir() -> Path:
    if "dir" not in _tmp:  # one per process, removed when it exits (also under `mkdocs serve`)
        _tmp["dir"] = tempfile.TemporaryDirectory(prefix="llmarch-notebooks-")
    return Path(_tmp["dir"].name)


@event_priority(50)  # after the snippet hook's (100), before mkdocs-jupyter's, which makes the pages
def on_files(files: Any, config: Any) -> Any:
    build = _workdir() / "build"
    shutil.rmtree(build, ignore_errors=True)
    results = {} if skip_execution() else snippet_results()
    if not skip_execution() and not results:
        log.error("no snippet has run: list docs/hooks/snippet_check.py before this hook in mkdocs.yml")
    _state["notebooks"], _state["pages"] = {}, {}
    for file in list(files.documentation_pages()):
        if not file.src_uri.endswith(".md") or file.inclusion.is_excluded():
            continue
        markdown = file.content_string
        if not wants_notebook(markdown):
            continue
        uri = notebook_uri(file.src_uri)
        try:
            nb = page_to_notebook(markdown, file.src_uri, site_name=config.site_name)
        except NotebookError as exc:
            log.error(str(exc))
            continue
        fill_outputs(nb, results)
        # Not File.generated: mkdocs-jupyter's page wrapper reads the path from ``src_dir``.
        nbformat.write(nb, _parent(build / uri))
        files.append(
            File(
                uri,
                src_dir=str(build),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
                inclusion=InclusionLevel.NOT_IN_NAV,
            )
        )
        _state["pages"][file.src_uri] = uri
        _state["notebooks"][uri] = file.src_uri
    log.info(f"notebooks: {len(_state['notebooks'])} section pages made into notebooks")
    return files


def _parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _download_uri(files: Any, uri: str) -> str:
    """Where mkdocs-jupyter (``include_source``) puts the ``.ipynb``: beside the rendered page."""
    page = files.get_file_from_path(uri)
    return posixpath.join(posixpath.dirname(page.dest_uri), posixpath.basename(uri))


def on_page_markdown(markdown: str, page: Any, files: Any, **_: Any) -> str:
    """Under a section page's title: a line that opens or downloads its notebook."""
    uri = _state["pages"].get(page.file.src_uri)
    if uri is None:
        return markdown
    name = posixpath.basename(uri)
    rendered = get_relative_url(uri, page.file.src_uri)
    download = html.escape(get_relative_url(_download_uri(files, uri), page.url))
    line = (
        f":material-notebook-outline: This page is also a Jupyter notebook: [read it as run]({rendered}) "
        f'when the site was built, or <a href="{download}" download>download {name}</a> and run it yourself.'
    )
    heading, newline, rest = markdown.partition("\n")
    if heading.startswith("# "):
        return f"{heading}\n\n{line}\n{newline}{rest}"
    return f"{line}\n\n{markdown}"


_MATH = re.compile(r"\$\$(?P<block>.+?)\$\$|\$(?P<inline>[^$]+?)\$", re.DOTALL)


def _icon(name: str) -> str:
    """A Material for MkDocs icon, read from the installed theme (as its own templates include it)."""
    path = Path(material.__file__).parent / "templates" / ".icons" / "material" / f"{name}.svg"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _math_to_arithmatex(soup: Any, cell: Any) -> None:
    """Mark the ``$...$`` / ``$$...$$`` that nbconvert left in a Markdown cell the way arithmatex does."""
    for text in list(cell.find_all(string=_MATH)):
        if type(text) is not NavigableString or text.find_parent(["code", "pre", "script", "style"]):
            continue
        parts: list[Any] = []
        last = 0
        for m in _MATH.finditer(text):
            parts.append(text[last : m.start()])
            if m["block"] is not None:
                wrapper = soup.new_tag("div", attrs={"class": "arithmatex"})
                wrapper.string = f"\\[{m['block']}\\]"
            else:
                wrapper = soup.new_tag("span", attrs={"class": "arithmatex"})
                wrapper.string = f"\\({m['inline']}\\)"
            parts.append(wrapper)
            last = m.end()
        parts.append(text[last:])
        parent = text.parent
        if parent.name == "p" and len(parent.contents) == 1 and len(parts) == 3 and not "".join(parts[::2]).strip():
            parent.replace_with(parts[1])  # a paragraph that is one display formula: the formula's own block
            continue
        for part in parts:
            if part:
                text.insert_before(part)
        text.extract()


def _is_remote_or_mathjax(script: Any) -> bool:
    """nbconvert's page header loads MathJax and mermaid from a CDN; this site loads nothing from another host."""
    src = script.get("src")
    return (
        src is not None  # MathJax's loader (an empty or CDN address); mkdocs-jupyter inlines its own scripts
        or script.get("type") == "text/x-mathjax-config"
        or re.search(r"""(?:import\(|from\s+)["'](?:https?:)?//""", script.get_text()) is not None
    )


# Hand-written: nbconvert's own stylesheet is 595 kB of JupyterLab CSS, for widgets these pages never render.
NOTEBOOK_CSS = "stylesheets/notebook.css"  # loaded by the notebook pages only


def _restyle(soup: Any) -> None:
    """nbconvert's CSS and copy button out; code cells as Material code blocks (its colours, its copy button)."""
    for style in soup.find_all("style"):
        if not style.find_parent(class_="jupyter-wrapper"):  # an output's own style stays
            style.decompose()
    for script in soup.find_all("script"):
        if "clipboard-copy" in script.get_text():  # mkdocs-jupyter's copy button, replaced by Material's
            script.decompose()
    for copy in soup.select("div.zeroclipboard-container, div.clipboard-copy-txt"):  # its button, its text
        copy.decompose()
    for block in soup.select("div.highlight-ipynb"):
        block["class"] = ["highlight"]  # pymdownx's markup: <div class="highlight"><pre><code>
        pre = block.find("pre")
        code = soup.new_tag("code")
        code.extend(list(pre.contents))
        pre.append(code)
        cell = block.find_parent(id=True)
        if cell is not None:  # Material names the block after the nearest id, which must make a CSS selector
            pre["id"] = re.sub(r"[^\w-]", "-", cell["id"].removeprefix("cell-id="))
    for link in soup.select("a.anchor-link"):
        link["class"] = ["headerlink"]  # Material's permalink: shown on hover


@event_priority(50)  # before other hooks add HTML of their own (math here is only the notebook's)
def on_page_content(html_text: str, page: Any, files: Any, **_: Any) -> str:
    """On a notebook page: MathML, published figures, no outside scripts, a download button, no search entry."""
    section = _state["notebooks"].get(page.file.src_uri)
    if section is None:
        return html_text
    soup = BeautifulSoup(html_text, "html.parser")
    for script in soup.find_all("script"):
        if _is_remote_or_mathjax(script):
            script.decompose()
    for comment in soup.find_all(string=lambda text: isinstance(text, Comment), recursive=False):
        comment.extract()  # "Load mathjax" and the like, left over; the cells' own comments stay
    _restyle(soup)
    for cell in soup.select("div.jp-RenderedMarkdown"):
        _math_to_arithmatex(soup, cell)
        for img in cell.find_all("img", src=True):
            figure = files.get_file_from_path(f"figures/{img['src']}")
            if figure is not None and not _SCHEME.match(img["src"]):
                img["src"] = get_relative_url(figure.url, page.url)  # as drawn by the build, like the page's

    uri = page.file.src_uri
    download = html.escape(get_relative_url(_download_uri(files, uri), page.url))
    name = html.escape(posixpath.basename(uri))
    section_page = files.get_file_from_path(section)
    back = html.escape(get_relative_url(section_page.url, page.url))
    title = html.escape(section_page.page.title if section_page.page else section)
    header = (
        f'<link rel="stylesheet" href="{html.escape(get_relative_url(NOTEBOOK_CSS, page.url))}">\n'
        f'<a href="{download}" download title="Download {name}" class="md-content__button md-icon">'
        f"{_icon('download')}</a>\n"
    )
    note = BeautifulSoup(
        f'<p class="llmarch-notebook-note">The page <a href="{back}">{title}</a> as a Jupyter notebook. '
        "Each cell ran while the site was built and shows what it printed. "
        f'<a href="{download}" download>Download {name}</a> to run it yourself.</p>',
        "html.parser",
    )
    h1 = soup.find("h1")
    if h1 is not None:
        h1.insert_after(note)
    else:
        soup.insert(0, note)
    page.meta["search"] = {"exclude": True}  # the section page itself is in the index
    page.title = f"{page.title} (notebook)"
    return header + render_math(str(soup), uri)
