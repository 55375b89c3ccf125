"""Every figure links to itself, so a reader can open it full size (on a phone, a wide figure is tiny).

A plain link rather than a lightbox plugin: it costs no script and no stylesheet (the heaviest
pages are near the 1 MB budget), and the browser's own image view zooms an SVG sharply.
"""

from __future__ import annotations

import re
from typing import Any

# A figure the snippets drew, and the link it may already be in (then it is left alone).
_FIGURE = re.compile(
    r"""(?P<link><a\b[^>]*>\s*)?"""
    r"""(?P<img><img\b[^>]*\bsrc=(["'])(?P<src>(?:\.\./)*figures/[^"']+)\3[^>]*>)"""
)


def link_figures(html: str) -> str:
    """``html`` with each figure image that is not in a link wrapped in a link to the image."""

    def wrap(m: re.Match[str]) -> str:
        return m[0] if m["link"] else f'<a class="llmarch-figure" href="{m["src"]}">{m["img"]}</a>'

    return _FIGURE.sub(wrap, html)


def on_page_content(html: str, **_: Any) -> str:
    return link_figures(html)
