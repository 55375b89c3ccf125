"""Import the answers the source notebook printed as recordings (re-runnable, byte-identical).

    python -m llmarch.llm.seed_import ../shared/seed/section3-llm-architectures.txt [--out DIR]

The notebook asked gpt-4o (an Azure OpenAI deployment named ``gpt-4o``) three questions and
printed each SDK message object, whose output was cut at 1000 characters::

    ChatCompletionMessage(content='Sure! Transformers and ... Imagine you\\'re

For each code cell that assigns ``prompt = (...)`` and printed such a line, this reads the
prompt from the cell's code, decodes the Python string-literal escapes of exactly the
printed characters (a cut that falls inside an escape drops that incomplete escape; no
character is added) and writes a recording marked incomplete. The notebook gives no date,
so ``when`` is ``"unknown"``. Nothing else is ever written as an answer.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from llmarch.llm.recordings import Recording, RecordingStore, canonical_request, first_line

PREFIX = re.compile(r"^ChatCompletionMessage\(content=(?P<quote>['\"])")
CELL = re.compile(r"^In \[(?P<n>\d+)\]:\s*$")
MODEL = "gpt-4o"
HOW = "recorded from the source notebook, which printed only the first 1000 characters"
NOTE = (
    "The notebook printed only the message, not the whole response: the date, the exact model version "
    "and the sampling parameters are not known."
)
_SIMPLE_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


@dataclass(frozen=True)
class SeedAnswer:
    cell: int
    prompt: str
    excerpt: str


def decode_cut_literal(body: str, quote: str) -> str:
    """The text of a Python string literal's body that was cut off before its closing quote."""
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == quote:
            raise ValueError(f"the string literal closes at character {i}: this is not a cut-off excerpt")
        if char != "\\":
            out.append(char)
            i += 1
            continue
        if i + 1 == len(body):
            break  # cut right after a backslash
        kind = body[i + 1]
        if kind in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[kind])
            i += 2
        elif kind in _HEX_ESCAPES:
            digits = body[i + 2 : i + 2 + _HEX_ESCAPES[kind]]
            if len(digits) < _HEX_ESCAPES[kind]:
                break  # cut inside the escape
            out.append(chr(int(digits, 16)))
            i += 2 + _HEX_ESCAPES[kind]
        else:
            raise ValueError(f"unknown escape \\{kind} at character {i}")
    return "".join(out)


def _prompt_of(code: str) -> str | None:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["prompt"]
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    return None


def parse_seed(text: str) -> list[SeedAnswer]:
    """Each (prompt, printed excerpt) of the notebook export ``text``, in order."""
    answers: list[SeedAnswer] = []
    cell: int | None = None
    code: list[str] = []
    for line in text.split("\n"):
        if match := CELL.match(line):
            cell, code = int(match["n"]), []
        elif cell is not None and (match := PREFIX.match(line)):
            prompt = _prompt_of("\n".join(code))
            if prompt is None:
                raise ValueError(f"cell In [{cell}] printed an answer but assigns no prompt = '...'")
            answers.append(SeedAnswer(cell, prompt, decode_cut_literal(line[match.end() :], match["quote"])))
            cell = None
        elif cell is not None:
            code.append(line)
    return answers


def seed_recording(answer: SeedAnswer, source_name: str) -> Recording:
    return Recording(
        request=canonical_request(MODEL, answer.prompt),
        answer=answer.excerpt,
        provenance={
            "provider": "Azure OpenAI",
            "deployment": MODEL,
            "served_model": MODEL,
            "when": "unknown",
            "how": HOW,
            "complete": False,
            "source": f"{source_name}, cell In [{answer.cell}]",
            "note": NOTE,
        },
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("seed", type=Path, help="the notebook export (seed/section3-llm-architectures.txt)")
    parser.add_argument(
        "--out", type=Path, help="recordings folder (default: LLMARCH_RECORDINGS if set, else the package's)"
    )
    args = parser.parse_args(argv)
    answers = parse_seed(args.seed.read_text(encoding="utf-8"))
    if not answers:
        print(f"{args.seed}: no printed answers found", file=sys.stderr)
        return 1
    store = RecordingStore(args.out)
    for answer in answers:
        path = store.put(seed_recording(answer, args.seed.name))
        print(f"{path}: In [{answer.cell}] {first_line(answer.prompt, 60)!r} ({len(answer.excerpt)} characters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
