"""Damaged recordings and recordings folders: one line naming the file and what is wrong, from every command.

Each case copies the package's recordings to a folder, damages the file of the seed prompt that
``snippets/transformers/ask_transformers.py`` asks, and runs ``llmarch ask``, ``llmarch check``,
``llmarch recordings verify``, ``llmarch record`` and the snippet itself (replaying, as the build
does). Every one must tell the same story, the message of :class:`RecordingCorruptError`, with
no traceback from a command and no hang.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_openai import PROVIDER_VARS, PROXY_VARS, FakeOpenAI, clean_environment, loopback_only
from llmarch_guide import snippets as snippet_check

from llmarch.llm import ConfigurationError, LLMConnector, RecordingCorruptError, RecordingStore, request_key
from llmarch.llm.cli import main
from llmarch.llm.recordings import MAX_RECORDING_BYTES, PACKAGE_RECORDINGS, Recording
from llmarch.llm.site_prompts import prompts_in_file

ROOT = Path(__file__).resolve().parents[1]
LLMARCH = Path(sys.executable).with_name("llmarch")
SNIPPET = ROOT / "snippets" / "transformers" / "ask_transformers.py"
(ASKED,) = prompts_in_file(SNIPPET)
ASKED_KEY = request_key(ASKED.request)
TIMEOUT = 30  # seconds: a command that blocks (a FIFO) fails the test instead of hanging it


@pytest.fixture(autouse=True)
def _loopback(monkeypatch):
    loopback_only(monkeypatch)


def run(*args, **env):
    """The installed ``llmarch`` script in a child process, with no credentials or proxies, plus ``env``."""
    base = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARS and k not in PROXY_VARS}
    base.update({"NO_PROXY": "127.0.0.1,localhost", **env})
    return subprocess.run([str(LLMARCH), *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=TIMEOUT)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch, capsys):
    """``llmarch`` run in this process (much faster than a child), under an alarm so a block fails the test."""

    def call(*args, **env):
        clean_environment(monkeypatch)
        monkeypatch.chdir(ROOT)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        with no_hang("llmarch " + " ".join(args[:2])):
            code = main(list(args))
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    return call


@contextmanager
def no_hang(what: str):
    """Fail, rather than wait forever, if the block takes longer than TIMEOUT (reading a FIFO would)."""

    def timed_out(signum, frame):
        raise AssertionError(f"{what} did not finish within {TIMEOUT} s")

    previous = signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def no_traceback(proc):
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr


# ---------------------------------------------------------------- damaged files
def _rewrite(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def damage(kind: str, path: Path) -> None:
    """Damage the recording at ``path`` the way ``kind`` says."""
    if kind == "no key field":
        _rewrite(path, lambda d: d.pop("key"))
    elif kind == "no checksum field":
        _rewrite(path, lambda d: d.pop("checksum"))
    elif kind == "nested 200000 deep":
        path.write_text("[" * 200_000 + "]" * 200_000)
    elif kind == "a 5000-digit integer":
        path.write_text("1" * 5000)
    elif kind == "a 5000-digit integer inside":
        _rewrite(path, lambda d: d["provenance"].update(note=0))
        path.write_text(path.read_text().replace('"note": 0', '"note": ' + "7" * 5000))
    elif kind == "a FIFO":
        path.unlink()
        os.mkfifo(path)
    elif kind == "a dangling symlink":
        path.unlink()
        path.symlink_to(path.with_name("gone.json"))
    elif kind == "a folder":
        path.unlink()
        path.mkdir()
    elif kind == "larger than the cap":
        path.write_text(path.read_text() + " " * MAX_RECORDING_BYTES)
    elif kind == "NaN in the JSON":
        _rewrite(path, lambda d: d["provenance"].update(note=0))
        path.write_text(path.read_text().replace('"note": 0', '"note": NaN'))
    else:
        raise AssertionError(kind)


KINDS = [
    "no key field",
    "no checksum field",
    "nested 200000 deep",
    "a 5000-digit integer",
    "a 5000-digit integer inside",
    "a FIFO",
    "a dangling symlink",
    "a folder",
    "larger than the cap",
    "NaN in the JSON",
]
WHAT = {  # the words the one line must hold, besides the file's path
    "no key field": "not a valid recording (no 'key' field)",
    "no checksum field": "not a valid recording (no 'checksum' field)",
    "nested 200000 deep": "unreadable recording (JSON nested too deeply)",
    "a 5000-digit integer": "unreadable recording (Exceeds the limit (4300 digits)",
    "a 5000-digit integer inside": "unreadable recording (Exceeds the limit (4300 digits)",
    "a FIFO": "unreadable recording (a FIFO (named pipe), not a regular file)",
    "a dangling symlink": "unreadable recording (a symbolic link to",
    "a folder": "unreadable recording (a folder, not a regular file)",
    "larger than the cap": "unreadable recording (larger than 4 MiB",
    "NaN in the JSON": "unreadable recording (NaN is not JSON)",
}


@pytest.fixture
def damaged(request, tmp_path):
    """A copy of the package's recordings with the asked prompt's file damaged; (folder, expected line)."""
    folder = tmp_path / "R"
    shutil.copytree(PACKAGE_RECORDINGS, folder)
    path = RecordingStore(folder).path_for(ASKED_KEY)
    damage(request.param, path)
    with no_hang("Recording.load"), pytest.raises(RecordingCorruptError) as info:
        Recording.load(path)
    line = str(info.value)
    assert line.startswith(f"{path}: ") and WHAT[request.param] in line and "\n" not in line
    return folder, line


@pytest.mark.parametrize("damaged", KINDS, indirect=True)
def test_ask_says_what_is_wrong_in_one_line(damaged, cli):
    folder, line = damaged
    for mode in ("auto", "replay", "record"):
        proc = cli("ask", ASKED.prompt, LLMARCH_RECORDINGS=str(folder), LLMARCH_LLM_MODE=mode)
        no_traceback(proc)
        assert proc.returncode == 1 and proc.stderr == f"llmarch: error: {line}\n", proc.stderr


@pytest.mark.parametrize("damaged", KINDS, indirect=True)
def test_check_counts_and_names_the_damaged_file(damaged, cli):
    folder, line = damaged
    proc = cli("check", LLMARCH_RECORDINGS=str(folder))
    no_traceback(proc)
    assert proc.returncode == 0
    assert "recordings  2 (2 of them excerpts), and 1 unreadable: run `llmarch recordings verify`" in proc.stdout
    assert f"              {line}\n" in proc.stdout


@pytest.mark.parametrize("damaged", KINDS, indirect=True)
def test_verify_names_the_damaged_file(damaged, cli):
    folder, line = damaged
    proc = cli("recordings", "verify", LLMARCH_RECORDINGS=str(folder))
    no_traceback(proc)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == line
    # the damaged file's prompt is also reported as having no recording
    assert f"snippets/transformers/ask_transformers.py:{ASKED.line}: no recording for the prompt" in proc.stderr


@pytest.mark.parametrize("damaged", KINDS, indirect=True)
def test_record_reports_the_damaged_file_and_asks_nothing(damaged, cli):
    folder, line = damaged
    with FakeOpenAI() as server:
        proc = cli("record", LLMARCH_RECORDINGS=str(folder), OPENAI_BASE_URL=f"{server.url}/v1")
    no_traceback(proc)
    assert proc.returncode == 1
    assert f"failed   snippets/transformers/ask_transformers.py:{ASKED.line}: {line}\n" in proc.stderr
    assert "recorded 0, kept 2, failed 1" in proc.stdout
    assert server.requests == []


@pytest.mark.parametrize("damaged", KINDS, indirect=True)
def test_the_snippet_replaying_tells_the_same_story(damaged, monkeypatch):
    folder, line = damaged
    monkeypatch.setenv("LLMARCH_RECORDINGS", str(folder))
    monkeypatch.setattr(snippet_check, "TIMEOUT_S", TIMEOUT)
    result = snippet_check.run_snippet(SNIPPET)
    assert result.error is not None and f"RecordingCorruptError: {line}" in result.error, result.error


@pytest.mark.parametrize("damaged", ["a FIFO"], indirect=True)
def test_a_fifo_is_refused_at_once_in_process(damaged):
    folder, _ = damaged

    with no_hang("reading the recordings"):
        start = time.monotonic()
        with pytest.raises(RecordingCorruptError, match="FIFO"):
            LLMConnector(mode="replay", recordings=folder).get_completion(ASKED.prompt)
        report = LLMConnector(mode="replay", recordings=folder).check()
    assert report.unreadable == 1 and report.recordings == 2
    assert time.monotonic() - start < 5


def test_a_symlink_to_a_good_recording_is_read(tmp_path):
    source = PACKAGE_RECORDINGS / f"{ASKED_KEY}.json"
    (tmp_path / source.name).symlink_to(source)
    assert LLMConnector(mode="replay", recordings=tmp_path).get_completion(ASKED.prompt).startswith("Sure!")


# ---------------------------------------------------------------- the folder itself
def test_a_folder_that_does_not_exist_is_named_by_every_command(tmp_path):
    missing = tmp_path / "nowhere"
    said = f"the recordings folder {missing} (LLMARCH_RECORDINGS) does not exist"

    proc = run("check", LLMARCH_RECORDINGS=str(missing))
    assert proc.returncode == 0 and f"recordings  none: {said}\n" in proc.stdout

    proc = run("ask", ASKED.prompt, LLMARCH_RECORDINGS=str(missing), LLMARCH_LLM_MODE="replay")
    no_traceback(proc)
    assert proc.returncode == 1 and f"in {missing} ({said}), mode replay" in proc.stderr

    proc = run("recordings", "verify", LLMARCH_RECORDINGS=str(missing))
    no_traceback(proc)
    assert proc.returncode == 1 and proc.stderr.splitlines()[0] == said


def test_a_file_given_as_the_folder_is_named_by_every_command(tmp_path):
    a_file = tmp_path / "recordings.txt"
    a_file.write_text("not a folder\n")
    said = f"the recordings folder {a_file} (LLMARCH_RECORDINGS) is not a folder (it is a file)"

    proc = run("check", LLMARCH_RECORDINGS=str(a_file))
    assert proc.returncode == 0 and f"recordings  none: {said}\n" in proc.stdout

    for mode in ("auto", "replay"):
        proc = run("ask", ASKED.prompt, LLMARCH_RECORDINGS=str(a_file), LLMARCH_LLM_MODE=mode)
        no_traceback(proc)
        assert proc.returncode == 1 and proc.stderr == f"llmarch: error: {said}\n"

    proc = run("recordings", "verify", LLMARCH_RECORDINGS=str(a_file))
    no_traceback(proc)
    assert proc.returncode == 1 and proc.stderr.splitlines()[0] == said


@pytest.mark.parametrize("layout", ["a file", "under a file"])
def test_record_mode_refuses_an_unusable_folder_before_any_live_call(tmp_path, layout):
    a_file = tmp_path / "recordings.txt"
    a_file.write_text("not a folder\n")
    folder = a_file if layout == "a file" else a_file / "recordings"
    reason = "is not a folder (it is a file)" if layout == "a file" else "cannot be created (a parent is a file)"
    said = f"the recordings folder {folder} (LLMARCH_RECORDINGS) {reason}"
    snippets = tmp_path / "snippets"
    (snippets / "a").mkdir(parents=True)
    (snippets / "a" / "ask.py").write_text(
        "from llmarch.llm import LLMConnector\nprint(LLMConnector().get_completion('A new question?'))\n"
    )
    with FakeOpenAI() as server:
        env = dict(LLMARCH_RECORDINGS=str(folder), OPENAI_BASE_URL=f"{server.url}/v1")
        for mode in ("record", "refresh"):
            proc = run("ask", "A new question?", LLMARCH_LLM_MODE=mode, **env)
            no_traceback(proc)
            assert proc.returncode == 1 and said in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
        proc = run("record", "--snippets", str(snippets), **env)
        no_traceback(proc)
        assert proc.returncode == 1 and proc.stderr == f"llmarch: error: cannot record: {said}; nothing was asked\n"
        assert "recording:" not in proc.stderr
        assert server.requests == []  # no live call was spent


def test_record_mode_in_process_refuses_before_the_call(tmp_path, monkeypatch):
    a_file = tmp_path / "f"
    a_file.write_text("x")
    with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
        with pytest.raises(ConfigurationError, match="is not a folder"):
            LLMConnector(mode="record", recordings=a_file).get_completion("q")
        assert server.requests == []


def test_record_mode_refuses_a_read_only_folder_before_the_call(tmp_path, monkeypatch):
    # os.access is what says "read-only" (a read-only mount, or permissions; root passes the latter)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if mode & os.W_OK else real_access(path, mode))
    with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
        with pytest.raises(ConfigurationError, match=r"cannot be written \(permission denied, or a read-only"):
            LLMConnector(mode="record", recordings=tmp_path).get_completion("q")
        with pytest.raises(ConfigurationError, match=r"cannot be created \(permission denied, or a read-only"):
            LLMConnector(mode="refresh", recordings=tmp_path / "new" / "folder").get_completion("q")
        assert server.requests == []
