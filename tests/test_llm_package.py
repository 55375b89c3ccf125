"""The recordings ship inside the wheel, with the `llmarch` console script, so a copied snippet replays anywhere."""

import subprocess
import sys
import zipfile
from pathlib import Path

from llmarch.llm.recordings import PACKAGE_RECORDINGS

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_the_recordings_and_the_console_script(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = tmp_path.glob("llmarch-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
        shipped = {n for n in names if n.startswith("llmarch/llm/recordings/")}
        assert shipped == {f"llmarch/llm/recordings/{p.name}" for p in PACKAGE_RECORDINGS.glob("*.json")}
        for name in shipped:
            assert archive.read(name) == (ROOT / name).read_bytes()
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert "llmarch = llmarch.llm.cli:main" in entry_points
    # replaying needs only NumPy (and matplotlib, for the blocks that draw): openai and tqdm
    # come with the `llm` extra
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert sorted(r for r in requires if "extra ==" not in r) == [
        "Requires-Dist: matplotlib<4,>=3.8",
        "Requires-Dist: numpy<3,>=1.24",
    ]
    assert any(r.startswith("Requires-Dist: openai") and "extra == 'llm'" in r for r in requires)
