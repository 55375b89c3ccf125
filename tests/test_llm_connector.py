"""LLMConnector against a real HTTP server on 127.0.0.1, through the real openai SDK: record, then replay."""

import json
import logging
import os
import subprocess
import sys
import time

import pytest
from fake_openai import (
    SERVED_MODEL,
    FakeOpenAI,
    answer_for,
    clean_environment,
    loopback_only,
    no_network,
)

from llmarch.llm import (
    ConfigurationError,
    LiveCallError,
    LLMConnector,
    RecordingCorruptError,
    RecordingMissingError,
    RecordingStore,
    canonical_request,
    request_key,
)
from llmarch.llm.recordings import PACKAGE_RECORDINGS, Recording

SEED_PROMPT = (
    "Explain how transformers and the attention mechanism work in Large Language Models. "
    "Provide 5 real-world analogies to make it simple for non-technical readers."
)
KEY = "sk-test-0123456789abcdef-secret"
PROVENANCE = {"provider": "p", "served_model": None, "when": "w", "how": "h", "complete": True}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    clean_environment(monkeypatch)
    loopback_only(monkeypatch)


@pytest.fixture
def server():
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def openai_env(monkeypatch, server):
    monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return server


@pytest.fixture
def azure_env(monkeypatch, server):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.url)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENT", "my-gpt4o")
    return server


def fast(tmp_path, mode="record", **kwargs):
    """A connector with quick SDK retries, writing to an empty folder."""
    return LLMConnector(mode=mode, recordings=tmp_path / "rec", timeout=kwargs.pop("timeout", 5.0), **kwargs)


# ---------------------------------------------------------------- replay
def test_replay_gives_the_shipped_seed_excerpt():
    connector = LLMConnector(mode="replay")
    recording = RecordingStore(PACKAGE_RECORDINGS).get(canonical_request("gpt-4o", SEED_PROMPT))
    assert recording is not None and not recording.complete
    assert connector.get_completion(SEED_PROMPT) == recording.answer
    assert recording.answer.startswith("Sure! Transformers and the attention mechanism")


def test_replay_works_with_the_network_unavailable(monkeypatch, server):
    # Credentials point at a live server, yet a recorded answer makes no connection at all.
    monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    attempts = no_network(monkeypatch)
    for mode in ("replay", "auto", "record"):
        assert LLMConnector(mode=mode).get_completion(SEED_PROMPT).startswith("Sure!")
    assert attempts == [] and server.requests == []


def test_replay_needs_neither_openai_nor_the_network():
    code = (
        "import sys, socket\n"
        "sys.modules['openai'] = None; sys.modules['tqdm'] = None  # as if not installed\n"
        "def refuse(self, address): raise OSError('no network')\n"
        "socket.socket.connect = refuse\n"
        "from llmarch.llm import LLMConnector\n"
        f"print(LLMConnector().get_completion({SEED_PROMPT!r}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "AZURE", "LLMARCH"))}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Sure! Transformers")


def test_a_replay_miss_names_the_prompt_key_and_command(tmp_path):
    prompt = "Something new\nwith a second line"
    with pytest.raises(RecordingMissingError) as info:
        LLMConnector(mode="replay", recordings=tmp_path).get_completion(prompt)
    message = str(info.value)
    assert '"Something new"' in message and "second line" not in message.split("\n")[0]
    assert request_key(canonical_request("gpt-4o", prompt)) in message
    assert "LLMARCH_LLM_MODE=record llmarch ask 'Something new" in message


def test_auto_without_credentials_says_so(tmp_path):
    with pytest.raises(RecordingMissingError, match="no credentials are set"):
        LLMConnector(mode="auto", recordings=tmp_path).get_completion("never asked")


def test_record_without_credentials_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="mode record makes live calls"):
        LLMConnector(mode="record", recordings=tmp_path).get_completion("never asked")


def test_a_bad_mode_is_refused(monkeypatch):
    monkeypatch.setenv("LLMARCH_LLM_MODE", "sometimes")
    with pytest.raises(ConfigurationError, match="LLMARCH_LLM_MODE must be one of auto, replay, record, refresh"):
        LLMConnector()


def test_half_configured_azure_names_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    with pytest.raises(ConfigurationError, match="AZURE_OPENAI_ENDPOINT, OPENAI_API_VERSION not set"):
        LLMConnector(mode="record", recordings=tmp_path).get_completion("x")


# ---------------------------------------------------------------- record, then replay
def test_record_then_replay_openai_shape(openai_env, tmp_path):
    prompt = "What is attention?"
    connector = fast(tmp_path)
    completion = connector.complete(prompt)
    assert completion.source == "live" and completion.text == answer_for(prompt)

    (seen,) = openai_env.requests
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == f"Bearer {KEY}" and "api-key" not in seen.headers
    assert seen.body == {"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}]}

    key = request_key(canonical_request("gpt-4o", prompt))
    path = tmp_path / "rec" / f"{key}.json"
    recording = Recording.load(path)
    assert recording.answer == answer_for(prompt)
    provenance = recording.provenance
    assert provenance["provider"] == "OpenAI-compatible server"
    assert provenance["served_model"] == SERVED_MODEL and provenance["complete"] is True
    assert provenance["when"].endswith("+00:00") and "openai SDK" in provenance["how"]

    replay = LLMConnector(mode="replay", recordings=tmp_path / "rec")
    assert replay.get_completion(prompt) == answer_for(prompt)
    assert len(openai_env.requests) == 1


def test_record_azure_shape_has_the_same_key(azure_env, tmp_path):
    prompt = "What is attention?"
    fast(tmp_path).get_completion(prompt)
    (seen,) = azure_env.requests
    assert seen.path == "/openai/deployments/my-gpt4o/chat/completions"
    assert seen.query == {"api-version": ["2024-10-21"]}
    assert seen.headers["api-key"] == KEY and "authorization" not in seen.headers
    (path,) = (tmp_path / "rec").glob("*.json")
    assert path.stem == request_key(canonical_request("gpt-4o", prompt))  # no endpoint, deployment or key
    provenance = Recording.load(path).provenance
    assert provenance["provider"] == "Azure OpenAI" and provenance["deployment"] == "my-gpt4o"


def test_sampling_parameters_are_sent_and_keyed(openai_env, tmp_path):
    fast(tmp_path, temperature=0, max_tokens=50).get_completion("p")
    assert openai_env.requests[0].body["temperature"] == 0.0 and openai_env.requests[0].body["max_tokens"] == 50
    assert request_key(canonical_request("gpt-4o", "p", {"temperature": 0})) == request_key(
        canonical_request("gpt-4o", "p", {"temperature": 0.0})
    )
    assert request_key(canonical_request("gpt-4o", "p", {"temperature": 0})) != request_key(
        canonical_request("gpt-4o", "p")
    )
    assert LLMConnector(mode="replay", recordings=tmp_path / "rec", temperature=0.0, max_tokens=50).get_completion("p")


def test_auto_calls_live_but_writes_nothing(openai_env, tmp_path):
    assert fast(tmp_path, mode="auto").complete("q").source == "live"
    assert not (tmp_path / "rec").exists()


def test_record_keeps_and_refresh_replaces(openai_env, tmp_path):
    fast(tmp_path).get_completion("q")
    assert fast(tmp_path).complete("q").source == "recording"
    assert len(openai_env.requests) == 1
    assert fast(tmp_path, mode="refresh").complete("q").source == "live"
    assert len(openai_env.requests) == 2


def test_an_answer_cut_by_max_tokens_is_marked_incomplete(openai_env, tmp_path):
    openai_env.script = ["length"]
    provenance = fast(tmp_path).complete("q").recording.provenance
    assert provenance["complete"] is False and provenance["finish_reason"] == "length"


# ---------------------------------------------------------------- the SDK's retries, configured
def test_429_is_retried_after_retry_after(openai_env, tmp_path):
    openai_env.script = ["429", "ok"]
    start = time.monotonic()
    assert fast(tmp_path, max_retries=2).get_completion("q") == answer_for("q")
    assert time.monotonic() - start >= 0.2  # the server's Retry-After: 0.2
    assert len(openai_env.requests) == 2


def test_a_500_then_success(openai_env, tmp_path):
    openai_env.script = ["500", "ok"]
    assert fast(tmp_path, max_retries=1).get_completion("q") == answer_for("q")
    assert len(openai_env.requests) == 2


def test_a_timeout_is_retried(openai_env, tmp_path):
    openai_env.script = ["timeout", "ok"]
    assert fast(tmp_path, max_retries=1, timeout=0.3).get_completion("q") == answer_for("q")
    assert len(openai_env.requests) == 2


def test_timeouts_give_up_with_a_clear_error(openai_env, tmp_path):
    openai_env.script = ["timeout", "timeout"]
    with pytest.raises(LiveCallError, match=r"did not answer within 0.3 s, 2 attempt\(s\)"):
        fast(tmp_path, max_retries=1, timeout=0.3).get_completion("q")
    assert not (tmp_path / "rec").exists()


def test_retries_exhausted(openai_env, tmp_path):
    openai_env.script = ["500", "500"]
    with pytest.raises(LiveCallError, match="answered HTTP 500"):
        fast(tmp_path, max_retries=1).get_completion("q")


def test_malformed_json_is_a_clear_error_and_records_nothing(openai_env, tmp_path):
    openai_env.script = ["malformed"]
    with pytest.raises(LiveCallError, match="not valid JSON"):
        fast(tmp_path, max_retries=0).get_completion("q")
    assert not (tmp_path / "rec").exists()


def test_unreachable_server(monkeypatch, tmp_path):
    with FakeOpenAI() as gone:
        url = gone.url
    monkeypatch.setenv("OPENAI_BASE_URL", f"{url}/v1")
    with pytest.raises(LiveCallError, match=r"could not reach OpenAI-compatible server after 1 attempt\(s\)"):
        fast(tmp_path, max_retries=0).get_completion("q")


# ---------------------------------------------------------------- credentials stay secret
def test_credentials_are_never_written_logged_or_shown(azure_env, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    connector = fast(tmp_path, max_retries=0)
    connector.get_completion("q")
    azure_env.script = ["401"]
    with pytest.raises(LiveCallError) as info:
        connector.get_completion("another")
    assert "answered HTTP 401" in str(info.value)
    report = str(connector.check())
    assert "AZURE_OPENAI_API_KEY     found" in report
    out = capsys.readouterr()
    for text in (str(info.value), report, caplog.text, out.out, out.err, repr(connector)):
        assert KEY not in text and "0123456789abcdef" not in text
    for path in (tmp_path / "rec").rglob("*"):
        assert KEY not in path.read_text() and azure_env.url not in path.read_text()


# ---------------------------------------------------------------- damaged files
def test_a_hand_edited_answer_is_refused_naming_the_file(tmp_path):
    store = RecordingStore(tmp_path)
    request = canonical_request("gpt-4o", "q")
    path = store.put(Recording(request, "the answer", PROVENANCE))
    data = json.loads(path.read_text())
    data["answer"] = "a better answer"
    path.write_text(json.dumps(data))
    with pytest.raises(RecordingCorruptError, match=rf"{path}: checksum mismatch"):
        LLMConnector(mode="replay", recordings=tmp_path).get_completion("q")


def test_a_file_whose_request_does_not_match_its_name_is_refused(tmp_path):
    store = RecordingStore(tmp_path)
    good = store.put(Recording(canonical_request("gpt-4o", "q"), "a", PROVENANCE))
    other = store.path_for(request_key(canonical_request("gpt-4o", "other")))
    good.rename(other)
    with pytest.raises(RecordingCorruptError, match=rf"{other}: the request does not hash"):
        LLMConnector(mode="replay", recordings=tmp_path).get_completion("other")


@pytest.mark.parametrize("content", ["{not json", '{"format": "llmarch-recording/1"}', "[]", "\udcff"])
def test_an_unreadable_file_is_refused_naming_the_file(tmp_path, content):
    path = RecordingStore(tmp_path).path_for(request_key(canonical_request("gpt-4o", "q")))
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(RecordingCorruptError, match=str(path)):
        LLMConnector(mode="replay", recordings=tmp_path).get_completion("q")


def test_writes_are_atomic(tmp_path, monkeypatch):
    store = RecordingStore(tmp_path)
    request = canonical_request("gpt-4o", "q")
    first = store.put(Recording(request, "first", PROVENANCE))

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.put(Recording(request, "second", PROVENANCE))
    assert Recording.load(first).answer == "first"  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name]  # and no temporary file is left
