"""Typeset LaTeX as MathML while the site builds, so pages need no JavaScript or CDN to show math.

``pymdownx.arithmatex`` (generic mode) wraps each formula as ``\\(...\\)`` in a
``span.arithmatex`` or ``\\[...\\]`` in a ``div.arithmatex``; this hook replaces each wrapper
with the MathML that latex2mathml produces. Browsers render MathML Core natively.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from latex2mathml.converter import convert

log = logging.getLogger("mkdocs.hooks.mathml")

_MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<block>.*?)\\\])\s*</(?P=tag)>',
    re.DOTALL,
)


def to_mathml(latex: str, display: bool) -> str:
    """One formula as MathML; ``display`` for a centred block."""
    return convert(latex.strip(), display="block" if display else "inline")


def render(text: str, where: str = "") -> str:
    """Replace every arithmatex wrapper in ``text`` with MathML; log an error for bad LaTeX."""

    def replace(match: re.Match[str]) -> str:
        display = match["block"] is not None
        latex = html.unescape(match["block"] if display else match["inline"])
        try:
            mathml = to_mathml(latex, display)
        except Exception as exc:  # latex2mathml raises many types; all mean "cannot typeset"
            log.error(f"{where}: cannot typeset {latex!r}: {exc}")
            return match[0]
        return f'<div class="arithmatex">{mathml}</div>' if display else f'<span class="arithmatex">{mathml}</span>'

    return _MATH.sub(replace, text)


def on_page_content(html_text: str, page: Any, **_: Any) -> str:
    return render(html_text, page.file.src_uri)
