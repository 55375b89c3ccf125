"""The prompts the site asks, read statically from the snippets' source.

``llmarch record`` and ``llmarch recordings verify`` need "every prompt the site uses";
the build hook needs the prompt behind one snippet. Both read it from ``snippets/**.py``
with :mod:`ast`, without running anything, so the rules are strict:

* a snippet asks through ``LLMConnector(...)``, called once, whose ``model`` and sampling
  parameters (``temperature``, ``top_p``, ``max_tokens``, ``seed``) are literals, if given;
* each ``<connector>.get_completion(prompt)`` gets a string literal, or a name bound exactly
  once, at module level, to a string literal (adjacent literals in parentheses count as one).

A snippet that asks a prompt in any other way is an error naming the file and line, never
a prompt silently left out. The guide's build (``docs/plugin/``) runs the
same snippets in ``replay`` mode, so a prompt read wrongly here shows up there as a
missing recording.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmarch.llm.errors import SitePromptError
from llmarch.llm.recordings import SAMPLING_PARAMS, canonical_request

DEFAULT_MODEL = "gpt-4o"


@dataclass(frozen=True)
class SitePrompt:
    """One prompt a snippet asks: where, of which model, with which sampling parameters."""

    path: Path
    line: int
    model: str
    prompt: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def request(self) -> dict[str, Any]:
        return canonical_request(self.model, self.prompt, self.params)

    def where(self, root: Path | None = None) -> str:
        path = self.path
        if root is not None:
            try:
                path = self.path.relative_to(root)
            except ValueError:
                pass
        return f"{path.as_posix()}:{self.line}"


def _is_call_to(node: ast.AST, name: str) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == name) or (isinstance(func, ast.Attribute) and func.attr == name)


def _literal(node: ast.AST, path: Path, what: str) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise SitePromptError(
            f"{path}:{node.lineno}: {what} must be a literal so the site's prompts can be read"
        ) from None


def prompts_in_source(source: str, path: Path) -> list[SitePrompt]:
    """Every prompt ``source`` (the text of ``path``) asks, in order; [] if it asks none."""
    tree = ast.parse(source, filename=str(path))
    asks = [node for node in ast.walk(tree) if _is_call_to(node, "get_completion")]
    if not asks:
        return []
    connectors = [node for node in ast.walk(tree) if _is_call_to(node, "LLMConnector")]
    if len(connectors) != 1:
        raise SitePromptError(f"{path}: a snippet that asks a model must create exactly one LLMConnector(...)")
    connector = connectors[0]
    model, params = DEFAULT_MODEL, {}
    if connector.args:
        model = _literal(connector.args[0], path, "the model")
    for keyword in connector.keywords:
        if keyword.arg == "model":
            model = _literal(keyword.value, path, "the model")
        elif keyword.arg in SAMPLING_PARAMS:
            params[keyword.arg] = _literal(keyword.value, path, keyword.arg)

    # Names bound to a string literal, at module level, exactly once in the whole file.
    bindings: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            if isinstance(target, ast.Name):
                bindings.setdefault(target.id, []).append(node)
    module_level = {id(node) for node in tree.body}

    prompts = []
    for call in sorted(asks, key=lambda node: node.lineno):
        if len(call.args) != 1 or call.keywords:
            raise SitePromptError(f"{path}:{call.lineno}: call get_completion with the prompt alone")
        arg = call.args[0]
        if isinstance(arg, ast.Name):
            bound = bindings.get(arg.id, [])
            if not (
                len(bound) == 1
                and isinstance(bound[0], ast.Assign)
                and id(bound[0]) in module_level
                and isinstance(bound[0].value, ast.Constant)
            ):
                raise SitePromptError(
                    f"{path}:{call.lineno}: {arg.id!r} must be bound once, at module level, to a string literal"
                )
            arg = bound[0].value
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            raise SitePromptError(f"{path}:{call.lineno}: the prompt must be a string literal or a name bound to one")
        prompts.append(SitePrompt(path=path, line=call.lineno, model=model, prompt=arg.value, params=params))
    return prompts


def prompts_in_file(path: Path) -> list[SitePrompt]:
    return prompts_in_source(path.read_text(encoding="utf-8"), path)


def snippet_paths(snippets: Path) -> list[Path]:
    """The snippet files, as the snippet check sees them (``_*.py`` files are helpers, not snippets)."""
    return sorted(p for p in snippets.rglob("*.py") if not p.name.startswith("_") and "__pycache__" not in p.parts)


def collect(snippets: Path, only: Iterable[Path] | None = None) -> list[SitePrompt]:
    """Every prompt the snippets under ``snippets`` ask (or those of the files in ``only``)."""
    if not snippets.is_dir():
        raise SitePromptError(f"{snippets}: no such folder of snippets")
    paths = snippet_paths(snippets) if only is None else sorted(Path(p).resolve() for p in only)
    prompts: list[SitePrompt] = []
    for path in paths:
        if not path.is_file():
            raise SitePromptError(f"{path}: no such snippet")
        prompts.extend(prompts_in_file(path))
    return prompts
