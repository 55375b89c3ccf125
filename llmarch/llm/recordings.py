"""Recorded LLM answers: one JSON file per request, named by the SHA-256 of the canonical request.

The canonical request
---------------------
What is hashed is what determines the answer, and nothing about where it was sent::

    {"model": "gpt-4o",                                   # the logical model name
     "messages": [{"role": "user", "content": PROMPT}],   # a bare prompt is one user message
     "params": {"temperature": 0.0}}                      # only the sampling parameters that were set

``params`` holds the sampling parameters the caller set explicitly (``temperature``,
``top_p``, ``max_tokens``, ``seed``); a parameter left unset is absent, meaning "the
provider's default". The endpoint, the Azure deployment name and the key are never part of
it, so the same question asked of Azure OpenAI or of OpenAI has the same key. The key is the
SHA-256 of the request serialised as JSON with sorted keys, no whitespace and UTF-8 text.

A recording file
----------------
``<key>.json`` holds ``format``, ``key``, ``request``, ``answer`` (the text the model
returned, never edited), ``provenance`` (``provider``, ``served_model``, ``deployment``,
``when``, ``how``, ``complete``, optional ``finish_reason`` and ``note``) and ``checksum``,
the SHA-256 of the canonical JSON of request, answer and provenance. A file whose name,
key and request disagree, or whose checksum does not match (a hand edit), is refused with
an error naming the file. Files are written atomically: a temporary file in the same
folder, flushed to disk, then renamed over the target.

Damaged files
-------------
Only regular files (or links to one) of at most :data:`MAX_RECORDING_BYTES` are read: a FIFO,
a folder, a device or a dangling link named ``<key>.json`` is refused without opening it
for long, so no command ever blocks on one. Every problem, from a missing field to JSON
nested too deeply for Python, is a :class:`RecordingCorruptError` whose one-line message
names the file and what is wrong; every command (``ask``, ``check``, ``record``,
``recordings verify``, a snippet replaying) tells the same story for the same file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmarch.llm.errors import ConfigurationError, RecordingCorruptError

FORMAT = "llmarch-recording/1"
#: The recordings shipped inside the package (package data).
PACKAGE_RECORDINGS = Path(__file__).resolve().parent / "recordings"
#: The largest recording file read (a long answer is tens of kilobytes).
MAX_RECORDING_BYTES = 4 * 1024 * 1024
#: Sampling parameters that may be part of a request, and the type each is stored as.
SAMPLING_PARAMS: dict[str, type] = {"temperature": float, "top_p": float, "max_tokens": int, "seed": int}
_PROVENANCE_TYPES: dict[str, tuple[type, ...]] = {
    "provider": (str,),
    "served_model": (str, type(None)),
    "when": (str,),
    "how": (str,),
    "complete": (bool,),
}


def canonical_json(value: Any) -> bytes:
    """The one serialisation that is hashed: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def normalise_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the sampling parameters that are set, each as its canonical type (0 and 0.0 hash alike)."""
    if not isinstance(params, Mapping):
        raise ConfigurationError(f"params must be a mapping of sampling parameters; got {type(params).__name__}")
    unknown = sorted(map(str, set(params) - set(SAMPLING_PARAMS)))
    if unknown:
        raise ConfigurationError(f"params: unknown sampling parameter(s) {unknown}; known: {sorted(SAMPLING_PARAMS)}")
    out: dict[str, Any] = {}
    for name, value in sorted(params.items()):
        if value is None:
            continue
        kind = SAMPLING_PARAMS[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (kind is int and not float(value).is_integer())
        ):
            raise ConfigurationError(f"sampling parameter {name} must be a number ({kind.__name__}), got {value!r}")
        out[name] = kind(value)
    return out


def canonical_request(model: str, prompt: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The request a bare ``prompt`` stands for: one user message, the model, the set parameters."""
    if not isinstance(prompt, str) or not prompt:
        raise ConfigurationError("the prompt must be a non-empty string")
    if not isinstance(model, str) or not model:
        raise ConfigurationError("the model must be a non-empty string")
    return {"model": model, "messages": [{"role": "user", "content": prompt}], "params": normalise_params(params or {})}


def request_key(request: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of the canonical request: the recording's file name without ``.json``."""
    return sha256(request)


def prompt_of(request: Mapping[str, Any]) -> str:
    """The text of the last user message of a request."""
    return next(m["content"] for m in reversed(request["messages"]) if m.get("role") == "user")


def first_line(text: str, width: int = 80) -> str:
    """The first line of ``text``, shortened to ``width`` characters, for messages."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


@dataclass(frozen=True)
class Recording:
    """One recorded answer: the request, the text the model returned, and where it came from."""

    request: dict[str, Any]
    answer: str
    provenance: dict[str, Any]

    @property
    def key(self) -> str:
        return request_key(self.request)

    @property
    def prompt(self) -> str:
        return prompt_of(self.request)

    @property
    def complete(self) -> bool:
        return bool(self.provenance.get("complete"))

    @property
    def checksum(self) -> str:
        return sha256({"request": self.request, "answer": self.answer, "provenance": self.provenance})

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "key": self.key,
            "request": self.request,
            "answer": self.answer,
            "provenance": self.provenance,
            "checksum": self.checksum,
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def load(cls, path: Path | str) -> Recording:
        """Read and check one file; any problem is a :class:`RecordingCorruptError` naming it."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a path (str or os.PathLike); got {type(path).__name__}")
        path = Path(path)
        data = _parse(path, _read_regular_file(path))
        try:
            recording = cls._from_data(data)
            key_matches = data["key"] == recording.key and path.name == f"{recording.key}.json"
            checksum_matches = data["checksum"] == recording.checksum
        except RecursionError:
            raise RecordingCorruptError(f"{path}: not a valid recording (nested too deeply)") from None
        except (TypeError, ValueError) as exc:
            raise RecordingCorruptError(f"{path}: not a valid recording ({exc})") from None
        if not key_matches:
            raise RecordingCorruptError(
                f"{path}: the request does not hash to the file's name and key (expected {recording.key}); "
                "the file was edited or renamed by hand: re-record it instead"
            )
        if not checksum_matches:
            raise RecordingCorruptError(
                f"{path}: checksum mismatch: the answer or provenance was edited by hand; "
                "recordings hold only text a model returned: re-record it instead"
            )
        return recording

    @classmethod
    def _from_data(cls, data: Any) -> Recording:
        if not isinstance(data, dict):
            raise TypeError(f"the file holds a JSON {_json_kind(data)}, not an object")
        if data.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT!r}")
        missing = [name for name in ("key", "request", "answer", "provenance", "checksum") if name not in data]
        if missing:
            raise ValueError(f"no {', '.join(repr(m) for m in missing)} field")
        if not isinstance(data["key"], str) or not isinstance(data["checksum"], str):
            raise TypeError("key and checksum must be text")
        return cls(request=data["request"], answer=data["answer"], provenance=data["provenance"])

    def __post_init__(self) -> None:
        # Checked at construction, so a malformed recording can be neither loaded nor written.
        request, answer, provenance = self.request, self.answer, self.provenance
        if not isinstance(request, dict) or set(request) != {"model", "messages", "params"}:
            raise ValueError("request must have exactly model, messages and params")
        if not isinstance(request["model"], str) or not isinstance(request["params"], dict):
            raise TypeError("request: model must be text and params an object")
        if not isinstance(request["messages"], list) or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
            for m in request["messages"]
        ):
            raise ValueError("request messages must be role/content objects")
        if not any(m["role"] == "user" for m in request["messages"]):
            raise ValueError("request has no user message")
        if not isinstance(answer, str):
            raise TypeError(f"answer must be text; got {type(answer).__name__}")
        if not isinstance(provenance, dict):
            raise TypeError(f"provenance must be an object; got {type(provenance).__name__}")
        for name, types in _PROVENANCE_TYPES.items():
            if name not in provenance:
                raise ValueError(f"provenance has no {name!r} field")
            if not isinstance(provenance[name], types):
                raise TypeError(f"provenance.{name} has the wrong type")


def _json_kind(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _read_regular_file(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most MAX_RECORDING_BYTES; else the error."""
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        if os.path.islink(path):
            raise RecordingCorruptError(
                f"{path}: unreadable recording (a symbolic link to {os.readlink(path)!r}, which does not exist)"
            ) from None
        raise RecordingCorruptError(f"{path}: unreadable recording (the file does not exist)") from None
    except OSError as exc:
        raise RecordingCorruptError(f"{path}: unreadable recording ({exc.strerror or exc})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")
        raise RecordingCorruptError(f"{path}: unreadable recording ({kind}, not a regular file)")
    with os.fdopen(fd, "rb") as f:
        try:
            content = f.read(MAX_RECORDING_BYTES + 1)
        except OSError as exc:
            raise RecordingCorruptError(f"{path}: unreadable recording ({exc.strerror or exc})") from None
    if len(content) > MAX_RECORDING_BYTES:
        raise RecordingCorruptError(
            f"{path}: unreadable recording (larger than {MAX_RECORDING_BYTES // (1024 * 1024)} MiB, "
            "far more than any answer)"
        )
    return content


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(path: Path, content: bytes) -> Any:
    """The JSON in ``content``; bad UTF-8, bad JSON, too deep or too long a number is the error."""
    try:
        return json.loads(content.decode("utf-8"), parse_float=_finite_float, parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text: byte {exc.start}"
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg}: line {exc.lineno} column {exc.colno}"
    except RecursionError:
        reason = "JSON nested too deeply"
    except ValueError as exc:  # an integer longer than Python converts (sys.get_int_max_str_digits), NaN
        reason = str(exc).split(";")[0]
    raise RecordingCorruptError(f"{path}: unreadable recording ({reason})")


def recordings_dir() -> Path:
    """``LLMARCH_RECORDINGS`` if set, else the recordings shipped with the package."""
    configured = os.environ.get("LLMARCH_RECORDINGS")
    return Path(configured).expanduser() if configured else PACKAGE_RECORDINGS


class RecordingStore:
    """A folder of recordings: look up by request, write atomically, list and verify.

    Parameters
    ----------
    directory : str or os.PathLike, optional
        The folder; default ``LLMARCH_RECORDINGS`` if set, else the recordings shipped with
        the package. A folder that does not exist holds no recordings (``put`` creates it);
        one that is a file, or cannot be listed, is a :class:`ConfigurationError` naming it.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        if directory is not None and not isinstance(directory, (str, os.PathLike)):
            raise TypeError(f"directory must be a path (str or os.PathLike); got {type(directory).__name__}")
        self.from_env = directory is None and bool(os.environ.get("LLMARCH_RECORDINGS"))
        self.directory = Path(directory) if directory is not None else recordings_dir()

    @property
    def named(self) -> str:
        """The folder as messages name it, with the variable that chose it."""
        return f"{self.directory} (LLMARCH_RECORDINGS)" if self.from_env else str(self.directory)

    def folder_problem(self) -> str | None:
        """Why the folder cannot be read (it does not exist, is a file, cannot be listed), or None."""
        try:
            mode = os.stat(self.directory).st_mode
        except FileNotFoundError:
            return f"the recordings folder {self.named} does not exist"
        except NotADirectoryError:
            return f"the recordings folder {self.named} cannot be created (a parent is a file)"
        except OSError as exc:
            return f"the recordings folder {self.named} cannot be read ({exc.strerror or exc})"
        if not stat.S_ISDIR(mode):
            return f"the recordings folder {self.named} is not a folder (it is a file)"
        if not os.access(self.directory, os.R_OK | os.X_OK):
            return f"the recordings folder {self.named} cannot be read (permission denied)"
        return None

    def _unusable(self) -> ConfigurationError:
        return ConfigurationError(self.folder_problem() or f"the recordings folder {self.named} cannot be read")

    def path_for(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def has(self, key: str) -> bool:
        """Whether a file of any kind, even a dangling link, is named ``<key>.json``."""
        return os.path.lexists(self.path_for(key))

    def get(self, request: Mapping[str, Any]) -> Recording | None:
        """The recording of ``request``, or None; a damaged file raises :class:`RecordingCorruptError`.

        A folder that does not exist holds nothing (None); one that is not a folder raises
        :class:`ConfigurationError`.
        """
        path = self.path_for(request_key(request))
        try:
            os.lstat(path)  # lstat: a dangling link is a damaged recording, not a missing one
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            raise self._unusable() from None
        except OSError as exc:
            raise RecordingCorruptError(f"{path}: unreadable recording ({exc.strerror or exc})") from None
        return Recording.load(path)

    def ensure_writable(self) -> None:
        """Check, before any live call, that a recording can be written here (nothing is created yet)."""
        existing = self.directory.absolute()
        while not os.path.lexists(existing) and existing.parent != existing:
            existing = existing.parent  # the folder will be created under its nearest existing ancestor
        itself = existing == self.directory.absolute()
        if not existing.is_dir():
            reason = "is not a folder (it is a file)" if itself else "cannot be created (a parent is a file)"
        elif not os.access(existing, os.W_OK | os.X_OK):
            reason = f"cannot be {'written' if itself else 'created'} (permission denied, or a read-only file system)"
        else:
            return
        raise ConfigurationError(f"cannot record: the recordings folder {self.named} {reason}; nothing was asked")

    def put(self, recording: Recording) -> Path:
        """Write ``recording`` atomically (temporary file, fsync, rename); return its path."""
        if not isinstance(recording, Recording):
            raise TypeError(f"recording must be a Recording; got {type(recording).__name__}")
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path_for(recording.key)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{recording.key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.write(recording.to_json())
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def files(self) -> list[Path]:
        """Every ``*.json`` name in the folder, of any file type, sorted; [] if the folder does not exist.

        Temporary files (``.<key>.*.tmp``) are not listed. A folder that is a file or cannot be
        listed raises :class:`ConfigurationError`.
        """
        try:
            with os.scandir(self.directory) as entries:
                names = sorted(e.name for e in entries if e.name.endswith(".json") and not e.name.startswith("."))
        except FileNotFoundError:
            return []
        except OSError:
            raise self._unusable() from None
        return [self.directory / name for name in names]

    def load_all(self) -> tuple[dict[str, Recording], list[RecordingCorruptError]]:
        """Every recording by key, and the errors of those that could not be read."""
        found: dict[str, Recording] = {}
        errors: list[RecordingCorruptError] = []
        for path in self.files():
            try:
                recording = Recording.load(path)
            except RecordingCorruptError as exc:
                errors.append(exc)
            else:
                found[recording.key] = recording
        return found, errors
