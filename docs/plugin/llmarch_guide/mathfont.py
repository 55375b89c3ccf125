"""The site's math font: Noto Sans Math, cut at build time to the glyphs the pages' formulas use.

Browsers lay out MathML with the OpenType MATH table of the formula's font: stretchy brackets,
radicals and large operators come from it, so a page without a math font gets text-sized sums
and unstretched parentheses. The font comes from the npm package ``@fontsource/noto-sans-math``
(``docs/plugin/package.json``; ``make setup`` installs it, it is never committed) and the site
serves it itself. A sans math font, because the theme's text is sans: one family for the
letters of a formula and of the sentence around it. The whole font is 256 kB; cut by fontTools'
subsetter to the characters of the site's formulas (and the size variants and parts that the
MATH table builds stretched forms from, which the subsetter keeps), it is about 22 kB, which
every page with math downloads once.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

PACKAGE = "@fontsource/noto-sans-math"
FILE = "noto-sans-math-latin-400-normal"  # "latin" is the package's name for the whole font: the MATH table and all
# The WOFF (zlib) file of the package, not its WOFF2: fontTools reads and writes WOFF without a
# Brotli module, and at this size the two differ by a few kB.
SOURCE = Path(__file__).resolve().parents[1] / "node_modules" / PACKAGE / "files" / f"{FILE}.woff"
URI = "assets/fonts/noto-sans-math.woff"  # extra.css's @font-face points here
FAMILY = "Noto Sans Math"

_MATH = re.compile(r"<math\b.*?</math>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_RADICAL = re.compile(r"<m(?:sqrt|root)\b")
_MI = re.compile(r"<mi>([^<]+)</mi>")  # an identifier without mathvariant: in italic if it is one letter

# A one-letter <mi> is drawn with the Mathematical Italic character of its letter (MathML Core's
# ``text-transform: math-auto``), so those glyphs are needed as well as the letters themselves.
_ITALIC = {chr(0x41 + i): chr(0x1D434 + i) for i in range(26)}
_ITALIC |= {chr(0x61 + i): chr(0x1D44E + i) for i in range(26)} | {"h": "\u210e"}
_ITALIC |= {chr(0x391 + i): chr(0x1D6E2 + i) for i in range(25)}
_ITALIC |= {chr(0x3B1 + i): chr(0x1D6FC + i) for i in range(25)}
_ITALIC |= {c: chr(0x1D716 + i) for i, c in enumerate("ϵϑϰϕϱϖ")} | {"∇": "\U0001d6fb", "∂": "\U0001d715"}
_ITALIC |= {"ı": "\U0001d6a4", "ȷ": "\U0001d6a5"}


def characters(text: str) -> set[str]:
    """Every character the MathML in the HTML ``text`` shows, italic forms of one-letter identifiers included."""
    found: set[str] = set()
    for math in _MATH.findall(text):
        found |= set(html.unescape(_TAG.sub("", math)))
        found |= {_ITALIC[c] for c in map(html.unescape, _MI.findall(math)) if c in _ITALIC}  # α is &#x003B1;
        if _RADICAL.search(math):  # the browser draws a root with the font's √ (and its sizes), not in the text
            found.add("\u221a")
    return found - {"\n", "\t", "\r"}


class MissingFont(FileNotFoundError):
    """The package's font file is not installed (``make setup`` installs it)."""


def missing(shown: str) -> str:
    """What a build without the font file (``shown`` as the message names it) says."""
    return (
        f"the pages have math, but the math font {shown} is missing: `make setup` installs it "
        f"(npm ci --prefix docs/plugin, the package {PACKAGE})"
    )


def cut(source: Path, chars: set[str]) -> bytes:
    """The font at ``source`` with only what ``chars`` need (as WOFF); :class:`MissingFont` if it is not there."""
    if not source.is_file():
        raise MissingFont(missing(str(source)))
    options = subset.Options()
    options.layout_features = ["*"]  # ssty (primes and scripts), the MATH table's variants are kept
    options.name_IDs = ["*"]  # the licence and the font's names stay in the file
    options.notdef_outline = True
    options.flavor = "woff"
    font = TTFont(source, recalcTimestamp=False)  # the same bytes every build
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes={ord(c) for c in chars})
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
