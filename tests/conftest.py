"""Fixtures shared by the build, snippet, notebook, reproducibility and browser tests."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sitetools import PREBUILT, REPORT, ROOT, build


@dataclass
class Build:
    """The session's strict build: its process, its site and every snippet's result in it."""

    proc: subprocess.CompletedProcess[str] | None
    site: Path
    snippets: dict[str, dict[str, Any]] | None  # by name; None for a prebuilt site (no report)


@pytest.fixture(scope="session")
def session_build(tmp_path_factory) -> Build:
    """The strict build of this checkout, once per test session: every snippet runs in it, once."""
    if os.environ.get(PREBUILT):
        return Build(None, Path(os.environ[PREBUILT]).resolve(), None)
    out = tmp_path_factory.mktemp("build")
    proc = build(ROOT, out / "site", env={REPORT: str(out / "snippets.json")})
    report = out / "snippets.json"
    return Build(proc, out / "site", json.loads(report.read_text()) if report.is_file() else {})


@pytest.fixture(scope="session")
def site(session_build: Build) -> Path:
    """The site of the session's build, which must have passed."""
    proc = session_build.proc
    assert proc is None or proc.returncode == 0, proc.stdout + proc.stderr
    return session_build.site


@pytest.fixture(scope="session")
def snippet_results(session_build: Build) -> dict[str, dict[str, Any]]:
    """What each snippet did in the session's build (``SnippetResult.summary()``), by name."""
    if session_build.snippets is None:
        pytest.skip(f"{PREBUILT} is set: a prebuilt site has no report of its snippets")
    return session_build.snippets
