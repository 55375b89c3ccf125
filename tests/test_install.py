"""The one install command that Home and Setup show runs every block of the site, as a copier runs it.

The wheel is built offline (as in ``test_llm_package.py``) and installed with exactly that
command, the wheel in place of the checkout, into a fresh virtual environment. Offline, its
dependencies cannot come from an index; they come from this environment instead, and only
the distributions the wheel declares (with theirs, and so on) are made visible to the new
environment, so a snippet that needs anything undeclared fails here as it would for a reader.
Every snippet then runs in an empty folder of its own, with no network, a fresh home and no
credentials, and must print its ``#>`` lines.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import venv
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from sitetools import ROOT, network_namespace_prefix

SNIPPETS = ROOT / "snippets"
OUTPUT_LINE = re.compile(r"^\s*#>(?: |$)(.*)$")
FENCE = re.compile(r"```bash\n(.*?)```", re.DOTALL)
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens there


def install_command(page: str) -> str:
    """The first ``pip install`` line of the page's first shell block that has one."""
    for block in FENCE.findall((ROOT / "docs" / page).read_text(encoding="utf-8")):
        for line in block.splitlines():
            command = line.split("#")[0].strip()
            if command.startswith("pip install "):
                return command
    raise AssertionError(f"docs/{page} shows no `pip install` command")


def test_home_and_setup_show_the_same_install_command():
    assert install_command("index.md") == install_command("setup.md") == "pip install ."


def closure(requirements: list[str]) -> set[str]:
    """The distributions ``requirements`` need, with their own requirements, from this environment."""
    needed: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = metadata.distribution(requirement.name).metadata["Name"]
        if name in needed:
            continue
        needed.add(name)
        todo += [Requirement(r) for r in metadata.requires(name) or []]
    return needed


def expose(distributions: set[str], folder: Path) -> None:
    """Link each distribution's top-level files into ``folder``: a site folder holding only them."""
    folder.mkdir()
    for name in sorted(distributions):
        dist = metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in sorted(tops):
            source = Path(dist.locate_file(top))
            if source.exists() and not (folder / top).exists():
                (folder / top).symlink_to(source)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


@pytest.fixture(scope="module")
def copier_python(tmp_path_factory) -> Path:
    """A fresh virtual environment where only the site's one install command has been run."""
    tmp = tmp_path_factory.mktemp("copier")
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp), str(ROOT)],
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = tmp.glob("llmarch-*.whl")

    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False)  # pip runs from here, aimed at the new environment
    python = env_dir / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    requires = [r for r in metadata.distribution("llmarch").requires or [] if "extra ==" not in r]
    expose(closure(requires), tmp / "deps")
    (Path(purelib) / "_declared_dependencies.pth").write_text(str(tmp / "deps") + "\n")

    # The page's command, word for word, with the wheel for the checkout (".") it names.
    words = shlex.split(install_command("index.md"))
    target = next(i for i, w in enumerate(words) if w == "." or w.startswith(".["))
    words[target] = str(wheel) + words[target][1:]
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    installed = run([*pip, *words[1:], "--no-index", "-q"], timeout=300)  # --no-index: nothing from the network
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return python


def test_the_copier_environment_has_only_what_was_declared(copier_python):
    probe = "import importlib.util, llmarch, matplotlib; print(llmarch.__file__, importlib.util.find_spec('openai'))"
    proc = run([str(copier_python), "-c", probe], cwd="/")
    assert proc.returncode == 0, proc.stderr
    located, openai = proc.stdout.split()
    assert not located.startswith(str(ROOT)), "the checkout, not the installed wheel, was imported"
    assert openai == "None", "openai (the `llm` extra) is visible to the copier's environment"


def expected_output(text: str) -> list[str]:
    return [m[1].rstrip() for line in text.splitlines() if (m := OUTPUT_LINE.match(line))]


def test_the_one_install_command_runs_every_snippet(copier_python, tmp_path):
    snippets = sorted(p for p in SNIPPETS.rglob("*.py") if not p.name.startswith("_"))
    prefix = network_namespace_prefix() or []
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        **{name: CLOSED for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")},
    }
    # matplotlib builds its font cache on first use: once here, not in every snippet at once.
    warm = run([*prefix, str(copier_python), "-c", "import matplotlib.pyplot"], env=env, timeout=300)
    assert warm.returncode == 0, warm.stderr

    def run_one(index_path: tuple[int, Path]) -> subprocess.CompletedProcess[str]:
        index, path = index_path
        workdir = tmp_path / f"run{index}"
        workdir.mkdir()  # empty: the snippet is read from where it is, as a pasted file would be
        return run([*prefix, str(copier_python), str(path)], cwd=workdir, env=env, timeout=600)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        runs = list(pool.map(run_one, enumerate(snippets)))

    problems = []
    for path, proc in zip(snippets, runs, strict=True):
        name = path.relative_to(ROOT).as_posix()
        if proc.returncode != 0:
            tail = "\n      ".join(proc.stderr.splitlines()[-6:])
            problems.append(f"{name}: exit {proc.returncode}\n      {tail}")
            continue
        printed = [line.rstrip() for line in proc.stdout.rstrip("\n").split("\n")] if proc.stdout else []
        expected = expected_output(path.read_text(encoding="utf-8"))
        # The #> lines follow the source, the output follows execution (a loop with two prints).
        if printed != expected and Counter(printed) != Counter(expected):
            missing = list((Counter(expected) - Counter(printed)).elements())[:3]
            problems.append(f"{name}: printed output differs from its #> lines, missing {missing}")
    assert not problems, "\n".join(problems)
