"""The plugin's rewrites of rendered HTML: math as MathML, figures as links, names the theme leaves out.

Each is a function of the page's HTML alone (``plugin.py`` calls them in order).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from latex2mathml.converter import convert

# ---------------------------------------------------------------- math
# Typeset as MathML while the site builds, so pages need no JavaScript or CDN to show math:
# ``pymdownx.arithmatex`` (generic mode) wraps each formula as ``\(...\)`` in a ``span.arithmatex``
# or ``\[...\]`` in a ``div.arithmatex``; each wrapper gets the MathML latex2mathml makes instead.
# Browsers render MathML Core natively.
_ARITHMATEX = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<block>.*?)\\\])\s*</(?P=tag)>',
    re.DOTALL,
)
# nbconvert leaves a notebook's Markdown math as ``$...$`` and ``$$...$$`` (HTML-escaped) for MathJax.
_DOLLARS = re.compile(r"(?P<p><p>)?\$\$(?P<block>.+?)\$\$(?(p)</p>)|\$(?P<inline>[^$]+?)\$", re.DOTALL)
_CODE = re.compile(r"(<(?:pre|code|script|style)\b.*?</(?:pre|code|script|style)>)", re.DOTALL)


# What latex2mathml leaves as written: ``\text{rope\_theta}`` keeps its backslash in the <mtext>.
_TEXT_ESCAPE = re.compile(r"(<mtext>[^<]*?)\\([_%&#${}])")
# Two display formulas on consecutive lines of a docstring (``$$a$$`` then ``$$b$$``) reach the
# math stage as one, ``a$$ $$b``: each is typeset as a block of its own.
_BETWEEN_BLOCKS = re.compile(r"\$\$\s*\$\$")
# Punctuation right after an inline formula stays on its line: the formula and the mark do not break apart.
_PUNCTUATED = re.compile(r'(<span class="arithmatex">(?:(?!</span>).)*</span>)([.,:;!?)]+)', re.DOTALL)


_RIGHT_CELL = '<mtd columnalign="right">'
_CELL_TAG = re.compile(r"<mtd\b|</mtd>")


def _one_child_right_cells(math: str) -> str:
    """Each right-aligned cell's content in one ``<mrow>``: the stylesheet lays such a cell out right
    to left to align it, and only one child keeps the formula's own order (``docs/stylesheets/extra.css``)."""
    out, at = [], 0
    while (start := math.find(_RIGHT_CELL, at)) >= 0:
        inner, depth = start + len(_RIGHT_CELL), 1
        for tag in _CELL_TAG.finditer(math, inner):
            depth += 1 if tag[0] == "<mtd" else -1
            if depth == 0:
                break
        end = tag.start()
        out += [math[at:inner], f"<mrow>{math[inner:end]}</mrow>"]
        at = end
    return "".join(out) + math[at:]


def to_mathml(latex: str, display: bool) -> str:
    """One formula as MathML; ``display`` for a centred block."""
    math = convert(latex.strip(), display="block" if display else "inline")
    while _TEXT_ESCAPE.search(math):
        math = _TEXT_ESCAPE.sub(r"\1\2", math)
    return _one_child_right_cells(math)


def typeset(text: str, errors: list[str], *, dollars: bool = False) -> str:
    """Every arithmatex wrapper in ``text`` as MathML (``dollars``: bare ``$...$`` too, outside code).

    LaTeX that cannot be typeset is left as it is and named in ``errors``.
    """

    def replace(m: re.Match[str]) -> str:
        display = m["block"] is not None
        latex = html.unescape(m["block"] if display else m["inline"])
        parts = [part for part in _BETWEEN_BLOCKS.split(latex) if part.strip()] if display else [latex]
        try:
            maths = [to_mathml(part, display) for part in parts]
        except Exception as exc:  # latex2mathml raises many types; all mean "cannot typeset"
            errors.append(f"cannot typeset {latex!r}: {exc}")
            return m[0]
        if display:
            return "\n".join(f'<div class="arithmatex">{math}</div>' for math in maths)
        return f'<span class="arithmatex">{maths[0]}</span>'

    text = _ARITHMATEX.sub(replace, text)
    if dollars:  # not inside code, where a $ is a $
        text = "".join(part if _CODE.fullmatch(part) else _DOLLARS.sub(replace, part) for part in _CODE.split(text))
    return _PUNCTUATED.sub(r'<span class="llmarch-nowrap">\1\2</span>', text)


# ---------------------------------------------------------------- figures
# Every figure links to itself, so a reader can open it full size (on a phone, a wide figure is
# tiny). A plain link rather than a lightbox plugin: it costs no script and no stylesheet (the
# heaviest pages are near the 1 MB budget), and the browser's own image view zooms an SVG sharply.
_FIGURE = re.compile(
    r"""(?P<link><a\b[^>]*>\s*)?"""
    r"""(?P<img><img\b[^>]*\bsrc=(["'])(?P<src>(?:\.\./)*figures/[^"']+)\3[^>]*>)"""
)
_IMAGE_SRC = re.compile(r"""(<img\b[^>]*\bsrc=)(["'])([^"':/?#]+)\2""")


def link_figures(text: str) -> str:
    """``text`` with each figure image that is not in a link wrapped in a link to the image."""

    def wrap(m: re.Match[str]) -> str:
        return m[0] if m["link"] else f'<a class="llmarch-figure" href="{m["src"]}">{m["img"]}</a>'

    return _FIGURE.sub(wrap, text)


def point_images(text: str, url_of: Callable[[str], str | None]) -> str:
    """Each ``<img src="name">`` with a bare file name pointed at ``url_of(name)`` (when not None)."""
    return _IMAGE_SRC.sub(lambda m: f"{m[1]}{m[2]}{url_of(m[3]) or m[3]}{m[2]}", text)


# ---------------------------------------------------------------- search
# The search index is downloaded by every page (the theme's search worker fetches it at load), so
# it counts in every page's weight. The snippets' code is left out of it: each snippet's names
# and idea are in the prose around it, and its code was a third of the index. Material's search
# skips an element with ``data-search-exclude``.
_SNIPPET_BLOCK = re.compile(r'<div class="language-python highlight"(?![^>]*data-search-exclude)')


def unindexed_snippets(text: str) -> str:
    """``text`` with each Python code block marked to be left out of the search index."""
    return _SNIPPET_BLOCK.sub(lambda m: m[0] + " data-search-exclude", text)


# ---------------------------------------------------------------- accessibility
# What neither the theme's configuration nor CSS can fix, each answering a rule of axe-core,
# which the browser tests (``tests/browser/``) run on every page in both colour schemes:
#
# * ``aria-dialog-name``: Material's search overlay has ``role="dialog"`` but no name; it gets
#   ``aria-label="Search"``.
# * ``landmark-unique``: the sub-navigation of a section with an index page is labelled by an
#   icon-only toggle, so all such sections had one empty name; the toggle gets the section's title
#   as text that only assistive technology reads (not as ``aria-label``, which a ``<label>`` may
#   not have: ``aria-prohibited-attr``, found where the phone's drawer shows the toggles).
# * ``scrollable-region-focusable``: a wide display formula (``div.arithmatex``, which scrolls
#   sideways, see ``docs/stylesheets/extra.css``) must be reachable by keyboard to be scrolled;
#   it gets ``tabindex="0"``. Material does the same for its own code blocks (notebook cells too).
#
# A rewrite only adds attributes that are missing, so a theme that fixes one upstream is left alone.
_SEARCH_DIALOG = re.compile(r'<div class="md-search" data-md-component="search" role="dialog"(?![^>]*aria-label)')
_SCROLLERS = re.compile(r'<div class="arithmatex"(?![^>]*tabindex)')
_SECTION_TOGGLE = re.compile(
    r'<span class="md-ellipsis">\s*(?P<title>[^<]+?)\s*</span>\s*</a>\s*'
    r'<label class="md-nav__link " for="(?P<id>__nav_[\d_]+)" id="(?P=id)_label"[^>]*>(?!<span class="llmarch-unseen">)'
)


def accessible(text: str) -> str:
    """``text`` with the missing accessible names and keyboard stops added."""
    text = _SEARCH_DIALOG.sub(lambda m: m[0] + ' aria-label="Search"', text)
    text = _SECTION_TOGGLE.sub(lambda m: f'{m[0]}<span class="llmarch-unseen">{m["title"]}</span>', text)
    return _SCROLLERS.sub(lambda m: m[0] + ' tabindex="0"', text)
