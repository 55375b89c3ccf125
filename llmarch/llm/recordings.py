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
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmarch.llm.errors import ConfigurationError, RecordingCorruptError

FORMAT = "llmarch-recording/1"
#: The recordings shipped inside the package (package data).
PACKAGE_RECORDINGS = Path(__file__).resolve().parent / "recordings"
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
    unknown = sorted(set(params) - set(SAMPLING_PARAMS))
    if unknown:
        raise ConfigurationError(f"unknown sampling parameter(s) {unknown}; known: {sorted(SAMPLING_PARAMS)}")
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
    def load(cls, path: Path) -> Recording:
        """Read and check one file; any problem is a :class:`RecordingCorruptError` naming it."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RecordingCorruptError(f"{path}: unreadable recording ({exc})") from None
        try:
            recording = cls._from_data(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordingCorruptError(f"{path}: not a valid recording ({exc})") from None
        if data["key"] != recording.key or path.name != f"{recording.key}.json":
            raise RecordingCorruptError(
                f"{path}: the request does not hash to the file's name and key (expected {recording.key}); "
                "the file was edited or renamed by hand: re-record it instead"
            )
        if data["checksum"] != recording.checksum:
            raise RecordingCorruptError(
                f"{path}: checksum mismatch: the answer or provenance was edited by hand; "
                "recordings hold only text a model returned: re-record it instead"
            )
        return recording

    @classmethod
    def _from_data(cls, data: Any) -> Recording:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT!r}")
        request, answer, provenance = data["request"], data["answer"], data["provenance"]
        if not isinstance(request, dict) or set(request) != {"model", "messages", "params"}:
            raise ValueError("request must have exactly model, messages and params")
        if not isinstance(request["messages"], list) or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
            for m in request["messages"]
        ):
            raise ValueError("request messages must be role/content objects")
        if not isinstance(answer, str):
            raise TypeError("answer must be text")
        if not isinstance(provenance, dict):
            raise TypeError("provenance must be an object")
        for name, types in _PROVENANCE_TYPES.items():
            if not isinstance(provenance[name], types):
                raise TypeError(f"provenance.{name} has the wrong type")
        if not any(m["role"] == "user" for m in request["messages"]):
            raise ValueError("request has no user message")
        return cls(request=request, answer=answer, provenance=provenance)


def recordings_dir() -> Path:
    """``LLMARCH_RECORDINGS`` if set, else the recordings shipped with the package."""
    configured = os.environ.get("LLMARCH_RECORDINGS")
    return Path(configured).expanduser() if configured else PACKAGE_RECORDINGS


class RecordingStore:
    """A folder of recordings: look up by request, write atomically, list and verify."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else recordings_dir()

    def path_for(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, request: Mapping[str, Any]) -> Recording | None:
        """The recording of ``request``, or None; a damaged file raises :class:`RecordingCorruptError`."""
        path = self.path_for(request_key(request))
        if not path.exists():
            return None
        return Recording.load(path)

    def put(self, recording: Recording) -> Path:
        """Write ``recording`` atomically (temporary file, fsync, rename); return its path."""
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
        """Every ``*.json`` file in the folder, sorted (temporary files end in ``.tmp``)."""
        return sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []

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
