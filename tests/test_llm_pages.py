"""Recorded answers on the pages: a labelled box of sanitised Markdown; a missing recording fails the build."""

import re
from pathlib import Path

import pytest
from llmarch_guide.answers import answer_box, render_answer
from sitetools import build, small_project

from llmarch.llm import Recording, canonical_request

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    "transformers.md": "transformers/ask_transformers.py",
    "components/index.md": "components/ask_components.py",
    "comparison.md": "comparison/ask_comparison.py",
}


# ---------------------------------------------------------------- untrusted model output
@pytest.mark.parametrize(
    "answer",
    [
        "<script>alert(1)</script>",
        "Look: <img src=x onerror=alert(1)>",
        '<div onmouseover="alert(1)">hover</div>',
        "[click me](javascript:alert(1))",
        "[click me](JaVaScRiPt:alert(1))",
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<a href='javascript:alert(1)' onclick='alert(2)'>x</a>",
        "![tracker](https://example.com/pixel.png)",
        "<style>body{display:none}</style><iframe src='https://example.com'></iframe>",
        '| a |\n|---|\n| <svg onload="alert(1)"> |',
    ],
)
def test_model_output_comes_out_inert(answer):
    out = render_answer(answer)
    assert not re.search(r"<(script|img|iframe|style|svg|div)\b", out, re.IGNORECASE)
    assert not re.search(r"\son\w+\s*=", _tags(out), re.IGNORECASE)
    assert not re.search(r"(javascript|data):", _tags(out), re.IGNORECASE)


def _tags(html: str) -> str:
    """Only the markup of ``html`` (text and escaped text removed)."""
    return " ".join(re.findall(r"<[^>]*>", html))


def test_raw_html_is_shown_as_text_not_dropped():
    assert render_answer("Use <b>bold</b> & <script>x</script>") == (
        "<p>Use &lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;</p>"
    )


def test_markdown_is_formatted():
    out = render_answer(
        "### Title\n\n**bold** and `code`\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n- x\n- y\n\n[ok](https://example.org)"
    )
    for piece in ("<h3>Title</h3>", "<strong>bold</strong>", "<code>code</code>", "<table>", "<li>x</li>"):
        assert piece in out
    assert '<th style="text-align:left">a</th>' in out
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">ok</a>' in out


def test_a_list_right_under_a_line_of_text_is_a_list():
    out = render_answer("**Analogy:**  \n   - **Spotlight:** a light\n   - a second\n\nText\n1. first\n2. second")
    assert "<li><strong>Spotlight:</strong> a light</li>" in out and "<li>first</li>" in out
    assert "- <strong>" not in out and "1. first" not in out
    assert render_answer("```\ntext\n- not a list\n```").count("<li>") == 0  # in a code block it stays as written


CUT = '<span class="llm-answer-cut">[the excerpt stops here, '


@pytest.mark.parametrize(
    ("excerpt", "expected"),
    [
        ("Some text\n\n- one\n- tw", f"<li>tw {CUT}partway through a line]</span></li>"),
        ("Intro\n\n| a | b |\n|---|--", f'<td colspan="2">{CUT}after the table\'s header row]</span></td>'),
        ("| a | b |\n|---|---|\n| 1 | 2 |\n| 3", f"<td>3 {CUT}partway through a row of the table]</span></td>"),
        ("Code:\n```python\nx = 1", f"<pre><code>x = 1\n</code></pre>\n<p>{CUT}inside a code block"),
        ("Done.\n", f"<p>Done.</p>\n<p>{CUT}at the end of a line]</span></p>"),
    ],
)
def test_an_excerpt_reads_as_cut(excerpt, expected):
    """What is complete is formatted; the place the recording stops is marked, inside the structure it cuts."""
    out = render_answer(excerpt, complete=False)
    assert expected in out, out
    assert out.count("llm-answer-cut") == 1 and "|" not in out.replace("</", "")


def test_the_cut_mark_cannot_come_from_the_model():
    out = render_answer("a \ue000 b", complete=False)
    assert out.count("llm-answer-cut") == 1 and "\ue000" not in out


# ---------------------------------------------------------------- the box
def test_the_box_labels_model_provider_when_excerpt_and_command():
    recording = Recording(
        canonical_request("gpt-4o", "q"),
        "An <b>answer</b>",
        {
            "provider": "Azure <OpenAI>",
            "deployment": "gpt-4o",
            "served_model": "gpt-4o",
            "when": "unknown",
            "how": "recorded from the source notebook, which printed only the first 1000 characters",
            "complete": False,
        },
    )
    box = answer_box("page/ask.py", recording, "../setup/")
    assert '<p class="admonition-title">Recorded answer from gpt-4o (excerpt)</p>' in box
    assert "<strong>Model:</strong> gpt-4o." in box
    assert "<strong>Provider:</strong> Azure &lt;OpenAI&gt;, deployment gpt-4o." in box
    assert "<strong>Recorded:</strong> unknown" in box
    assert "printed only the first 1000 characters" in box
    assert "<code>llmarch record --refresh snippets/page/ask.py</code>" in box and 'href="../setup/"' in box
    assert "An &lt;b&gt;answer&lt;/b&gt;" in box

    complete = Recording(recording.request, "x", {**recording.provenance, "complete": True, "served_model": "m-2"})
    box = answer_box("page/ask.py", complete, None)
    assert "(complete answer)" in box and "m-2 (asked for gpt-4o)" in box and "excerpt" not in box


def test_each_seed_prompt_is_on_its_page_with_its_box():
    for page, snippet in PAGES.items():
        text = (ROOT / "docs" / page).read_text()
        section = text[text.index("## Asking a model") :]
        include = section.index(f'--8<-- "{snippet}"')
        assert section.index(f"<!-- llm-answer: {snippet} -->") > include
        assert "connector.get_completion(prompt)" in (ROOT / "snippets" / snippet).read_text()


# ---------------------------------------------------------------- a real MkDocs build with the plugin
def _site_project(tmp: Path, drop_box: str = "") -> Path:
    """A small project of the three pages' "Asking a model" sections (without ``drop_box``'s box) and their snippets."""
    pages = {"index.md": "# Home\n", "setup.md": "# Setup\n"}
    for page in PAGES:
        text = (ROOT / "docs" / page).read_text()
        section = text[text.index("## Asking a model") :].split("\n## ")[0]
        pages[page] = f"# {page}\n\n{section}".replace(f"<!-- llm-answer: {drop_box} -->", "")
    snippets = {snippet: (ROOT / "snippets" / snippet).read_text() for snippet in PAGES.values()}
    return small_project(tmp / "project", pages, snippets)


def test_the_three_answers_render_on_their_pages(tmp_path):
    proc = build(_site_project(tmp_path), tmp_path / "site")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    starts = {
        "transformers": "Sure! Transformers and the attention mechanism",
        "components": "The Transformer architecture is a powerful framework",
        "comparison": "Below is a detailed comparison between Transformers, RNNs, and LSTMs",
    }
    for name, start in starts.items():
        page = (tmp_path / "site" / name / "index.html").read_text()
        assert "<!-- llm-answer" not in page
        box = page[page.index('<div class="admonition quote llm-answer"') :]
        assert "Recorded answer from gpt-4o (excerpt)" in box
        assert start in box
        assert "llmarch record --refresh snippets/" in box and 'href="../setup/"' in box
        assert box.count("the excerpt stops here") == 1  # where the recording stops, inside the box
        assert "|--" not in box and "- <strong>" not in box  # no Markdown left as text
    page = (tmp_path / "site" / "transformers" / "index.html").read_text()
    assert "<h3><strong>What is a Transformer?</strong></h3>" in page  # formatted, not raw Markdown
    page = (tmp_path / "site" / "comparison" / "index.html").read_text()  # it stops in the table's header
    assert "<th><strong>Real-World Analogy</strong></th>" in page and "after the table's header row" in page
    page = (tmp_path / "site" / "components" / "index.html").read_text()  # and in a bullet
    assert "<li><strong>Spotlight at a concert:</strong>" in page


def test_a_prompt_with_no_recording_and_an_answer_not_shown_fail_the_strict_build(tmp_path):
    empty = tmp_path / "no-recordings"
    empty.mkdir()
    project = _site_project(tmp_path, drop_box="comparison/ask_comparison.py")
    proc = build(project, tmp_path / "site", env={"LLMARCH_RECORDINGS": str(empty)})
    assert proc.returncode != 0
    log = proc.stdout + proc.stderr
    assert "snippets/transformers/ask_transformers.py asks a prompt with no recording" in log
    assert "llmarch record snippets/transformers/ask_transformers.py" in log
    assert "snippets/comparison/ask_comparison.py asks a model, but no page shows its answer" in log
