"""Math on the pages: MathML laid out with the site's math font (Noto Sans Math from npm, cut at
build time to what the formulas show), and no LaTeX delimiter left as text."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from llmarch_guide import markup, mathfont

FORMULA = r"\mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right) \sum_{i=1}^{n} \alpha_i \lVert x \rVert"


def font_file(data: bytes) -> TTFont:
    return TTFont(io.BytesIO(data))


def variants(font: TTFont, char: str) -> set[str]:
    """The glyphs the MATH table builds a stretched ``char`` from: its size variants and its parts."""
    glyph = font.getBestCmap()[ord(char)]
    found = set()
    for table in (font["MATH"].table.MathVariants,):
        for coverage, constructions in (
            (table.VertGlyphCoverage, table.VertGlyphConstruction),
            (table.HorizGlyphCoverage, table.HorizGlyphConstruction),
        ):
            if coverage is None or glyph not in coverage.glyphs:
                continue
            construction = constructions[coverage.glyphs.index(glyph)]
            found |= {v.VariantGlyph for v in construction.MathGlyphVariantRecord}
            if construction.GlyphAssembly is not None:
                found |= {part.glyph for part in construction.GlyphAssembly.PartRecords}
    return found - {glyph}


def test_the_characters_of_a_formula_include_the_italic_letters_it_shows():
    chars = mathfont.characters(markup.to_mathml(FORMULA, display=True))
    assert {"Q", "K", "d", "k", "(", "√", "∑", "\u2016"} <= chars  # √: the browser draws msqrt with it
    assert {"\U0001d444", "\U0001d43e", "\U0001d451", "\U0001d6fc"} <= chars  # italic Q, K, d and α
    assert "\U0001d460" not in chars  # s of softmax is upright text, not a letter of its own


@pytest.fixture(scope="module")
def cut() -> TTFont:
    if not mathfont.SOURCE.is_file():
        pytest.fail(mathfont.missing(str(mathfont.SOURCE)))
    chars = mathfont.characters(markup.to_mathml(FORMULA, display=True))
    return font_file(mathfont.cut(mathfont.SOURCE, chars))


def test_the_cut_font_keeps_the_math_table_and_what_stretches(cut):
    whole = TTFont(mathfont.SOURCE)
    assert "MATH" in cut and len(cut.getGlyphOrder()) < len(whole.getGlyphOrder()) / 10
    glyphs = set(cut.getGlyphOrder())
    for char in "(√∑":  # parentheses and radicals grow to their contents, a display sum gets its large size
        assert variants(cut, char), f"{char!r}: no size variants or parts in the cut font"
        assert variants(cut, char) <= glyphs
        assert len(variants(cut, char)) == len(variants(whole, char))  # every size and part of it
    cmap = cut.getBestCmap()
    assert all(ord(c) in cmap for c in "\U0001d444\U0001d43e\U0001d451\U0001d6fc")  # the italic letters
    assert 0x1D44F not in cmap  # italic b: no formula here shows it


def test_a_build_without_the_font_says_how_to_install_it(tmp_path: Path):
    with pytest.raises(mathfont.MissingFont, match=r"math font .*missing: `make setup` installs it \(npm ci"):
        mathfont.cut(tmp_path / "none.woff", {"x"})


def test_the_site_serves_the_font_with_every_character_its_formulas_show(site: Path):
    font = TTFont(site / mathfont.URI)
    cmap = font.getBestCmap()
    shown = set()
    for page in site.rglob("*.html"):
        shown |= mathfont.characters(page.read_text(encoding="utf-8"))
    whole = TTFont(mathfont.SOURCE).getBestCmap()
    missing = sorted(c for c in shown if ord(c) in whole and ord(c) not in cmap)
    assert not missing, f"the cut math font lacks {missing}"
    # What Noto Sans Math has no glyph for is drawn from the text font: only the macron of \bar.
    assert {c for c in shown if ord(c) not in whole and not c.isspace()} <= {"\u00af"}
    assert "MATH" in font and font.flavor == "woff"
    css = (site / "stylesheets" / "extra.css").read_text(encoding="utf-8")
    assert re.search(r'url\("\.\./' + re.escape(mathfont.URI) + r'"\)', css)


def test_two_display_formulas_in_a_row_are_two_blocks():
    # In a docstring, $$a$$ on one line and $$b$$ on the next reach the math stage as one: a$$ $$b.
    out = markup.typeset('<div class="arithmatex">\\[a = 1$$\n$$b = 2\\]</div>', [])
    assert out.count('<div class="arithmatex"><math') == 2 and "$" not in out


def test_the_left_side_of_an_aligned_equation_is_one_formula():
    out = markup.to_mathml(r"\begin{align*} a + b &= c \\ \begin{cases} x \end{cases} &= y \end{align*}", True)
    assert out.count('<mtd columnalign="right"><mrow>') == 2  # laid out right to left, it keeps its order
    assert "<mrow><mi>a</mi><mo>&#x0002B;</mo><mi>b</mi></mrow></mtd>" in out


# Text of an article, without code, formulas and tags: what a reader reads as prose.
_NOT_PROSE = re.compile(r"<(pre|code|script|style|math|textarea)\b.*?</\1>", re.DOTALL)
_ARTICLE = re.compile(r"<article\b.*?</article>", re.DOTALL)


def test_no_latex_delimiter_reaches_a_page(site: Path):
    """No ``$``, ``$$`` or ``\\(`` is left as text: every formula of the pages and docstrings is typeset."""
    problems = {}
    for page in sorted(site.rglob("*.html")):
        for article in _ARTICLE.findall(page.read_text(encoding="utf-8")):
            prose = re.sub(r"<[^>]+>", "", _NOT_PROSE.sub("", article))
            found = [prose[max(0, m.start() - 40) : m.end() + 20] for m in re.finditer(r"\$|\\[(\[]", prose)]
            if found:
                problems[page.relative_to(site).as_posix()] = found
    assert not problems, problems
