"""``llmarch``: check the LLM configuration, ask, record the site's prompts, verify recordings.

    llmarch check [--ping]             what is configured (never a credential's value); --ping makes one real call
    llmarch ask PROMPT [--model M]     print the answer (mode from LLMARCH_LLM_MODE, default auto)
    llmarch record [--refresh] [SNIPPET ...]
                                       record every prompt the site's snippets ask (live calls)
    llmarch recordings verify          every file valid, no orphan, no prompt without a recording

Every error is one message on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llmarch.llm.connector import DEFAULT_MODEL, NO_CREDENTIALS, LLMConnector, provider_from_env
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


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root.parent).as_posix()
    except ValueError:
        return str(path)


def cmd_check(args: argparse.Namespace) -> int:
    connector = LLMConnector()
    print(connector.check())
    if args.ping:
        print(f"  ping        {connector.ping()}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    completion = LLMConnector(args.model).complete(args.prompt)
    print(completion.text)
    provenance = completion.recording.provenance
    if completion.source == "recording" and not completion.recording.complete:
        print(
            f"\n[llmarch: this recorded answer is an excerpt: {provenance['how']}. "
            "`llmarch record --refresh` records full answers for the site's prompts.]",
            file=sys.stderr,
        )
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    snippets = _find_snippets(args.snippets)
    prompts = collect(snippets, args.only or None)
    if not prompts:
        print(f"no prompts to record: no snippet under {snippets} calls get_completion")
        return 0
    store = RecordingStore()
    if args.refresh or any(not store.path_for(request_key(p.request)).exists() for p in prompts):
        # Fail once, before the progress bar, rather than once per prompt.
        if provider_from_env(DEFAULT_MODEL) is None:
            raise ConfigurationError(f"llmarch record makes live calls, but {NO_CREDENTIALS}")
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
                completion = LLMConnector(prompt.model, mode=mode, **prompt.params).complete(prompt.prompt)
            except LLMError as exc:
                failed += 1
                tqdm.write(f"failed   {where}: {exc}", file=sys.stderr)
                continue
            if completion.source == "live":
                recorded += 1
                note = "" if completion.recording.complete else " (incomplete: the model stopped early)"
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
    found, errors = store.load_all()
    problems = [str(error) for error in errors]
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
        "provider's credentials (see `llmarch check` and the Setup page).",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="report the configuration (never a credential's value)")
    check.add_argument("--ping", action="store_true", help="also make one real call to the provider")
    check.set_defaults(run=cmd_check)

    ask = commands.add_parser("ask", help="print the answer to PROMPT")
    ask.add_argument("prompt", metavar="PROMPT")
    ask.add_argument("--model", default=DEFAULT_MODEL, help=f"logical model name (default {DEFAULT_MODEL})")
    ask.set_defaults(run=cmd_ask)

    snippets_help = "the site's snippets folder (default: snippets/ of this checkout, else ./snippets)"
    record = commands.add_parser("record", help="record every prompt the site's snippets ask")
    record.add_argument("--refresh", action="store_true", help="re-record prompts that already have a recording")
    record.add_argument("--snippets", type=Path, help=snippets_help)
    record.add_argument("only", nargs="*", type=Path, metavar="SNIPPET", help="record only these snippet files")
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
        print(f"llmarch: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("llmarch: interrupted; recordings already written are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
