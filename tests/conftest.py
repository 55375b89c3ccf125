"""Fixtures shared by the build, reproducibility and browser tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sitetools import PREBUILT, ROOT, build


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The strict build of this checkout, once per test session (every snippet runs in it)."""
    if os.environ.get(PREBUILT):
        return Path(os.environ[PREBUILT]).resolve()
    out = tmp_path_factory.mktemp("site")
    proc = build(ROOT, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out
