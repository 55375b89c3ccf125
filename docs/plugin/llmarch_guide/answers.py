"""Show a snippet's recorded LLM answer on its page: sanitised Markdown in a labelled box.

Page syntax, on a line of its own (usually right under the snippet's include)::

    <!-- llm-answer: transformers/ask_transformers.py -->

The path is relative to ``snippets/``, as in the include. The prompt is read from the
snippet's source (``llmarch.llm.site_prompts``), its recording is looked up in
``LLMARCH_RECORDINGS`` or the package's recordings (:func:`look_up`), and the plugin replaces
the marker by a box naming the model, the provider, when it was recorded, whether the text is
complete or an excerpt, and the ``llmarch record`` command that records a full answer.

The strict build fails when a marker's snippet asks no prompt or more than one, when its prompt
has no recording or the recording is damaged, and when a snippet that asks a model has no box
on any page (``plugin.py`` logs the errors :func:`look_up` and :func:`asks_a_model` return).

Model output is untrusted. The answer is rendered as Markdown with raw HTML turned off, so
tags the model wrote show as text, and the result is then cleaned by nh3 (ammonia) with a
small allow-list: no scripts, no event-handler or style attributes (beyond text-align in
tables), no images (they would load from another host), links only to http(s) and mailto.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import markdown
import nh3

from llmarch.llm.errors import LLMError
from llmarch.llm.recordings import Recording, RecordingStore, request_key
from llmarch.llm.site_prompts import SitePrompt, prompts_in_file

MARKER = re.compile(r"<!--\s*llm-answer:\s*(?P<path>[^\s>]+)\s*-->")

ALLOWED_TAGS = {
    *("p", "br", "hr", "blockquote", "pre", "code", "strong", "em", "b", "i", "del", "sub", "sup"),
    *("h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd"),
    *("table", "thead", "tbody", "tr", "th", "td", "a"),
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
URL_SCHEMES = {"http", "https", "mailto"}


# A list right under a line of text, as chat models write it ("**Analogy:**" then "- ..."), is a
# list in GitHub's Markdown; Python-Markdown wants a blank line before it, else the "- " is text.
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_TABLE_ROW = re.compile(r"^\s*\|")
_DELIMITER_ROW = re.compile(r"^\s*\|?[\s:|-]*$")
# Stands for the cut mark until the HTML is clean (then it becomes the mark's HTML); removed from
# the model's text first, so nothing the model wrote can become one.
_CUT = "\ue000"
_CUT_ROW = re.compile(_CUT.join([r"<td>", r"</td>(?:\s*<td></td>)*"]))  # the cut mark's row of a table
CUT_MARK = '<span class="llm-answer-cut">[the excerpt stops here]</span>'


def _blank_line_before_lists(text: str) -> str:
    lines, fenced = [], False
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and _LIST_ITEM.match(line) and lines and lines[-1].strip() and not _LIST_ITEM.match(lines[-1]):
            if not lines[-1].startswith((" ", "\t")) or not _in_list(lines):
                lines.append("")
        lines.append(line)
    return "\n".join(lines)


def _in_list(lines: list[str]) -> bool:
    """Whether the last of ``lines`` continues a list item (an indented line under one, no blank line between)."""
    for line in reversed(lines):
        if not line.strip():
            return False
        if _LIST_ITEM.match(line):
            return True
    return False


def cut_excerpt(text: str) -> tuple[str, str]:
    """An excerpt that stops partway, as Markdown that renders what is complete and marks the cut.

    Returns the Markdown, with ``_CUT`` where the mark goes, and where the cut is, in words. The
    last line of an excerpt is the partial one: in a paragraph, a heading or a list item the mark
    follows its last word (in a table's row too); a table cut in its row of dashes, which holds no
    text, gets that row from its header, and the mark is its one row;
    in an unclosed code block, the block is closed and the mark follows it.
    """
    text = text.replace(_CUT, "")
    head, _, last = text.rpartition("\n") if "\n" in text else ("", "", text)
    if text.count("```") % 2:
        return f"{text}\n```\n\n{_CUT}", "inside a code block"
    table = []
    for line in reversed(head.split("\n")):
        if not _TABLE_ROW.match(line):
            break
        table.insert(0, line)
    if len(table) == 1 and _DELIMITER_ROW.match(last):  # a header, then part of the row of dashes
        columns = table[0].strip().strip("|").count("|") + 1
        return f"{head}\n|{'---|' * columns}\n|{_CUT}|{'|' * (columns - 1)}", "after the table's header row"
    if len(table) >= 2 and last.strip() and _TABLE_ROW.match(last):
        return f"{text.rstrip()} {_CUT}", "partway through a row of the table"
    if not last.strip():
        return f"{text.rstrip()}\n\n{_CUT}", "at the end of a line"
    return f"{head}\n{last.rstrip()} {_CUT}", "partway through a line"


def render_answer(text: str, *, complete: bool = True) -> str:
    """An answer's Markdown as safe HTML: raw HTML is escaped, then everything is allow-listed.

    An excerpt (``complete=False``) stops where its recording stops: :func:`cut_excerpt` marks the place.
    """
    where = None
    if not complete:
        text, where = cut_excerpt(text)
    md = markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
    md.preprocessors.deregister("html_block")  # raw HTML blocks become text
    md.inlinePatterns.deregister("html")  # and so do inline tags
    clean = nh3.clean(
        md.convert(_blank_line_before_lists(text)),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        filter_style_properties={"text-align"},
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
    if where is None:
        return clean
    mark = CUT_MARK.replace("here", f"here, {where}")
    clean = _CUT_ROW.sub(lambda m: f'<td colspan="{m[0].count("<td")}">{mark}</td>', clean)  # one cell across
    return clean.replace(_CUT, mark)


def _record_command(snippet: str, refresh: bool) -> str:
    return f"llmarch record{' --refresh' if refresh else ''} snippets/{snippet}"


def _setup_link(setup_href: str | None) -> str:
    return f' (see <a href="{html.escape(setup_href)}">Setup</a>)' if setup_href else ""


def answer_box(snippet: str, recording: Recording, setup_href: str | None = None) -> str:
    """The box for a recorded answer of the prompt in ``snippets/<snippet>``."""
    p = recording.provenance
    e = html.escape
    asked = recording.request["model"]
    served = p.get("served_model") or asked
    model = e(served) if served == asked else f"{e(served)} (asked for {e(asked)})"
    provider = e(p["provider"]) + (f", deployment {e(p['deployment'])}" if p.get("deployment") else "")
    when = "unknown: the source does not say" if p["when"] == "unknown" else e(p["when"])
    if recording.complete:
        kind, status = "complete answer", "Complete answer"
        more = f"To record it afresh: <code>{e(_record_command(snippet, True))}</code>{_setup_link(setup_href)}."
    else:
        kind, status = "excerpt", f"Excerpt: {e(p['how'])}"
        more = (
            "A maintainer with credentials records the full answer with "
            f"<code>{e(_record_command(snippet, True))}</code>{_setup_link(setup_href)}."
        )
    note = f"<br>{e(p['note'])}" if p.get("note") else ""
    return (
        f'<div class="admonition quote llm-answer" data-llm-key="{recording.key}">\n'
        f'<p class="admonition-title">Recorded answer from {e(served)} ({kind})</p>\n'
        f'<p class="llm-answer-meta"><strong>Model:</strong> {model}. <strong>Provider:</strong> {provider}. '
        f"<strong>Recorded:</strong> {when}. <strong>{status}.</strong>{note}</p>\n"
        f'<div class="llm-answer-body">\n{render_answer(recording.answer, complete=recording.complete)}\n</div>\n'
        f'<p class="llm-answer-more">{more}</p>\n'
        "</div>"
    )


def missing_box(snippet: str, prompt: SitePrompt, setup_href: str | None = None) -> str:
    """The box for a prompt that has no recording yet (the strict build also fails)."""
    command = html.escape(_record_command(snippet, False))
    return (
        '<div class="admonition warning llm-answer">\n'
        '<p class="admonition-title">Answer not yet recorded</p>\n'
        f"<p>No answer to this prompt ({html.escape(prompt.model)}) has been recorded yet. A maintainer with "
        f"credentials records it with <code>{command}</code>{_setup_link(setup_href)}.</p>\n"
        "</div>"
    )


@dataclass
class Answer:
    """What a marker shows: the snippet's prompt and its recording (None: not recorded yet)."""

    snippet: str
    prompt: SitePrompt
    recording: Recording | None

    def box(self, setup_href: str | None) -> str:
        if self.recording is None:
            return missing_box(self.snippet, self.prompt, setup_href)
        return answer_box(self.snippet, self.recording, setup_href)


def look_up(snippet: str, path: Path) -> tuple[Answer | None, str | None]:
    """The answer a marker for ``snippet`` (at ``path``) shows, and the error to report, if any."""
    try:
        prompts = prompts_in_file(path) if path.is_file() else None
    except (LLMError, SyntaxError) as exc:
        return None, f"llm-answer {snippet}: {exc}"
    if not prompts or len(prompts) != 1:
        return None, f"llm-answer {snippet}: needs a snippet in snippets/ that asks exactly one prompt"
    store = RecordingStore()
    try:
        recording = store.get(prompts[0].request)
    except LLMError as exc:
        return Answer(snippet, prompts[0], None), f"llm-answer {snippet}: {exc}"
    if recording is None:
        return Answer(snippet, prompts[0], None), (
            f"snippets/{snippet} asks a prompt with no recording (key {request_key(prompts[0].request)}) "
            f"in {store.directory}: record it with `{_record_command(snippet, False)}`"
        )
    return Answer(snippet, prompts[0], recording), None


def asks_a_model(path: Path) -> tuple[bool, str | None]:
    """Whether the snippet at ``path`` asks a model (then a page must show its answer), and any error."""
    try:
        return bool(prompts_in_file(path)), None
    except (LLMError, SyntaxError) as exc:
        return False, str(exc)
