"""Make each section page a Jupyter notebook as well, from the page itself, while the site builds.

The rule, with no list to keep: **a page that includes at least one snippet gets a notebook** (front
matter ``notebook: false`` opts a page out). Nothing is kept as a second copy: every build makes the
notebook afresh from the page's Markdown and the snippet files it includes.

* The prose becomes Markdown cells (a new cell at each heading) and each included snippet becomes a
  code cell holding the file's text without its ``#>`` output lines: the cell's output shows what it
  prints (the file, with them, is what the page shows and the copy button gives).
* What only MkDocs understands is rewritten: ``!!!``/``???`` admonitions become block quotes,
  mkdocstrings cross-references such as ``[`softmax`][llmarch.softmax]`` become plain code, links to
  other pages of the site keep only their text, and an image ``figures/x.svg`` (drawn by the snippet
  above it, which saves ``x.svg`` in the current folder) points at ``x.svg`` next to the notebook.
  Material's icon shortcodes (``:material-check-circle:``) are dropped: Jupyter would show them as text.
  HTML comments, such as the ``<!-- llm-answer: ... -->`` markers, stay: Jupyter does not show them.
* Each code cell's output is what its snippet printed when the build ran it as a script
  (:func:`fill_outputs`); mkdocs-jupyter renders the notebook without running it again.

``tests/test_notebooks.py`` runs every notebook with nbclient from top to bottom in a fresh kernel,
and checks each cell prints what the built notebook shows.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from mkdocs.utils.meta import get_data
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from llmarch_guide.snippets import INCLUDE, SnippetResult

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
_ICON = re.compile(r"[ \t]?:(?:material|octicons|fontawesome|simple)-[\w-]+:(?:\{[^}\n]*\})?")  # with its attr list
_OUTPUT_COMMENT = re.compile(r"^[ \t]*#>.*(?:\n|\Z)", re.MULTILINE)


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

    return _ICON.sub("", _LINK.sub(link, _REFERENCE.sub(reference, text)))


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
        "complete script that also runs on its own; the output under it is what it printed then. Run the "
        "cells from top to bottom. They need the package `llmarch`, which `pip install .` in a checkout of "
        "its repository installs with all they use (NumPy and matplotlib)."
    )


def cell_source(source: str) -> str:
    """A snippet's text as its code cell holds it: without the ``#>`` lines, which its output replaces."""
    return _OUTPUT_COMMENT.sub("", source).rstrip("\n")


def code_cell(snippet: str, source: str) -> nbformat.NotebookNode:
    """The code cell of one snippet (``snippet`` as the page includes it, ``source`` its text)."""
    return new_code_cell(cell_source(source), metadata={"snippet": snippet})


def page_to_notebook(
    markdown: str, page_uri: str, snippets: Path, site_name: str | None = None
) -> nbformat.NotebookNode:
    """The notebook of the page ``page_uri`` (relative to ``docs/``) whose Markdown is ``markdown``.

    Every snippet it includes must be a file in ``snippets`` (the plugin checks includes first).
    """
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
        cells.extend(code_cell(path, (snippets / path).read_text(encoding="utf-8")) for path in paths)
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


def section_notebooks(docs: Path, snippets: Path) -> dict[str, nbformat.NotebookNode]:
    """The notebook of every page in ``docs`` that gets one, by page (``transformers.md``)."""
    notebooks = {}
    for path in sorted(docs.rglob("*.md")):
        uri = path.relative_to(docs).as_posix()
        markdown = path.read_text(encoding="utf-8")
        if not uri.startswith("plugin/") and wants_notebook(markdown):
            notebooks[uri] = page_to_notebook(markdown, uri, snippets)
    return notebooks


def fill_outputs(nb: nbformat.NotebookNode, results: dict[str, SnippetResult]) -> None:
    """Give each code cell what its snippet printed when the build ran it (results by snippet).

    A snippet is a whole script that runs on its own, so the output of its run as a script is the
    cell's output; ``tests/test_notebooks.py`` checks that a kernel running the notebook prints the same.
    """
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for count, cell in enumerate(code_cells, start=1):
        result = results.get(cell.metadata.get("snippet", ""))
        if result is None or not result.ok:
            continue  # the build has failed already, naming the snippet
        cell.execution_count = count
        streams = (("stdout", result.stdout), ("stderr", result.stderr))
        cell.outputs = [new_output("stream", name=name, text=text) for name, text in streams if text]
