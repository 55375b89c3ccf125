"""``LLMConnector``: ask a chat model a question, answered from a recording or by a live call.

Modes (``LLMARCH_LLM_MODE``, or ``mode=``):

========  ==================================================================================
auto      the recorded answer if there is one, else a live call if credentials are set (the
          answer is returned, not written), else an error that says how to get one
replay    recorded answers only; a miss is an error naming the prompt, its key and the
          command that records it. The site build, the snippets and the tests use this.
record    the recorded answer if there is one, else a live call whose answer is written
refresh   always a live call, and its answer is written (replacing any recording)
========  ==================================================================================

Providers, chosen from the environment when a live call is needed (Azure first):

* Azure OpenAI: ``AZURE_OPENAI_API_KEY``, ``AZURE_OPENAI_ENDPOINT``, ``OPENAI_API_VERSION``,
  and ``AZURE_OPENAI_DEPLOYMENT`` (default: the model name);
* OpenAI, or any OpenAI-compatible server (vLLM, Ollama, ...): ``OPENAI_API_KEY`` and/or
  ``OPENAI_BASE_URL``. A local server without a key gets a placeholder key, which the
  official SDK insists on and such servers ignore.

Live calls go through the official ``openai`` SDK, imported only when one is made, so
replaying needs nothing but this package. Its retries (exponential backoff with jitter,
honouring ``Retry-After``; on connection errors, timeouts, 408, 409, 429 and 5xx) and its
timeout are configured here (``max_retries``, ``timeout``), not reimplemented. The overall
``deadline`` is met through the same two settings: only as many attempts are allowed as fit
in it, each with its timeout and the SDK's wait before it.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
import shlex
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from llmarch.llm.errors import ConfigurationError, LiveCallError, RecordingMissingError
from llmarch.llm.recordings import (
    PACKAGE_RECORDINGS,
    Recording,
    RecordingStore,
    canonical_request,
    first_line,
    request_key,
)

MODES = ("auto", "replay", "record", "refresh")
DEFAULT_MODEL = "gpt-4o"
#: Seconds to wait for one attempt: a long answer from gpt-4o takes well under a minute.
DEFAULT_TIMEOUT_S = 60.0
#: Retries after the first attempt, at most (fewer if the deadline leaves no room for them).
DEFAULT_MAX_RETRIES = 4
#: Seconds for a whole call, every attempt and the waits between them: a server that never
#: answers is given up after this long.
DEFAULT_DEADLINE_S = 180.0
# The SDK's wait before retry n is at most min(0.5 * 2**n, 8) seconds (openai._constants
# INITIAL_RETRY_DELAY and MAX_RETRY_DELAY; jitter only shortens it).
_SDK_FIRST_WAIT_S, _SDK_LONGEST_WAIT_S = 0.5, 8.0
AZURE_VARS = ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION", "AZURE_OPENAI_DEPLOYMENT")
OPENAI_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL")
SECRET_VARS = ("AZURE_OPENAI_API_KEY", "OPENAI_API_KEY")
#: What the SDK is given as the key of a keyless local server.
PLACEHOLDER_KEY = "no-key-needed"
_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_\-*.]{4,}")


def _sdk_version() -> str | None:
    """The installed openai SDK's version, without importing it (replay must not need it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("openai")
    except PackageNotFoundError:
        return None


def redact(text: str) -> str:
    """``text`` with every configured key, and anything shaped like an OpenAI key, replaced by ***."""
    for name in SECRET_VARS:
        secret = os.environ.get(name)
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_LIKE.sub("sk-***", text)


@dataclass(frozen=True)
class Provider:
    """Where live calls go. Holds no secret: the key is read from the environment per call."""

    name: str  # "Azure OpenAI", "OpenAI" or "OpenAI-compatible server"
    deployment: str | None = None  # Azure only: the deployment that serves the model

    def client(self, timeout: float, max_retries: int) -> Any:
        import openai

        if self.name == "Azure OpenAI":
            return openai.AzureOpenAI(
                azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"],
                api_key=os.environ["AZURE_OPENAI_API_KEY"],
                api_version=os.environ["OPENAI_API_VERSION"],
                timeout=timeout,
                max_retries=max_retries,
            )
        return openai.OpenAI(
            api_key=os.environ.get("OPENAI_API_KEY") or PLACEHOLDER_KEY,
            base_url=os.environ.get("OPENAI_BASE_URL") or None,
            timeout=timeout,
            max_retries=max_retries,
        )


def check_url(name: str) -> None:
    """Fail at once, naming the variable, if ``name`` holds no http(s) URL with a host (the SDK would retry it)."""
    value = os.environ.get(name, "")
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 1) > 0
    except ValueError:  # a port that is not a number, a bad IPv6 address
        parts, valid = None, False
    if not valid:
        shown = value if parts is None or "@" not in parts.netloc else value.replace(parts.netloc, parts.hostname or "")
        raise ConfigurationError(
            f"{name} must be an http:// or https:// URL with a host, such as https://api.openai.com/v1 "
            f"or http://127.0.0.1:11434/v1; it is {redact(shown)!r}"
        )


def provider_from_env(model: str) -> Provider | None:
    """The provider the environment configures, or None; a half-configured Azure or a bad URL is an error."""
    env = os.environ
    if env.get("AZURE_OPENAI_ENDPOINT") or env.get("AZURE_OPENAI_API_KEY"):
        missing = [name for name in AZURE_VARS[:3] if not env.get(name)]
        if missing:
            raise ConfigurationError(f"Azure OpenAI is only partly configured: {', '.join(missing)} not set")
        check_url("AZURE_OPENAI_ENDPOINT")
        return Provider("Azure OpenAI", deployment=env.get("AZURE_OPENAI_DEPLOYMENT") or model)
    if env.get("OPENAI_API_KEY") or env.get("OPENAI_BASE_URL"):
        base = env.get("OPENAI_BASE_URL", "")
        if base:
            check_url("OPENAI_BASE_URL")
        official = not base or base.rstrip("/").endswith("api.openai.com/v1")
        return Provider("OpenAI" if official else "OpenAI-compatible server")
    return None


def attempt_budget(timeout: float, max_retries: int, deadline: float) -> tuple[float, int]:
    """The SDK's ``timeout`` per attempt and ``max_retries`` such that every attempt fits in ``deadline``.

    Each attempt may take ``timeout`` seconds and the SDK waits before each retry (at most
    0.5, 1, 2, 4, 8, 8, ... seconds); retries are allowed while the worst case stays within
    ``deadline``. A server's ``Retry-After`` is the one wait this cannot foresee.
    """
    per_attempt = min(timeout, deadline)
    worst, retries = per_attempt, 0
    while retries < max_retries:
        wait = min(_SDK_FIRST_WAIT_S * 2**retries, _SDK_LONGEST_WAIT_S)
        if worst + wait + per_attempt > deadline:
            break
        worst += wait + per_attempt
        retries += 1
    return per_attempt, retries


def cut_reason(provenance: dict[str, Any]) -> str | None:
    """Why a live answer is incomplete, from its finish reason, or None if the model finished."""
    reason = provenance.get("finish_reason")
    if reason in (None, "stop"):
        return None
    if reason == "length":
        return 'the answer was cut: the model reached its length limit (finish reason "length"; max_tokens, if set)'
    if reason == "content_filter":
        return 'the answer was cut by the provider\'s content filter (finish reason "content_filter")'
    return f"the model stopped before finishing (finish reason {reason!r})"


def mode_from_env() -> str:
    mode = os.environ.get("LLMARCH_LLM_MODE") or "auto"
    if mode not in MODES:
        raise ConfigurationError(f"LLMARCH_LLM_MODE must be one of {', '.join(MODES)}; it is {mode!r}")
    return mode


NO_CREDENTIALS = (
    "no credentials are set: set AZURE_OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION "
    "(Azure OpenAI), or OPENAI_API_KEY and/or OPENAI_BASE_URL (OpenAI or a compatible server); "
    "`llmarch check` shows what is found"
)


@dataclass(frozen=True)
class Completion:
    """An answer and where it came from: ``source`` is ``"recording"`` or ``"live"``."""

    text: str
    recording: Recording
    source: str


@dataclass(frozen=True)
class CheckReport:
    """What :meth:`LLMConnector.check` found. ``str()`` gives the report the CLI prints."""

    mode: str
    mode_from: str
    model: str
    credentials: dict[str, bool]
    provider: Provider | None
    provider_problem: str | None
    sdk_version: str | None
    recordings_dir: Path
    recordings_from: str
    recordings: int
    excerpts: int
    unreadable: int
    recordings_problem: str | None = None
    unreadable_files: tuple[str, ...] = ()

    @property
    def live_calls(self) -> str:
        """Whether a live call could be made now, and if not, why not."""
        if self.mode == "replay":
            return "off: mode replay uses recorded answers only"
        if self.provider_problem:
            return f"not possible: {self.provider_problem}"
        if self.provider is None:
            return "not possible: no credentials found"
        if self.sdk_version is None:
            return "not possible: the openai package is not installed (pip install 'llmarch[llm]')"
        return f"ready, through the openai SDK {self.sdk_version}"

    def __str__(self) -> str:
        def found(name: str) -> str:
            state = "found" if self.credentials[name] else "not set"
            if name == "AZURE_OPENAI_DEPLOYMENT" and not self.credentials[name]:
                state += f" (the model name is used: {self.model})"
            return f"    {name:<25}{state}"

        if self.provider is None:
            provider = "none configured"
        elif self.provider.deployment:
            provider = f"{self.provider.name} (deployment {self.provider.deployment})"
        else:
            provider = self.provider.name
        counts = f"{self.recordings}"
        if self.recordings_problem:
            counts = f"none: {self.recordings_problem}"
        elif self.recordings:
            counts += f" ({self.excerpts} of them excerpts)" if self.excerpts else " (all complete)"
        if self.unreadable:
            counts += f", and {self.unreadable} unreadable: run `llmarch recordings verify`"
        return "\n".join(
            [
                "LLM configuration check",
                f"  mode        {self.mode} ({self.mode_from})",
                "  Azure OpenAI",
                *(found(name) for name in AZURE_VARS),
                "  OpenAI or a compatible server",
                *(found(name) for name in OPENAI_VARS),
                f"  provider    {provider}",
                f"  live calls  {self.live_calls}",
                f"  recordings  {counts}",
                f"              in {self.recordings_dir} ({self.recordings_from})",
                *(f"              {problem}" for problem in self.unreadable_files),
            ]
        )


class LLMConnector:
    """Ask a chat model; answers come from recordings first (see the module doc for the modes).

    Parameters
    ----------
    model : str, default "gpt-4o"
        The logical model name, part of every request's key (``"gpt-4o"``, as in the source
        notebook). On Azure, ``AZURE_OPENAI_DEPLOYMENT`` names the deployment that serves it.
    mode : str, optional
        ``"auto"``, ``"replay"``, ``"record"`` or ``"refresh"``; default ``LLMARCH_LLM_MODE``,
        else ``"auto"``.
    recordings : str or os.PathLike, optional
        The folder of recordings; default ``LLMARCH_RECORDINGS``, else the package's own.
    temperature : float, optional
        Sampling temperature. Like every sampling parameter: sent only if set, and then part
        of the request's key.
    top_p : float, optional
        Nucleus-sampling probability mass; sent only if set, and part of the key.
    max_tokens : int, optional
        The longest answer, in tokens; sent only if set, and part of the key. An answer cut
        at this limit is recorded as incomplete (finish reason ``"length"``).
    seed : int, optional
        The provider's sampling seed; sent only if set, and part of the key.
    timeout : float, default 60.0
        Seconds to wait for one attempt (the openai SDK's ``timeout``).
    max_retries : int, default 4
        Retries after the first attempt, at most (the SDK's ``max_retries``); fewer when
        ``deadline`` leaves no room for them.
    deadline : float, default 180.0
        Seconds for the whole call: every attempt with the SDK's waits between them fits in
        it (only a server's ``Retry-After`` may add to it). A server that never answers is
        given up after at most this long.

    Raises
    ------
    ConfigurationError
        If the mode, the model name or a parameter is invalid.

    Examples
    --------
    >>> from llmarch.llm import LLMConnector
    >>> connector = LLMConnector()
    >>> answer = connector.get_completion("Explain attention in one sentence.")  # doctest: +SKIP
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        mode: str | None = None,
        recordings: Path | str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float = DEFAULT_DEADLINE_S,
    ) -> None:
        if mode is not None and mode not in MODES:
            raise ConfigurationError(f"mode must be one of {', '.join(MODES)}; it is {mode!r}")
        for name, seconds in (("timeout", timeout), ("deadline", deadline)):
            if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) or not 0 < seconds < math.inf:
                raise ConfigurationError(f"{name} must be a number of seconds > 0; got {seconds!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, numbers.Integral) or max_retries < 0:
            raise ConfigurationError(f"max_retries must be an integer >= 0; got {max_retries!r}")
        self.model = model
        self.mode = mode or mode_from_env()
        if mode:
            self._mode_from = "set by the program"
        elif os.environ.get("LLMARCH_LLM_MODE"):
            self._mode_from = "from LLMARCH_LLM_MODE"
        else:
            self._mode_from = "the default; LLMARCH_LLM_MODE is not set"
        if recordings is not None and not isinstance(recordings, (str, os.PathLike)):
            raise ConfigurationError(
                f"recordings must be a folder (str or os.PathLike); got {type(recordings).__name__}"
            )
        self.store = RecordingStore(recordings)
        self.params = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, "seed": seed}
        canonical_request(model, "-", self.params)  # fail now on a bad model name or parameter
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.deadline = float(deadline)

    def __repr__(self) -> str:
        return f"LLMConnector(model={self.model!r}, mode={self.mode!r}, recordings={str(self.store.directory)!r})"

    # ------------------------------------------------------------------ asking
    def get_completion(self, prompt: str) -> str:
        """The answer to ``prompt`` (one user message), as text."""
        return self.complete(prompt).text

    def complete(self, prompt: str) -> Completion:
        """The answer to ``prompt`` with its recording (request, provenance) and its source."""
        request = canonical_request(self.model, prompt, self.params)
        if self.mode != "refresh":
            recording = self.store.get(request)
            if recording is not None:
                return Completion(recording.answer, recording, "recording")
        if self.mode == "replay":
            raise RecordingMissingError(self._missing_message(request))
        provider = provider_from_env(self.model)
        if provider is None:
            if self.mode == "auto":
                raise RecordingMissingError(f"{self._missing_message(request)}\nNo live call either: {NO_CREDENTIALS}")
            raise ConfigurationError(f"mode {self.mode} makes live calls, but {NO_CREDENTIALS}")
        if self.mode in ("record", "refresh"):
            self.store.ensure_writable()  # before the call: a live answer must not be lost to the folder
        recording = self._live_call(provider, request)
        if self.mode in ("record", "refresh"):
            self.store.put(recording)
        return Completion(recording.answer, recording, "live")

    def _missing_message(self, request: dict[str, Any]) -> str:
        prompt = request["messages"][-1]["content"]
        if self.model == DEFAULT_MODEL and not request["params"]:
            command = f"LLMARCH_LLM_MODE=record llmarch ask {shlex.quote(prompt)}"
        elif not request["params"]:
            command = f"LLMARCH_LLM_MODE=record llmarch ask --model {shlex.quote(self.model)} {shlex.quote(prompt)}"
        else:
            command = "LLMARCH_LLM_MODE=record python <your script>  (the request has sampling parameters)"
        problem = self.store.folder_problem()
        where = f"{self.store.directory} ({problem})" if problem else f"{self.store.directory}"
        return (
            f'no recorded answer for the prompt "{first_line(prompt)}" '
            f"(model {self.model}, key {request_key(request)}) in {where}, mode {self.mode}.\n"
            f"To record it (needs credentials, see `llmarch check`):\n    {command}\n"
            "A prompt that a snippet in snippets/ asks is recorded by: llmarch record"
        )

    # ------------------------------------------------------------------ live calls
    def _live_call(self, provider: Provider, request: dict[str, Any]) -> Recording:
        """One chat completion through the SDK (which retries); the answer as a new recording."""
        try:
            import openai
        except ImportError:
            raise ConfigurationError("live calls need the openai package: pip install 'llmarch[llm]'") from None

        where = provider.name
        timeout, retries = attempt_budget(self.timeout, self.max_retries, self.deadline)
        try:
            with provider.client(timeout, retries) as client:
                completion = client.chat.completions.create(
                    model=provider.deployment or request["model"], messages=request["messages"], **request["params"]
                )
        except openai.APITimeoutError:
            raise LiveCallError(
                f"{where} did not answer within {timeout:g} s, {retries + 1} attempt(s) "
                f"(timeout {self.timeout:g} s per attempt, deadline {self.deadline:g} s; "
                "llmarch ask --timeout/--deadline, or LLMConnector(timeout=, deadline=), change them)"
            ) from None
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            attempts = f"{retries + 1} attempt(s)"
            raise LiveCallError(f"could not reach {where} after {attempts}: {redact(str(cause))}") from None
        except openai.APIStatusError as exc:
            raise LiveCallError(f"{where} answered HTTP {exc.status_code}: {redact(exc.message)}") from None
        except openai.OpenAIError as exc:
            raise LiveCallError(f"{where}: {redact(str(exc))}") from None
        except json.JSONDecodeError as exc:  # the body said JSON but was not
            raise LiveCallError(f"{where} sent a response that is not valid JSON ({exc.msg})") from None

        if not hasattr(completion, "choices"):
            raise LiveCallError(f"{where} sent a response that is not a chat completion ({type(completion).__name__})")
        choices = completion.choices
        if not choices:
            raise LiveCallError(f"{where} sent a chat completion with no choices, so there is no answer to return")
        message = getattr(choices[0], "message", None)
        text = getattr(message, "content", None)
        if not isinstance(text, str):
            raise LiveCallError(
                f"{where} sent a chat completion with no text (finish reason {choices[0].finish_reason})"
            )
        finish_reason = choices[0].finish_reason
        provenance: dict[str, Any] = {
            "provider": provider.name,
            "served_model": getattr(completion, "model", None) or None,
            "when": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "how": f"recorded live by llmarch through the openai SDK {openai.__version__}",
            "complete": finish_reason == "stop",
            "finish_reason": finish_reason,
        }
        if provider.deployment:
            provenance["deployment"] = provider.deployment
        cut = cut_reason(provenance)
        if cut:
            provenance["note"] = cut
        return Recording(request=request, answer=text, provenance=provenance)

    def ping(self) -> str:
        """One real call, whatever the mode, nothing recorded: a line saying who answered and how fast."""
        provider = provider_from_env(self.model)
        if provider is None:
            raise ConfigurationError(NO_CREDENTIALS)
        request = canonical_request(self.model, "Reply with the single word: pong", self.params)
        start = time.perf_counter()
        recording = self._live_call(provider, request)
        seconds = time.perf_counter() - start
        served = recording.provenance["served_model"] or "unknown model"
        return f"{provider.name} answered in {seconds:.2f} s (model {served}): {first_line(recording.answer, 60)}"

    # ------------------------------------------------------------------ configuration
    def check(self) -> CheckReport:
        """Which credentials are set (never their values), the mode, and the recordings."""
        try:
            provider, problem = provider_from_env(self.model), None
        except ConfigurationError as exc:
            provider, problem = None, str(exc)
        folder_problem = self.store.folder_problem()
        found, unreadable = ({}, []) if folder_problem else self.store.load_all()
        if self.store.directory == PACKAGE_RECORDINGS:
            where = "shipped with the package"
        elif os.environ.get("LLMARCH_RECORDINGS"):
            where = "from LLMARCH_RECORDINGS"
        else:
            where = "given to LLMConnector"
        return CheckReport(
            mode=self.mode,
            mode_from=self._mode_from,
            model=self.model,
            credentials={name: bool(os.environ.get(name)) for name in (*AZURE_VARS, *OPENAI_VARS)},
            provider=provider,
            provider_problem=problem,
            sdk_version=_sdk_version(),
            recordings_dir=self.store.directory,
            recordings_from=where,
            recordings=len(found),
            excerpts=sum(not r.complete for r in found.values()),
            unreadable=len(unreadable),
            recordings_problem=folder_problem,
            unreadable_files=tuple(str(error) for error in unreadable),
        )
