"""The `llmarch` console script: check, ask, record, recordings verify; errors without tracebacks."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fake_openai import NO_NETWORK_SITECUSTOMIZE, PROVIDER_VARS, PROXY_VARS, FakeOpenAI, answer_for, loopback_only

from llmarch.llm import RecordingStore, SitePromptError, canonical_request, request_key
from llmarch.llm.recordings import PACKAGE_RECORDINGS
from llmarch.llm.site_prompts import prompts_in_source

ROOT = Path(__file__).resolve().parents[1]
LLMARCH = Path(sys.executable).with_name("llmarch")
SEED_PROMPT = (
    "Explain how transformers and the attention mechanism work in Large Language Models. "
    "Provide 5 real-world analogies to make it simple for non-technical readers."
)
KEY = "sk-cli-test-key-987654321"


@pytest.fixture(autouse=True)
def _loopback(monkeypatch):
    loopback_only(monkeypatch)


def run(*args, cwd=ROOT, pythonpath=None, **env):
    """Run the installed `llmarch` script with no credentials or proxies, plus ``env``."""
    base = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARS and k not in PROXY_VARS}
    base.update({"NO_PROXY": "127.0.0.1,localhost", **env})
    if pythonpath:
        base["PYTHONPATH"] = os.pathsep.join([str(pythonpath), base.get("PYTHONPATH", "")])
    return subprocess.run([str(LLMARCH), *args], cwd=cwd, env=base, capture_output=True, text=True, timeout=120)


def assert_clean_failure(proc):
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("llmarch: error: ")


@pytest.fixture
def server():
    with FakeOpenAI() as fake:
        yield fake


def snippet(folder: Path, name: str, prompt: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"from llmarch.llm import LLMConnector\n\nprompt = {prompt!r}\n\n"
        "connector = LLMConnector()\nprint(connector.get_completion(prompt))\n"
    )
    return path


# ---------------------------------------------------------------- ask
def test_ask_a_seed_prompt_without_credentials_prints_the_recorded_excerpt():
    proc = run("ask", SEED_PROMPT)
    assert proc.returncode == 0, proc.stderr
    recording = RecordingStore(PACKAGE_RECORDINGS).get(canonical_request("gpt-4o", SEED_PROMPT))
    assert proc.stdout == recording.answer + "\n"
    assert "excerpt" in proc.stderr and "llmarch record --refresh" in proc.stderr


def test_replay_of_something_new_fails_with_the_clear_message():
    proc = run("ask", "something new", LLMARCH_LLM_MODE="replay")
    assert_clean_failure(proc)
    assert 'no recorded answer for the prompt "something new"' in proc.stderr
    assert request_key(canonical_request("gpt-4o", "something new")) in proc.stderr
    assert "LLMARCH_LLM_MODE=record llmarch ask 'something new'" in proc.stderr


def test_record_from_a_local_server_then_replay_with_the_network_off(server, tmp_path):
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    live = dict(LLMARCH_RECORDINGS=str(recordings), OPENAI_BASE_URL=f"{server.url}/v1")
    proc = run("ask", "What is a KV cache?", LLMARCH_LLM_MODE="record", **live)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == answer_for("What is a KV cache?") + "\n"
    assert len(list(recordings.glob("*.json"))) == 1 and len(server.requests) == 1

    offline = tmp_path / "offline"
    offline.mkdir()
    (offline / "sitecustomize.py").write_text(NO_NETWORK_SITECUSTOMIZE)
    for mode in ("replay", "auto"):
        proc = run(
            "ask", "What is a KV cache?", LLMARCH_LLM_MODE=mode, LLMARCH_RECORDINGS=str(recordings), pythonpath=offline
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == answer_for("What is a KV cache?") + "\n"
    assert len(server.requests) == 1
    # and a child started that way really has no network, not even to the local server
    port = server.url.rsplit(":", 1)[1]
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}))"
    env = {**os.environ, "PYTHONPATH": str(offline)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "network unavailable (sitecustomize)" in proc.stderr


def test_a_tampered_file_is_an_error_naming_it(tmp_path):
    for source in PACKAGE_RECORDINGS.glob("*.json"):
        data = json.loads(source.read_text())
        data["answer"] += " (improved by hand)"
        (tmp_path / source.name).write_text(json.dumps(data))
    proc = run("ask", SEED_PROMPT, LLMARCH_RECORDINGS=str(tmp_path))
    assert_clean_failure(proc)
    assert str(tmp_path) in proc.stderr and "checksum mismatch" in proc.stderr


def test_a_bad_mode_is_reported_without_traceback():
    proc = run("ask", "x", LLMARCH_LLM_MODE="bogus")
    assert_clean_failure(proc)


# ---------------------------------------------------------------- check
def test_check_without_credentials_prints_what_the_setup_page_shows():
    proc = run("check", cwd=Path("/"))
    assert proc.returncode == 0, proc.stderr
    page = (ROOT / "docs" / "setup.md").read_text()
    shown = re.search(r"```text\n(LLM configuration check\n.*?)```", page, re.DOTALL)[1]
    assert proc.stdout.replace(str(PACKAGE_RECORDINGS), ".../llmarch/llm/recordings") == shown


def test_check_names_credentials_but_never_their_values_and_pings(server):
    env = dict(
        AZURE_OPENAI_API_KEY=KEY,
        AZURE_OPENAI_ENDPOINT=server.url,
        OPENAI_API_VERSION="2024-10-21",
        LLMARCH_LLM_MODE="replay",
    )
    proc = run("check", "--ping", **env)
    assert proc.returncode == 0, proc.stderr
    assert "AZURE_OPENAI_API_KEY     found" in proc.stdout
    assert "provider    Azure OpenAI (deployment gpt-4o)" in proc.stdout
    assert "mode        replay (from LLMARCH_LLM_MODE)" in proc.stdout
    assert "ping        Azure OpenAI answered in" in proc.stdout and "fake-model-1" in proc.stdout
    assert KEY not in proc.stdout + proc.stderr and server.url not in proc.stdout
    assert server.requests[0].path == "/openai/deployments/gpt-4o/chat/completions"


def test_ping_without_credentials_fails_cleanly():
    assert_clean_failure(run("check", "--ping"))


# ---------------------------------------------------------------- record
def test_record_collects_the_snippets_prompts_and_summarises(server, tmp_path):
    snippets = tmp_path / "snippets"
    snippet(snippets, "a/ask_one.py", "First question?")
    snippet(snippets, "b/ask_two.py", "Second question?")
    (snippets / "a" / "no_llm.py").write_text("print(1)\n")
    recordings = tmp_path / "recordings"
    env = dict(LLMARCH_RECORDINGS=str(recordings), OPENAI_BASE_URL=f"{server.url}/v1", OPENAI_API_KEY=KEY)

    proc = run("record", "--snippets", str(snippets), **env)
    assert proc.returncode == 0, proc.stderr
    assert "recorded 2, kept 0, failed 0" in proc.stdout
    assert "recording: 100%" in proc.stderr and "2/2" in proc.stderr  # the progress bar
    assert "recorded snippets/a/ask_one.py:6" in proc.stderr
    assert sorted(s.body["messages"][0]["content"] for s in server.requests) == ["First question?", "Second question?"]

    proc = run("record", "--snippets", str(snippets), **env)
    assert "recorded 0, kept 2, failed 0" in proc.stdout and len(server.requests) == 2

    proc = run("record", "--refresh", "--snippets", str(snippets), str(snippets / "b" / "ask_two.py"), **env)
    assert "recorded 1, kept 0, failed 0" in proc.stdout and len(server.requests) == 3

    proc = run("recordings", "verify", "--snippets", str(snippets), LLMARCH_RECORDINGS=str(recordings))
    assert proc.returncode == 0, proc.stderr
    assert KEY not in proc.stdout + proc.stderr + "".join(p.read_text() for p in recordings.iterdir())


def test_a_failure_midway_keeps_what_was_recorded(server, tmp_path):
    snippets = tmp_path / "snippets"
    snippet(snippets, "a/ask_one.py", "First question?")
    snippet(snippets, "b/ask_two.py", "Second question?")
    recordings = tmp_path / "recordings"
    server.script = ["ok", "400"]  # a 400 is not retried
    env = dict(LLMARCH_RECORDINGS=str(recordings), OPENAI_BASE_URL=f"{server.url}/v1")
    proc = run("record", "--snippets", str(snippets), **env)
    assert proc.returncode == 1
    assert "recorded 1, kept 0, failed 1" in proc.stdout
    assert "failed   snippets/b/ask_two.py:6: OpenAI-compatible server answered HTTP 400" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert [p.stem for p in recordings.glob("*.json")] == [request_key(canonical_request("gpt-4o", "First question?"))]

    proc = run("record", "--snippets", str(snippets), **env)  # the retry asks only what is missing
    assert "recorded 1, kept 1, failed 0" in proc.stdout and len(server.requests) == 3


def test_record_without_credentials_fails_before_starting(tmp_path):
    snippets = tmp_path / "snippets"
    snippet(snippets, "a/ask_one.py", "First question?")
    proc = run("record", "--snippets", str(snippets), LLMARCH_RECORDINGS=str(tmp_path / "r"))
    assert_clean_failure(proc)
    assert "no credentials are set" in proc.stderr and "recording:" not in proc.stderr


def test_a_prompt_that_cannot_be_read_statically_is_an_error(tmp_path):
    snippets = tmp_path / "snippets"
    (snippets / "a").mkdir(parents=True)
    (snippets / "a" / "ask.py").write_text(
        "from llmarch.llm import LLMConnector\nprint(LLMConnector().get_completion(input()))\n"
    )
    proc = run("record", "--snippets", str(snippets))
    assert_clean_failure(proc)
    assert "ask.py:2: the prompt must be a string literal" in proc.stderr


# ---------------------------------------------------------------- recordings verify
def test_the_repository_recordings_verify():
    proc = run("recordings", "verify")
    assert proc.returncode == 0, proc.stderr
    assert "3 recording(s)" in proc.stdout


def test_verify_reports_unreadable_orphan_and_missing(tmp_path):
    snippets = tmp_path / "snippets"
    snippet(snippets, "a/ask_one.py", SEED_PROMPT)
    snippet(snippets, "a/ask_two.py", "Never recorded?")
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    for source in PACKAGE_RECORDINGS.glob("*.json"):  # one is used, two are orphans
        (recordings / source.name).write_text(source.read_text())
    (recordings / ("0" * 64 + ".json")).write_text("{broken")
    proc = run("recordings", "verify", "--snippets", str(snippets), LLMARCH_RECORDINGS=str(recordings))
    assert proc.returncode == 1
    assert proc.stderr.count(": orphan: no snippet asks its prompt") == 2
    assert f"{'0' * 64}.json: unreadable recording" in proc.stderr
    assert 'snippets/a/ask_two.py:6: no recording for the prompt "Never recorded?"' in proc.stderr
    assert "4 problem(s)" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- reading prompts statically
def test_prompts_are_read_with_model_and_sampling_parameters():
    source = (
        "from llmarch.llm import LLMConnector\n"
        "QUESTION = ('Two ' 'parts')\n"
        "c = LLMConnector('gpt-4o-mini', temperature=0, timeout=5)\n"
        "print(c.get_completion(QUESTION))\n"
        "print(c.get_completion('inline'))\n"
    )
    prompts = prompts_in_source(source, Path("s.py"))
    assert [(p.line, p.model, p.prompt, p.params) for p in prompts] == [
        (4, "gpt-4o-mini", "Two parts", {"temperature": 0}),
        (5, "gpt-4o-mini", "inline", {"temperature": 0}),
    ]
    assert prompts[0].request["params"] == {"temperature": 0.0}


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("p = 'a'\np = 'b'\nLLMConnector().get_completion(p)\n", "'p' must be bound once"),
        ("def f():\n    p = 'a'\n    LLMConnector().get_completion(p)\n", "'p' must be bound once, at module level"),
        ("LLMConnector(model=name).get_completion('a')\n", "the model must be a literal"),
        ("LLMConnector().get_completion('a' + 'b')\n", "the prompt must be a string literal"),
        ("get_completion('a')\n", "exactly one LLMConnector"),
    ],
)
def test_prompts_that_cannot_be_read_are_errors(source, error):
    with pytest.raises(SitePromptError, match=re.escape(error)):
        prompts_in_source(source, Path("s.py"))
