"""The guide's MkDocs plugin: every snippet runs once a build, and the pages show what it did.

A plugin, not hooks: MkDocs makes one object of it, which holds the build's state and is kept
across ``mkdocs serve`` rebuilds (a rebuild reruns only the snippets that changed); its place in
``mkdocs.yml``, before mkdocs-jupyter, orders their events. Its entry point is in its own
``docs/plugin/pyproject.toml``: one in llmarch's would ship with the reader's package, naming code
its wheel does not hold. One flow, in the order MkDocs calls it:

1. ``on_files``: read every page once and check the rules (each include is a snippet, each snippet
   is included, each recorded answer shown exists, each snippet that asks a model has its answer
   shown); start every snippet in page order (one process per core, one BLAS thread each, cached by
   the snippet's text and the package's); register what they will fill: the figures the pages link
   and one notebook per page with a snippet, for mkdocs-jupyter to render.
2. ``on_page_markdown``: under a section page's title, a line that links its notebook.
3. ``on_pre_page``, a notebook page: wait for its snippets; write the notebook with their outputs.
4. ``on_page_content``: a notebook page's last touches, math as MathML, recorded answers in their
   boxes, figures as links to themselves.
5. ``on_env``: wait for every snippet; report each that raised or printed other than its ``#>``
   lines; publish the figures; write the report the tests read (``LLMARCH_SNIPPET_REPORT=path``);
   publish the math font, cut to the characters of every formula (``mathfont.py``).
6. ``on_post_page``, ``on_post_template``: the names and keyboard stops the theme leaves out.

``LLMARCH_SKIP_EXECUTION=1`` (build timing only) runs no snippet: no outputs, placeholder figures.
"""

from __future__ import annotations

import html
import importlib.util
import json
import logging
import os
import posixpath
import re
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import material
import nbformat
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from llmarch_guide import markup, mathfont
from llmarch_guide.answers import MARKER, Answer, asks_a_model, look_up
from llmarch_guide.notebooks import NotebookError, fill_outputs, notebook_uri, page_to_notebook, wants_notebook
from llmarch_guide.snippets import (
    SnippetResult,
    content_key,
    included_snippets,
    package_digest,
    run_snippet,
    snippet_files,
)

log = logging.getLogger("mkdocs.plugins.llmarch_guide")

SKIP_EXECUTION = "LLMARCH_SKIP_EXECUTION"
REPORT = "LLMARCH_SNIPPET_REPORT"
JUPYTER = Path(__file__).parent / "jupyter"  # nbconvert/templates/mkdocs_html/notebook.html.j2
FIGURE_LINK = re.compile(r"figures/([\w./-]+\.(?:svg|png))")
PLACEHOLDER_FIGURE = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n'
NOTEBOOK_CSS = "stylesheets/notebook.css"  # loaded by the notebook pages only
# mkdocs-jupyter appends nbconvert's Pygments CSS after what the template makes.
_TRAILING_STYLE = re.compile(r"\s*<style[^>]*>.*?</style>\s*\Z", re.DOTALL)


def skip_execution() -> bool:
    """True when ``LLMARCH_SKIP_EXECUTION`` asks for a build that runs no snippet."""
    return os.environ.get(SKIP_EXECUTION, "") not in {"", "0"}


@dataclass
class Build:
    """What one build knows, made afresh at its ``on_files``."""

    root: Path  # the project: the folder of mkdocs.yml
    snippets: Path  # where includes resolve: pymdownx.snippets' base_path
    runs: dict[str, Future[SnippetResult]] = field(default_factory=dict)  # by snippet, in page order
    answers: dict[str, Answer] = field(default_factory=dict)  # by snippet
    figures: dict[str, tuple[File, str]] = field(default_factory=dict)  # by name: its file, the page linking it
    notebooks: dict[str, tuple[str, nbformat.NotebookNode, Path]] = field(default_factory=dict)  # by uri
    notebook_of: dict[str, str] = field(default_factory=dict)  # section page -> its notebook
    math_characters: set[str] = field(default_factory=set)  # what the pages' formulas show (the math font's cut)

    def result(self, snippet: str) -> SnippetResult:
        return self.runs[snippet].result()

    def show(self, path: Path) -> str:
        """``path`` as messages name it: relative to the project."""
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else str(path)


class GuidePlugin(BasePlugin):
    """Runs every snippet once and shows its results on the pages and in the notebooks (module docstring)."""

    def __init__(self) -> None:
        self._cache: dict[str, Future[SnippetResult]] = {}  # by content_key, kept across `mkdocs serve` rebuilds
        self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="snippet")
        self._tmp = tempfile.TemporaryDirectory(prefix="llmarch-notebooks-")  # outside docs/: no serve loop
        self.build: Build | None = None

    def on_startup(self, **_: Any) -> None:
        """Defined so that MkDocs keeps this object, and its cache, across ``mkdocs serve`` rebuilds."""

    def on_shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._tmp.cleanup()

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        # nbconvert finds templates on the Jupyter data path, which JUPYTER_PATH extends (documented).
        paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
        if str(JUPYTER) not in paths:
            os.environ["JUPYTER_PATH"] = os.pathsep.join([str(JUPYTER), *paths])
        return config

    # ------------------------------------------------------------ 1. read the pages, start the snippets
    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        root = Path(config.config_file_path).parent
        try:
            base_path = config.mdx_configs["pymdownx.snippets"]["base_path"]
        except KeyError:
            log.error("the llmarch-guide plugin needs pymdownx.snippets with a base_path (the snippets' folder)")
            return files
        build = self.build = Build(root, root / (base_path[0] if isinstance(base_path, list) else base_path))
        pages = {f.src_uri: f.content_string for f in files.documentation_pages() if f.src_uri.endswith(".md")}
        snippets = {p.relative_to(build.snippets).as_posix(): p for p in snippet_files(build.snippets)}

        # The include rules, checked here only: each include is a snippet, each snippet is included.
        includes = {uri: included_snippets(markdown) for uri, markdown in pages.items()}
        bad = {uri for uri, names in includes.items() for name in names if name not in snippets}
        for uri in sorted(bad):
            for name in (n for n in includes[uri] if n not in snippets):
                log.error(f"{uri} includes {name!r}, which is not a snippet in {build.show(build.snippets)}/")
        shown = {name for names in includes.values() for name in names}
        for orphan in sorted(set(snippets) - shown):
            log.error(f"{build.show(build.snippets / orphan)} is not included by any page: include it or delete it")

        # Recorded answers: each marker's must exist; each snippet that asks a model must have a marker.
        marked = {(uri, name) for uri, markdown in pages.items() for name in MARKER.findall(markdown)}
        for uri, name in sorted(marked):
            answer, error = look_up(name, build.snippets / name)
            if error:
                log.error(f"{uri}: {error}")
            if answer is not None:
                build.answers[name] = answer
        for name, path in snippets.items():
            asks, error = asks_a_model(path)
            if error:
                log.error(f"{build.show(path)}: {error}")
            elif asks and name not in {name for _, name in marked}:
                where = build.show(path)
                log.error(f"{where} asks a model, but no page shows its answer: add <!-- llm-answer: {name} -->")

        # Start every snippet, the pages' in their order first (their notebooks are rendered in that order).
        package = package_digest(Path(importlib.util.find_spec("llmarch").submodule_search_locations[0]))
        for name in dict.fromkeys([*(n for names in includes.values() for n in names if n in snippets), *snippets]):
            build.runs[name] = self._run(build, snippets[name], name, package)

        # What the snippets will fill: the figures the pages link, and the notebooks.
        for uri, markdown in pages.items():
            for name in dict.fromkeys(FIGURE_LINK.findall(markdown)).keys() - build.figures.keys():
                build.figures[name] = (File.generated(config, f"figures/{name}", content=PLACEHOLDER_FIGURE), uri)
                files.append(build.figures[name][0])
        if "mkdocs-jupyter" in config.plugins:  # it renders them; this plugin comes before it in mkdocs.yml
            for uri, markdown in pages.items():
                if uri not in bad and wants_notebook(markdown):
                    self._add_notebook(build, uri, markdown, files, config)
        log.info(f"llmarch-guide: {len(build.runs)} snippets, {len(build.notebooks)} notebooks")
        return files

    def _run(self, build: Build, path: Path, name: str, package: str) -> Future[SnippetResult]:
        if skip_execution():  # a timing build: each snippet ran and printed nothing
            done: Future[SnippetResult] = Future()
            done.set_result(SnippetResult(name))
            return done
        key = content_key(path, name, package)
        if key not in self._cache:
            self._cache[key] = self._pool.submit(run_snippet, path, build.show(path))
        return self._cache[key]

    def _add_notebook(self, build: Build, uri: str, markdown: str, files: Files, config: MkDocsConfig) -> None:
        try:
            nb = page_to_notebook(markdown, uri, build.snippets, site_name=config.site_name)
        except NotebookError as exc:
            log.error(str(exc))
            return
        notebook, folder = notebook_uri(uri), Path(self._tmp.name)
        path = folder / notebook
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)  # without outputs until its page is read (on_pre_page)
        # Not File.generated: mkdocs-jupyter's page wrapper reads the path from ``src_dir``.
        where = {"dest_dir": config.site_dir, "use_directory_urls": config.use_directory_urls}
        files.append(File(notebook, src_dir=str(folder), inclusion=InclusionLevel.NOT_IN_NAV, **where))
        build.notebooks[notebook] = (uri, nb, path)
        build.notebook_of[uri] = notebook

    # ------------------------------------------------------------ 2. the section page links its notebook
    def on_page_markdown(self, markdown: str, page: Page, files: Files, **_: Any) -> str:
        notebook = self.build.notebook_of.get(page.file.src_uri) if self.build else None
        if notebook is None:
            return markdown
        download = html.escape(get_relative_url(_download_uri(files, notebook), page.url))
        line = (
            ":material-notebook-outline: This page is also a Jupyter notebook: "
            f"[read it as run]({get_relative_url(notebook, page.file.src_uri)}) when the site was built, or "
            f'<a href="{download}" download>download {posixpath.basename(notebook)}</a> and run it yourself.'
        )
        heading, newline, rest = markdown.partition("\n")
        if heading.startswith("# "):
            return f"{heading}\n\n{line}\n{newline}{rest}"
        return f"{line}\n\n{markdown}"

    # ------------------------------------------------------------ 3. a notebook gets its outputs
    def on_pre_page(self, page: Page, **_: Any) -> Page:
        if self.build and page.file.src_uri in self.build.notebooks and not skip_execution():
            _, nb, path = self.build.notebooks[page.file.src_uri]
            snippets = [cell.metadata["snippet"] for cell in nb.cells if cell.cell_type == "code"]
            fill_outputs(nb, {name: self.build.result(name) for name in snippets})
            nbformat.write(nb, path)
        return page

    # ------------------------------------------------------------ 4. what each page shows
    def on_page_content(self, content: str, page: Page, files: Files, **_: Any) -> str:
        if self.build is None:
            return content
        uri, errors = page.file.src_uri, []
        notebook = uri in self.build.notebooks
        if notebook:
            content = self._notebook_page(content, page, files)
        content = markup.typeset(content, errors, dollars=notebook)  # before the answers: their $ are text
        self.build.math_characters |= mathfont.characters(content)
        for error in errors:
            log.error(f"{uri}: {error}")
        if "llm-answer" in content:
            setup = files.get_file_from_path("setup.md")
            setup_href = get_relative_url(setup.url, page.url) if setup is not None else None
            answers = self.build.answers
            content = MARKER.sub(lambda m: answers[m["path"]].box(setup_href) if m["path"] in answers else "", content)
        return markup.unindexed_snippets(markup.link_figures(content))

    def _notebook_page(self, content: str, page: Page, files: Files) -> str:
        # The template (jupyter/…/notebook.html.j2) makes the cells; what it cannot do is done here:
        # mkdocs-jupyter appends nbconvert's Pygments CSS after the template's output (dropped: the
        # theme colours the code); an image shows ``x.svg`` as the cell above saved it beside the
        # notebook (here: the figure the build published); and the page gets a download button and a
        # line back to its section page. Its ``$...$`` math is typeset with the rest (on_page_content).
        assert self.build is not None
        uri = page.file.src_uri
        section = files.get_file_from_path(self.build.notebooks[uri][0])

        def figure(name: str) -> str | None:
            published = files.get_file_from_path(f"figures/{name}")
            return get_relative_url(published.url, page.url) if published is not None else None

        content = markup.point_images(_TRAILING_STYLE.sub("", content), figure)
        download = html.escape(get_relative_url(_download_uri(files, uri), page.url))
        name = html.escape(posixpath.basename(uri))
        back = html.escape(get_relative_url(section.url, page.url))
        title = html.escape(section.page.title if section.page and section.page.title else section.src_uri)
        header = (
            f'<link rel="stylesheet" href="{html.escape(get_relative_url(NOTEBOOK_CSS, page.url))}">\n'
            f'<a href="{download}" download title="Download {name}" class="md-content__button md-icon">'
            f"{_icon('download')}</a>\n"
        )
        note = (
            f'<p class="llmarch-notebook-note">The page <a href="{back}">{title}</a> as a Jupyter notebook. '
            "Each cell ran while the site was built and shows what it printed. "
            f'<a href="{download}" download>Download {name}</a> to run it yourself.</p>'
        )
        before, h1, after = content.partition("</h1>")
        content = f"{before}{h1}{note}{after}" if h1 else note + content
        page.meta["search"] = {"exclude": True}  # the section page itself is in the index
        page.title = f"{page.title} (notebook)"
        return header + content

    # ------------------------------------------------------------ 5. every snippet: checked, figures published
    def on_env(self, env: Any, config: MkDocsConfig, files: Files) -> Any:
        if self.build is None:
            return env
        build, drawn = self.build, {}
        results = {name: build.result(name) for name in build.runs}
        for result in results.values():
            if not result.ok:
                log.error(result.error)
            for figure, content in result.figures.items():
                if figure in drawn:
                    log.error(f"{result.name} and {drawn[figure]} both write {figure}; give each figure its own name")
                    continue
                drawn[figure] = result.name
                if figure in build.figures:
                    build.figures[figure][0].content_bytes = content
                else:
                    files.append(File.generated(config, f"figures/{figure}", content=content))
        if skip_execution():
            log.info(f"llmarch-guide: {SKIP_EXECUTION} is set: no snippet ran, figures are placeholders")
        else:
            for figure in sorted(set(build.figures) - set(drawn)):
                log.error(f"{build.figures[figure][1]} shows figures/{figure}, which no snippet draws")
            log.info(f"llmarch-guide: {sum(r.ok for r in results.values())} of {len(results)} snippets verified")
        if os.environ.get(REPORT):
            report = {name: result.summary() for name, result in results.items()}
            Path(os.environ[REPORT]).write_text(json.dumps(report, indent=1, sort_keys=True), encoding="utf-8")
        self._math_font(build, config, files)
        return env

    def _math_font(self, build: Build, config: MkDocsConfig, files: Files) -> None:
        # Every page's content is rendered by now (MkDocs renders them all before on_env), so the
        # characters of every formula are known: the font is cut to them (mathfont.py).
        if not build.math_characters:
            return
        try:
            content = mathfont.cut(mathfont.SOURCE, build.math_characters)
        except mathfont.MissingFont:
            log.error(mathfont.missing(build.show(mathfont.SOURCE)))
            return
        existing = files.get_file_from_path(mathfont.URI)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, mathfont.URI, content=content))

    # ------------------------------------------------------------ 6. accessibility
    def on_post_page(self, output: str, **_: Any) -> str:
        return markup.accessible(output)

    def on_post_template(self, output_content: str, template_name: str, **_: Any) -> str:
        """The theme's static pages, such as 404.html, are not pages to MkDocs: fix them too."""
        return markup.accessible(output_content) if template_name.endswith(".html") else output_content


def _download_uri(files: Files, uri: str) -> str:
    """Where mkdocs-jupyter (``include_source``) puts the ``.ipynb``: beside the rendered page."""
    page = files.get_file_from_path(uri)
    return posixpath.join(posixpath.dirname(page.dest_uri), posixpath.basename(uri))


def _icon(name: str) -> str:
    """A Material for MkDocs icon, read from the installed theme (as its own templates include it)."""
    path = Path(material.__file__).parent / "templates" / ".icons" / "material" / f"{name}.svg"
    return path.read_text(encoding="utf-8") if path.is_file() else ""
