"""What the wheel tells a user's tools: the annotations are usable (py.typed), and no URL points at a local machine."""

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out)]
    proc = subprocess.run([*command, str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = out.glob("llmarch-*.whl")
    return zipfile.ZipFile(path)


def test_the_wheel_ships_py_typed(wheel):
    # PEP 561: without it a type checker ignores every annotation of an installed llmarch
    assert "llmarch/py.typed" in wheel.namelist()


def test_the_metadata_names_no_local_address(wheel):
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = Parser().parsestr(wheel.read(name).decode())
    urls = metadata.get_all("Project-URL") or []
    # The CI workflow publishes to GitHub Pages at an address it learns when it deploys
    # (actions/deploy-pages' page_url), so the package states no documentation URL.
    assert not any("127.0.0.1" in url or "localhost" in url for url in urls), urls
