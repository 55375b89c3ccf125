"""The GitHub Actions workflows: linted offline by zizmor, and doing what the project relies on."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sitetools import ROOT, network_namespace_prefix

WORKFLOWS = ROOT / ".github" / "workflows"
CI, RECORD = WORKFLOWS / "ci.yml", WORKFLOWS / "record.yml"


def zizmor() -> str:
    found = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    if found is None:
        pytest.fail("zizmor is missing: `make test` installs it (the `test` extra)")
    return found


def load(path: Path) -> dict:
    # PyYAML reads the key `on:` as True (YAML 1.1); give it its name back.
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_zizmor_finds_nothing_offline():
    """Schema errors (--strict-collection) and security findings both fail; no network is used."""
    prefix = network_namespace_prefix() or []
    proc = subprocess.run(
        [*prefix, zizmor(), "--offline", "--strict-collection", "--no-progress", "--color=never", str(CI), str(RECORD)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ci_runs_make_test_and_deploys_the_site_from_main():
    ci = load(CI)
    assert ci["on"]["push"]["branches"] == ["main"]
    assert any(step.get("run") == "make test" for step in steps(ci))
    uses = [step.get("uses", "") for step in steps(ci)]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    upload = next(s for s in steps(ci) if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"].rstrip("/") == "site"
    assert "refs/heads/main" in ci["jobs"]["deploy"]["if"]


def test_record_is_manual_and_opens_a_pull_request_with_the_secrets():
    record = load(RECORD)
    assert set(record["on"]) == {"workflow_dispatch"}
    env = {k: v for step in steps(record) for k, v in step.get("env", {}).items()}
    for name in ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION", "AZURE_OPENAI_DEPLOYMENT"):
        assert env[name] == f"${{{{ secrets.{name} }}}}"
    assert any("llmarch record" in step.get("run", "") for step in steps(record))
    assert any(step.get("uses", "").startswith("peter-evans/create-pull-request@") for step in steps(record))


def test_every_action_is_pinned_to_a_commit_with_its_version():
    for path in (CI, RECORD):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "uses:" in line:
                ref = line.split("uses:")[1].split("#")[0].strip()
                version = line.split("#")[1].strip() if "#" in line else ""
                assert len(ref.split("@")[1]) == 40 and version.startswith("v"), f"{path.name}: {line.strip()}"
