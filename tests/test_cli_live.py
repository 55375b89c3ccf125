"""The `llmarch` CLI against a live endpoint that misbehaves: a stub server on 127.0.0.1, never the network.

A server that never answers is given up within the deadline; a URL that is no URL fails at
once, naming its variable; a cut answer says so; model text cannot drive the terminal; an
empty completion is one readable line.
"""

import inspect
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_openai import (
    CONTROL_ANSWER,
    PROVIDER_VARS,
    PROXY_VARS,
    FakeOpenAI,
    SilentServer,
    answer_for,
    clean_environment,
    loopback_only,
    no_network,
)

from llmarch.llm import ConfigurationError, LiveCallError, LLMConnector, RecordingStore, canonical_request
from llmarch.llm.cli import main, printable
from llmarch.llm.connector import (
    DEFAULT_DEADLINE_S,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
    Provider,
    attempt_budget,
)

ROOT = Path(__file__).resolve().parents[1]
LLMARCH = Path(sys.executable).with_name("llmarch")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    clean_environment(monkeypatch)
    loopback_only(monkeypatch)


@pytest.fixture
def server():
    with FakeOpenAI() as fake:
        yield fake


def run(*args, stdout=subprocess.PIPE, **env):
    """The installed script in a child process, with no credentials or proxies, plus ``env``."""
    base = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARS and k not in PROXY_VARS}
    base.update({"NO_PROXY": "127.0.0.1,localhost", **env})
    return subprocess.run(
        [str(LLMARCH), *args], cwd=ROOT, env=base, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120
    )


def cli(capsys, *args):
    """``llmarch`` in this process (the environment is the test's); (exit status, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


# ---------------------------------------------------------------- a server that never answers
def test_a_silent_server_is_given_up_within_the_deadline():
    with SilentServer() as silent:
        start = time.monotonic()
        proc = run("ask", "q", "--timeout", "0.5", "--deadline", "2", OPENAI_BASE_URL=f"{silent.url}/v1")
        elapsed = time.monotonic() - start
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("llmarch: error: OpenAI-compatible server did not answer within 0.5 s, 2 attempt(s)")
    assert proc.stderr.count("\n") == 1
    assert elapsed < 2 + 10  # the deadline, plus a generous start-up of the child on a busy machine


def test_the_deadline_bounds_attempts_and_waits_in_process(monkeypatch):
    with SilentServer() as silent:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{silent.url}/v1")
        connector = LLMConnector(mode="auto", timeout=0.4, max_retries=10, deadline=1.5)
        import openai  # noqa: F401  (imported on the first live call: not part of what is timed)

        start = time.monotonic()
        with pytest.raises(LiveCallError, match=r"did not answer within 0.4 s, 2 attempt\(s\)"):
            connector.get_completion("q")
        elapsed = time.monotonic() - start
        assert silent.connections == 2
    # The bound itself is the attempts' count above (2 of 0.4 s within 1.5 s); the time is only a
    # guard against a hang, loose enough for a loaded machine (timings are benchmarks, not tests).
    assert elapsed < 30


def test_the_default_deadline_is_stated_and_kept(monkeypatch):
    proc = run("ask", "--help")
    help_text = " ".join(proc.stdout.split())
    assert "--timeout SECONDS" in help_text and f"(default {DEFAULT_TIMEOUT_S:g})" in help_text
    assert f"how long a live call may take in all, retries included (default {DEFAULT_DEADLINE_S:g}" in help_text
    assert "given up within 3 minutes" in help_text
    for command in ("record", "check"):
        assert "--deadline SECONDS" in run(command, "--help").stdout

    # The SDK is handed a timeout and a retry count whose worst case fits in the deadline.
    seen = {}

    def client(self, timeout, max_retries):
        seen.update(timeout=timeout, max_retries=max_retries)
        raise ConfigurationError("stop here")

    monkeypatch.setattr(Provider, "client", client)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-1234")
    with pytest.raises(ConfigurationError, match="stop here"):
        LLMConnector(mode="auto").get_completion("q")
    timeout, retries = seen["timeout"], seen["max_retries"]
    assert (timeout, retries) == attempt_budget(DEFAULT_TIMEOUT_S, DEFAULT_MAX_RETRIES, DEFAULT_DEADLINE_S)
    worst = (retries + 1) * timeout + sum(min(0.5 * 2**n, 8.0) for n in range(retries))
    assert worst <= DEFAULT_DEADLINE_S <= 180


@pytest.mark.parametrize(("timeout", "deadline"), [(0, 10), (-1, 10), (10, 0), (float("nan"), 10), ("5", 10)])
def test_bad_timeouts_are_refused_naming_them(timeout, deadline):
    with pytest.raises(ConfigurationError, match="timeout must" if timeout != 10 else "deadline must"):
        LLMConnector(timeout=timeout, deadline=deadline)


def test_bad_timeouts_on_the_command_line_are_refused():
    proc = run("ask", "q", "--timeout", "0")
    assert proc.returncode == 2 and "--timeout: must be a number of seconds > 0; got '0'" in proc.stderr


# ---------------------------------------------------------------- a URL that is no URL
@pytest.mark.parametrize("url", ["notaurl", "http://", "ftp://example.org/v1", "http://127.0.0.1:port/v1"])
def test_an_invalid_base_url_fails_at_once_naming_the_variable(url, monkeypatch, capsys):
    attempts = no_network(monkeypatch)
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    start = time.monotonic()
    code, out, err = cli(capsys, "ask", "a question never recorded")
    assert code == 1 and out == ""
    assert err.startswith("llmarch: error: OPENAI_BASE_URL must be an http:// or https:// URL with a host")
    assert f"it is {url!r}" in err and err.count("\n") == 1
    assert attempts == [] and time.monotonic() - start < 10  # nothing was tried (the time: only a hang guard)

    code, out, _ = cli(capsys, "check")
    assert code == 0 and "live calls  not possible: OPENAI_BASE_URL must be" in out


def test_an_invalid_azure_endpoint_fails_at_once_naming_the_variable(monkeypatch):
    attempts = no_network(monkeypatch)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k" * 8)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "my-resource.openai.azure.com")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    with pytest.raises(ConfigurationError, match="AZURE_OPENAI_ENDPOINT must be an http:// or https:// URL"):
        LLMConnector(mode="auto").get_completion("q")
    assert attempts == []


def test_a_subprocess_with_a_bad_url_fails_fast():
    start = time.monotonic()
    proc = run("ask", "q", OPENAI_BASE_URL="notaurl")
    assert proc.returncode == 1 and "OPENAI_BASE_URL must be" in proc.stderr
    assert time.monotonic() - start < 10  # today the SDK retries it 5 times, with waits


def test_a_url_with_credentials_is_not_echoed(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "ftp://user:sk-secret-password@host/v1")
    with pytest.raises(ConfigurationError) as info:
        LLMConnector(mode="auto").get_completion("q")
    assert "secret" not in str(info.value) and "user" not in str(info.value)


# ---------------------------------------------------------------- an answer that was cut
def test_a_cut_answer_is_recorded_and_reported(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
    monkeypatch.setenv("LLMARCH_RECORDINGS", str(tmp_path))
    monkeypatch.setenv("LLMARCH_LLM_MODE", "record")
    server.script = ["length"]
    code, out, err = cli(capsys, "ask", "q")
    assert code == 0 and out == answer_for("q") + "\n"
    assert "[llmarch: incomplete answer: the answer was cut: the model reached its length limit" in err

    recording = RecordingStore(tmp_path).get(canonical_request("gpt-4o", "q"))
    assert recording.provenance["finish_reason"] == "length" and recording.provenance["complete"] is False
    assert recording.provenance["note"].startswith("the answer was cut")

    monkeypatch.setenv("LLMARCH_LLM_MODE", "replay")
    code, out, err = cli(capsys, "ask", "q")
    assert code == 0 and "[llmarch: this recorded answer is incomplete: the answer was cut" in err


def test_llmarch_record_says_which_answers_were_cut(server, tmp_path):
    snippets = tmp_path / "snippets"
    (snippets / "a").mkdir(parents=True)
    (snippets / "a" / "ask.py").write_text(
        "from llmarch.llm import LLMConnector\nprint(LLMConnector().get_completion('Cut me?'))\n"
    )
    server.script = ["length"]
    env = dict(LLMARCH_RECORDINGS=str(tmp_path / "r"), OPENAI_BASE_URL=f"{server.url}/v1")
    proc = run("record", "--snippets", str(snippets), **env)
    assert proc.returncode == 0, proc.stderr
    assert "(incomplete: the answer was cut: the model reached its length limit" in proc.stderr


# ---------------------------------------------------------------- terminal control sequences
def _through_a_terminal(*args, **env):
    """Run ``llmarch`` with its stdout on a pseudo-terminal; return what the terminal received."""
    leader, follower = pty.openpty()
    try:
        proc = run(*args, stdout=follower, **env)
        os.close(follower)
        follower = None
        received = b""
        while select.select([leader], [], [], 1.0)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO once the child's side is closed
                break
            if not chunk:
                break
            received += chunk
    finally:
        if follower is not None:
            os.close(follower)
        os.close(leader)
    return proc, received.decode("utf-8")


def test_control_sequences_reach_a_terminal_as_escapes_and_the_recording_as_returned(server, tmp_path):
    server.script = ["control"]
    env = dict(LLMARCH_RECORDINGS=str(tmp_path), OPENAI_BASE_URL=f"{server.url}/v1", LLMARCH_LLM_MODE="record")
    proc, shown = _through_a_terminal("ask", "colour?", **env)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "Before\\x1b[2J\\x1b]0;pwned\\x07after \\x1b[31mred\\x1b[0m \\u202eevil\\u202c end" in shown

    recording = RecordingStore(tmp_path).get(canonical_request("gpt-4o", "colour?"))
    assert recording.answer == CONTROL_ANSWER  # kept exactly as the model returned it

    piped = run("ask", "colour?", **{**env, "LLMARCH_LLM_MODE": "replay"})
    assert piped.stdout == CONTROL_ANSWER + "\n"  # redirected output is the text itself


def test_printable_keeps_text_and_layout():
    assert printable("tabs\tand\nnewlines, accents é, emoji ✓") == "tabs\tand\nnewlines, accents é, emoji ✓"
    assert printable("a\r\nb\rc\x00\x9b") == "a\nb\\x0dc\\x00\\x9b"


# ---------------------------------------------------------------- an empty completion
def test_no_choices_is_one_readable_line(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
    server.script = ["no_choices"]
    with pytest.raises(LiveCallError) as info:
        LLMConnector(mode="record", recordings=tmp_path, max_retries=0).get_completion("q")
    message = str(info.value)
    assert message == "OpenAI-compatible server sent a chat completion with no choices, so there is no answer to return"
    assert list(tmp_path.iterdir()) == []

    server.script = ["no_choices"]
    code, _, err = cli(capsys, "ask", "q")
    assert code == 1 and err == f"llmarch: error: {message}\n"


# ---------------------------------------------------------------- LLMConnector's reference table
def test_the_reference_table_has_one_right_row_per_parameter():
    griffe = pytest.importorskip("griffe")
    package = griffe.load("llmarch.llm", search_paths=[str(ROOT)], docstring_parser="numpy")
    connector = package["LLMConnector"]
    (section,) = [s for s in connector.docstring.parse("numpy") if s.kind.value == "parameters"]
    rows = {p.name: p for p in section.value}
    signature = inspect.signature(LLMConnector.__init__).parameters
    assert list(rows) == [name for name in signature if name != "self"]
    descriptions = [p.description for p in rows.values()]
    assert len(set(descriptions)) == len(descriptions)  # no row borrows another's text
    kinds = {name: str(row.annotation) for name, row in rows.items()}
    for name in ("max_tokens", "seed", "max_retries"):
        assert "int" in kinds[name] and "float" not in kinds[name], (name, kinds[name])
    for name in ("temperature", "top_p", "timeout", "deadline"):
        assert "float" in kinds[name], (name, kinds[name])
    for name in ("timeout", "max_retries", "deadline"):  # the row's default is the signature's
        assert float(str(rows[name].default)) == signature[name].default, (name, rows[name].default)
    assert "retries" in rows["max_retries"].description and "attempt" in rows["timeout"].description
