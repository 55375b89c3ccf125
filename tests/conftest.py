"""Fixtures shared by the build, snippet, notebook, reproducibility and browser tests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sitetools import PREBUILT, REPORT, ROOT, build


@pytest.fixture(scope="session")
def session_build(tmp_path_factory) -> dict[str, Any]:
    """The strict build of this checkout, once per test session: every snippet runs in it, once.

    ``proc`` (None for a prebuilt site), ``site``, and ``snippets``: each snippet's result, by name
    (``SnippetResult.summary()``; None for a prebuilt site, which has no report).
    """
    if os.environ.get(PREBUILT):
        return {"proc": None, "site": Path(os.environ[PREBUILT]).resolve(), "snippets": None}
    out = tmp_path_factory.mktemp("build")
    proc = build(ROOT, out / "site", env={REPORT: str(out / "snippets.json")})
    report = out / "snippets.json"
    return {"proc": proc, "site": out / "site", "snippets": json.loads(report.read_text()) if report.is_file() else {}}


@pytest.fixture(scope="session")
def site(session_build) -> Path:
    """The site of the session's build, which must have passed."""
    proc = session_build["proc"]
    if proc is not None and proc.returncode != 0:  # its log without the INFO lines: what failed
        pytest.fail("\n".join(line for line in (proc.stdout + proc.stderr).splitlines() if not line.startswith("INFO")))
    return session_build["site"]


@pytest.fixture(scope="session")
def snippet_results(session_build) -> dict[str, dict[str, Any]]:
    """What each snippet did in the session's build, by name (its path under ``snippets/``)."""
    if session_build["snippets"] is None:
        pytest.skip(f"{PREBUILT} is set: a prebuilt site has no report of its snippets")
    return session_build["snippets"]
