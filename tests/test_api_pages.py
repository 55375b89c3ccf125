"""The API reference as a reader reads it: each parameter table agrees with the signature it documents.

The tables are read from the built pages (mkdocstrings renders the NumPy-style docstrings), so a
docstring section that does not parse (a type taken from the wrong line, a default from another
parameter) shows here as a name, type or default that is not the code's.
"""

from __future__ import annotations

import ast
import html
import importlib
import inspect
import re
from pathlib import Path

_HEADING = re.compile(r'id="(?P<id>llmarch(?:\.\w+)+)" class="doc doc-heading"')
_PARAMETERS = re.compile(
    r'<span class="doc-section-title">Parameters:</span>.*?<tbody>(?P<rows>.*?)</tbody>', re.DOTALL
)
_ROW = re.compile(r'<tr class="doc-section-item">(?P<row>.*?)</tr>', re.DOTALL)
_CELL = re.compile(r"<td>(?P<cell>.*?)</td>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SCALARS = re.compile(r"\b(int|float|str)\b")  # what the table claims must be in the annotation


def text(cell: str) -> str:
    return " ".join(html.unescape(_TAG.sub("", cell)).split())


def parameter_tables(page: str) -> dict[str, list[tuple[str, str, str, str]]]:
    """``{object id: [(name, type, description, default), ...]}`` of every object on an API page with a table."""
    headings = list(_HEADING.finditer(page))
    tables = {}
    for this, after in zip(headings, [*headings[1:], None][: len(headings)], strict=True):
        section = page[this.end() : after.start() if after else len(page)]
        found = _PARAMETERS.search(section)
        if found:
            rows = [[text(c) for c in _CELL.findall(row)] for row in _ROW.findall(found["rows"])]
            tables[this["id"]] = [tuple(row) for row in rows if len(row) == 4]
    return tables


def resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        owner = resolve(module) if "." in module else None
        return getattr(owner, name, None)


def default_matches(shown: str, default, module) -> bool:
    if default is inspect.Parameter.empty:
        return shown in {"required", ""}
    try:
        return ast.literal_eval(shown) == default
    except (ValueError, SyntaxError):
        value = getattr(module, shown, inspect.Parameter.empty)  # a module constant, DEFAULT_TIMEOUT_S
        named = getattr(default, "__name__", None) == shown.rpartition(".")[2]  # float32 for numpy.float32
        return named or (value is not inspect.Parameter.empty and value == default)


def check(object_id: str, rows) -> list[str]:
    obj = resolve(object_id)
    if obj is None or not callable(obj):
        return []
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    module = inspect.getmodule(obj)
    problems = []
    for name, kind, _description, shown in rows:
        parameter = signature.parameters.get(name.lstrip("*"))
        if parameter is None:
            problems.append(f"{name}: not a parameter of the signature {signature}")
            continue
        annotation = parameter.annotation if isinstance(parameter.annotation, str) else str(parameter.annotation)
        if parameter.annotation is not inspect.Parameter.empty and kind:
            claimed = set(_SCALARS.findall(re.sub(r"(array_like|ndarray) of \w+", r"\1", kind)))  # an element type
            if not claimed <= set(_SCALARS.findall(annotation)):
                problems.append(f"{name}: shown as {kind!r}, annotated {annotation!r}")
        if not default_matches(shown, parameter.default, module):
            problems.append(f"{name}: default shown {shown!r}, the signature's is {parameter.default!r}")
    return problems


def api_pages(site: Path) -> list[Path]:
    return sorted((site / "api").rglob("index.html"))


def test_every_parameter_table_agrees_with_its_signature(site: Path):
    problems, checked = {}, 0
    for page in api_pages(site):
        for object_id, rows in parameter_tables(page.read_text(encoding="utf-8")).items():
            checked += len(rows)
            if found := check(object_id, rows):
                problems[object_id] = found
    assert not problems, problems
    assert checked > 50, f"only {checked} parameter rows found on the API pages"


def test_the_llm_clients_table_reads_as_its_code(site: Path):
    tables = parameter_tables((site / "api" / "llm" / "index.html").read_text(encoding="utf-8"))
    rows = {row[0]: row[1:] for row in tables["llmarch.llm.LLMConnector"]}  # name: (type, description, default)
    assert rows["max_retries"][0] == "int" and "retr" in rows["max_retries"][1].lower()
    assert rows["max_retries"][1] != rows["timeout"][1]  # each its own description
    assert rows["timeout"][0] == "float" and rows["max_tokens"][0] == "int" and rows["seed"][0] == "int"
    assert not check("llmarch.llm.LLMConnector", tables["llmarch.llm.LLMConnector"])
