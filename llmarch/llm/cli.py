"""``llmarch``: check the LLM configuration, ask, record the site's prompts, verify recordings.

    llmarch check [--ping]             what is configured (never a credential's value); --ping makes one real call
    llmarch ask PROMPT [--model M]     print the answer (mode from LLMARCH_LLM_MODE, default auto)
    llmarch record [--refresh] [SNIPPET ...]
                                       record every prompt the site's snippets ask (live calls)
    llmarch recordings verify          every file valid, no orphan, no prompt without a recording

Every error is one message on stderr and exit status 1, never a traceback. A live call
waits at most ``--timeout`` seconds per attempt and ``--deadline`` seconds in all.
Text from a model or a server is printed to a terminal with its control characters shown
as escapes (``\x1b``), so an answer cannot clear the screen or retitle the window; piped
or redirected, the answer is written exactly as the model returned it.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path
from typing import TextIO

from llmarch.llm.connector import (
    DEFAULT_DEADLINE_S,
    DEFAULT_MODEL,
    DEFAULT_TIMEOUT_S,
    NO_CREDENTIALS,
    LLMConnector,
    cut_reason,
    provider_from_env,
)
from llmarch.llm.errors import ConfigurationError, LLMError, SitePromptError
from llmarch.llm.recordings import RecordingStore, first_line, request_key
from llmarch.llm.site_prompts import SitePrompt, collect
from llmarch.trainer import add_train_command


def _find_snippets(given: Path | None) -> Path:
    """The site's ``snippets/`` folder: as given, else the checkout beside the package, else ./snippets."""
    if given is not None:
        candidates = [given]
    else:
        candidates = [Path(__file__).resolve().parents[2] / "snippets", Path.cwd() / "snippets"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    raise SitePromptError(
        f"cannot find the site's snippets/ folder (looked at {', '.join(map(str, candidates))}): "
        "run from the repository root or pass --snippets DIR"
    )


# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides and
# isolates (which can make text read differently from what it is).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every terminal control character shown as an escape: ESC becomes ``\\x1b``."""
    text = text.replace("\r\n", "\n")
    return _UNSAFE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def emit(text: str, stream: TextIO | None = None) -> None:
    """Print model or server text: made safe for a terminal, written as is anywhere else."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    print(printable(text) if isatty is not None and isatty() else text, file=stream)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0; got {text!r}")
    return value


def _live_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"how long to wait for one attempt of a live call (default {DEFAULT_TIMEOUT_S:g})",
    )
    command.add_argument(
        "--deadline",
        type=_seconds,
        default=DEFAULT_DEADLINE_S,
        metavar="SECONDS",
        help=f"how long a live call may take in all, retries included (default {DEFAULT_DEADLINE_S:g}: "
        f"a server that never answers is given up within {DEFAULT_DEADLINE_S / 60:g} minutes)",
    )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root.parent).as_posix()
    except ValueError:
        return str(path)


def cmd_check(args: argparse.Namespace) -> int:
    connector = LLMConnector(timeout=args.timeout, deadline=args.deadline)
    emit(str(connector.check()))
    if args.ping:
        emit(f"  ping        {connector.ping()}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    completion = LLMConnector(args.model, timeout=args.timeout, deadline=args.deadline).complete(args.prompt)
    emit(completion.text)
    provenance = completion.recording.provenance
    cut = cut_reason(provenance)
    if cut:
        where = "this recorded answer is incomplete" if completion.source == "recording" else "incomplete answer"
        emit(f"\n[llmarch: {where}: {cut}.]", sys.stderr)
    elif completion.source == "recording" and not completion.recording.complete:
        emit(
            f"\n[llmarch: this recorded answer is an excerpt: {provenance['how']}. "
            "`llmarch record --refresh` records full answers for the site's prompts.]",
            sys.stderr,
        )
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    snippets = _find_snippets(args.snippets)
    prompts = collect(snippets, args.only or None)
    if not prompts:
        print(f"no prompts to record: no snippet under {snippets} calls get_completion")
        return 0
    store = RecordingStore()
    if args.refresh or any(not store.has(request_key(p.request)) for p in prompts):
        # Fail once, before the progress bar (and before any live call), rather than once per prompt.
        if provider_from_env(DEFAULT_MODEL) is None:
            raise ConfigurationError(f"llmarch record makes live calls, but {NO_CREDENTIALS}")
        store.ensure_writable()
    try:
        from tqdm import tqdm
    except ImportError:
        raise ConfigurationError("llmarch record needs the llm extra: pip install 'llmarch[llm]'") from None

    mode = "refresh" if args.refresh else "record"
    recorded, kept, failed = 0, 0, 0
    with tqdm(prompts, desc="recording", unit="prompt", file=sys.stderr, dynamic_ncols=True) as bar:
        for prompt in bar:
            where = f"{_relative(prompt.path, snippets)}:{prompt.line}"
            try:
                connector = LLMConnector(
                    prompt.model, mode=mode, timeout=args.timeout, deadline=args.deadline, **prompt.params
                )
                completion = connector.complete(prompt.prompt)
            except LLMError as exc:
                failed += 1
                tqdm.write(f"failed   {where}: {printable(str(exc))}", file=sys.stderr)
                continue
            if completion.source == "live":
                recorded += 1
                cut = cut_reason(completion.recording.provenance)
                note = f" (incomplete: {cut})" if cut else ""
                tqdm.write(f"recorded {where} -> {completion.recording.key}.json{note}", file=sys.stderr)
            else:
                kept += 1
    print(f"recorded {recorded}, kept {kept}, failed {failed} (recordings in {store.directory})")
    if recorded:
        print("next: `make snippets` rewrites the snippets' #> lines; `llmarch recordings verify` checks the files")
    if failed:
        print("what was recorded is kept; run the same command again to retry the failed prompts", file=sys.stderr)
    return 1 if failed else 0


def verify(store: RecordingStore, prompts: list[SitePrompt], snippets: Path) -> list[str]:
    """Every problem with ``store`` against the site's ``prompts``: unreadable, orphan, missing."""
    folder_problem = store.folder_problem()
    found, errors = ({}, []) if folder_problem else store.load_all()
    problems = [folder_problem] if folder_problem else []
    problems += [str(error) for error in errors]
    wanted = {request_key(p.request): p for p in prompts}
    for key in sorted(set(found) - set(wanted)):
        problems.append(
            f'{store.path_for(key)}: orphan: no snippet asks its prompt "{first_line(found[key].prompt)}" '
            "(delete the file, or put the prompt back in a snippet)"
        )
    for key, prompt in wanted.items():
        if key not in found:
            where = _relative(prompt.path, snippets) + f":{prompt.line}"
            problems.append(
                f'{where}: no recording for the prompt "{first_line(prompt.prompt)}" (key {key}); '
                "record it with: llmarch record"
            )
    return problems


def cmd_recordings_verify(args: argparse.Namespace) -> int:
    snippets = _find_snippets(args.snippets)
    store = RecordingStore()
    problems = verify(store, collect(snippets), snippets)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in {store.directory}", file=sys.stderr)
        return 1
    count = len(store.files())
    print(f"{count} recording(s) in {store.directory} verified; every prompt in {snippets} has one")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="llmarch",
        description="Recorded LLM answers for the llmarch site: check, ask, record, verify.",
        epilog="Environment: LLMARCH_LLM_MODE (auto|replay|record|refresh), LLMARCH_RECORDINGS, and the "
        "provider's credentials (see `llmarch check` and the Setup page). A live call waits at most "
        f"{DEFAULT_TIMEOUT_S:g} s per attempt and {DEFAULT_DEADLINE_S:g} s in all, unless --timeout and "
        "--deadline say otherwise.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="report the configuration (never a credential's value)")
    check.add_argument("--ping", action="store_true", help="also make one real call to the provider")
    _live_options(check)
    check.set_defaults(run=cmd_check)

    ask = commands.add_parser("ask", help="print the answer to PROMPT")
    ask.add_argument("prompt", metavar="PROMPT")
    ask.add_argument("--model", default=DEFAULT_MODEL, help=f"logical model name (default {DEFAULT_MODEL})")
    _live_options(ask)
    ask.set_defaults(run=cmd_ask)

    snippets_help = "the site's snippets folder (default: snippets/ of this checkout, else ./snippets)"
    record = commands.add_parser("record", help="record every prompt the site's snippets ask")
    record.add_argument("--refresh", action="store_true", help="re-record prompts that already have a recording")
    record.add_argument("--snippets", type=Path, help=snippets_help)
    record.add_argument("only", nargs="*", type=Path, metavar="SNIPPET", help="record only these snippet files")
    _live_options(record)
    record.set_defaults(run=cmd_record)

    recordings = commands.add_parser("recordings", help="work with the recordings folder")
    sub = recordings.add_subparsers(dest="action", required=True, metavar="ACTION")
    check_files = sub.add_parser("verify", help="check every file, and that it matches the site's prompts one to one")
    check_files.add_argument("--snippets", type=Path, help=snippets_help)
    check_files.set_defaults(run=cmd_recordings_verify)
    add_train_command(commands)  # llmarch train NAME: defined in llmarch/trainer.py
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (LLMError, OSError) as exc:  # OSError: e.g. a recordings folder that cannot be written
        # Always made printable: a message may quote what a server sent.
        print(f"llmarch: error: {printable(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("llmarch: interrupted; recordings already written are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
