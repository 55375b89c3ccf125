"""The three seed answers: exactly what the notebook printed, imported by a re-runnable importer."""

import json
import re
from pathlib import Path

import pytest

from llmarch.llm import Recording, RecordingStore, request_key
from llmarch.llm.recordings import PACKAGE_RECORDINGS
from llmarch.llm.seed_import import HOW, decode_cut_literal, main, parse_seed
from llmarch.llm.site_prompts import collect

ROOT = Path(__file__).resolve().parents[1]
PRINTED_PREFIX = "ChatCompletionMessage(content='"


def seed_recordings() -> list[Recording]:
    found, errors = RecordingStore(PACKAGE_RECORDINGS).load_all()
    assert not errors
    return sorted(found.values(), key=lambda r: r.provenance["source"])


def printed_line(answer: str) -> str:
    """How the notebook printed a message holding ``answer``: its repr, single-quoted, uncut."""
    body = repr(answer + "'\"")[1:-4]  # a string holding both quotes is repr'd in '...' with \' escapes
    return PRINTED_PREFIX + body


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (r"it\'s\na \"q\" \\ done", 'it\'s\na "q" \\ done'),
        (r"tab\there", "tab\there"),
        (r"caf\xe9 \u2019 \U0001f600", "café ’ 😀"),
        ("you\\", "you"),  # cut right after the backslash
        (r"caf\xe", "caf"),  # cut inside \xNN
        (r"x\u20", "x"),  # cut inside \uNNNN
        (r"y\U0001f6", "y"),  # cut inside \UNNNNNNNN
        ("Here’s", "Here’s"),  # printable non-ASCII is printed as itself
    ],
)
def test_decode_cut_literal(body, text):
    assert decode_cut_literal(body, "'") == text


def test_decode_refuses_a_literal_that_was_not_cut():
    with pytest.raises(ValueError, match="closes at character 3"):
        decode_cut_literal("abc'", "'")
    with pytest.raises(ValueError, match="unknown escape"):
        decode_cut_literal(r"a\qb", "'")


def test_there_are_exactly_the_three_seed_recordings():
    recordings = seed_recordings()
    assert len(recordings) == 3 and len(list(PACKAGE_RECORDINGS.iterdir())) == 3
    for recording in recordings:
        provenance = recording.provenance
        assert provenance["provider"] == "Azure OpenAI"
        assert provenance["served_model"] == "gpt-4o" and provenance["deployment"] == "gpt-4o"
        assert provenance["how"] == HOW
        assert provenance["complete"] is False and provenance["when"] == "unknown"
        assert recording.request == {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": recording.prompt}],
            "params": {},
        }


def test_each_excerpt_is_exactly_the_1000_printed_characters():
    for recording in seed_recordings():
        line = printed_line(recording.answer)
        # Re-printed as the notebook did, an excerpt gives back a 1000-character line: nothing
        # was added, and only an incomplete escape at the cut (none here) could be missing.
        assert len(line) == 1000


def test_the_seed_prompts_are_the_sites_prompts():
    site = {request_key(p.request): p for p in collect(ROOT / "snippets")}
    for recording in seed_recordings():
        assert recording.key in site
    names = sorted(site[r.key].path.relative_to(ROOT).as_posix() for r in seed_recordings())
    assert names == [
        "snippets/comparison/ask_comparison.py",
        "snippets/components/ask_components.py",
        "snippets/transformers/ask_transformers.py",
    ]


def test_the_importer_reproduces_the_committed_files(tmp_path):
    # Rebuild a notebook export from the recordings, as the notebook printed them, and
    # re-import it: the files must come out byte for byte as committed.
    cells = []
    for recording in seed_recordings():
        cell = re.search(r"In \[(\d+)\]", recording.provenance["source"])[1]
        code = f"# Prompt\nprompt = (\n    {recording.prompt!r}\n)\n\nresponse = connector.get_completion(prompt)\n"
        cells.append(f"In [{cell}]:\n{code}\n{printed_line(recording.answer)}\n\n## Next heading\n")
    seed = tmp_path / "section3-llm-architectures.txt"
    seed.write_text("In [1]:\n%run ./utils_llm_connector.ipynb\n\n" + "\n".join(cells), encoding="utf-8")

    assert [a.prompt for a in parse_seed(seed.read_text())] == [r.prompt for r in seed_recordings()]
    out = tmp_path / "out"
    assert main([str(seed), "--out", str(out)]) == 0
    for committed in PACKAGE_RECORDINGS.glob("*.json"):
        assert (out / committed.name).read_bytes() == committed.read_bytes()
    assert main([str(seed), "--out", str(out)]) == 0  # re-runnable
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in PACKAGE_RECORDINGS.iterdir())

    configured = tmp_path / "configured"  # without --out: LLMARCH_RECORDINGS, as every other command
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LLMARCH_RECORDINGS", str(configured))
        assert main([str(seed)]) == 0
    assert sorted(p.name for p in configured.iterdir()) == sorted(p.name for p in out.iterdir())


def test_committed_files_are_stable_json():
    for path in PACKAGE_RECORDINGS.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
