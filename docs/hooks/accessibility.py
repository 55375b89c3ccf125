"""Accessibility fixes to the built HTML that neither the theme's configuration nor CSS can make.

Each one answers a rule of axe-core, which the browser tests (``tests/browser/``) run on every
page in both colour schemes:

* ``aria-dialog-name``: Material's search overlay has ``role="dialog"`` but no name; it gets
  ``aria-label="Search"``.
* ``landmark-unique``: the sub-navigation of a section with an index page is labelled by an
  icon-only toggle, so all such sections had one empty name; the toggle gets the section's title.
* ``scrollable-region-focusable``: a wide display formula (``div.arithmatex``, which scrolls
  sideways, see ``docs/stylesheets/extra.css``) must be reachable by keyboard to be scrolled;
  it gets ``tabindex="0"``. Material does the same for its own code blocks (notebook cells too).

A rewrite only adds attributes that are missing, so a theme that fixes one upstream is left alone.
"""

from __future__ import annotations

import re
from typing import Any

_SEARCH_DIALOG = re.compile(r'<div class="md-search" data-md-component="search" role="dialog"(?![^>]*aria-label)')
_SCROLLERS = re.compile(r'<div class="arithmatex"(?![^>]*tabindex)')
# A nav section with an index page: its sub-navigation is labelled by the toggle beside the
# section's link, which holds only an icon, so every such section had the same (empty) name.
_SECTION_TOGGLE = re.compile(
    r'<span class="md-ellipsis">\s*(?P<title>[^<]+?)\s*</span>\s*</a>\s*'
    r'<label class="md-nav__link " for="(?P<id>__nav_[\d_]+)" id="(?P=id)_label"(?![^>]*aria-label)'
)


def fix(html: str) -> str:
    """``html`` with the missing accessible names and keyboard stops added."""
    html = _SEARCH_DIALOG.sub(lambda m: m[0] + ' aria-label="Search"', html)
    html = _SECTION_TOGGLE.sub(lambda m: f'{m[0]} aria-label="{m["title"]}"', html)
    return _SCROLLERS.sub(lambda m: m[0] + ' tabindex="0"', html)


def on_post_page(output: str, page: Any, config: Any) -> str:
    return fix(output)


def on_post_template(output_content: str, template_name: str, config: Any) -> str:
    """The theme's static pages, such as 404.html, are not pages to MkDocs: fix them too."""
    return fix(output_content) if template_name.endswith(".html") else output_content
