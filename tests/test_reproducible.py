"""Hermetic, reproducible builds: the site builds with the network off, and identically.

One extra build does both checks: it runs in a new network namespace (only loopback, no route
anywhere) and its output is compared byte for byte with the session's build (``site``), made
with the same ``SOURCE_DATE_EPOCH`` in another folder at another time.
"""

from __future__ import annotations

import difflib
import gzip
import os
import subprocess
from pathlib import Path

import pytest
from sitetools import PREBUILT, ROOT, build, offline_prefix


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def explain(name: str, a: bytes, b: bytes) -> str:
    """Where two versions of a built file differ, for a human."""
    if name.endswith(".gz"):
        inner_a, inner_b = gzip.decompress(a), gzip.decompress(b)
        if inner_a == inner_b:
            return f"{name}: same content, different gzip header (mtime {a[4:8].hex()} vs {b[4:8].hex()})"
        a, b = inner_a, inner_b
    try:
        lines_a, lines_b = a.decode().splitlines(), b.decode().splitlines()
    except UnicodeDecodeError:
        return f"{name}: binary files differ ({len(a)} vs {len(b)} bytes)"
    diff = list(difflib.unified_diff(lines_a, lines_b, "first build", "second build", n=0, lineterm=""))
    return f"{name}:\n    " + "\n    ".join(line[:200] for line in diff[:12])


@pytest.fixture(scope="module")
def offline_site(site: Path, tmp_path_factory) -> Path:
    if os.environ.get(PREBUILT):
        pytest.skip(f"{PREBUILT} is set: no reference build of this checkout to compare with")
    prefix = offline_prefix()
    if prefix is None:
        pytest.skip("no network namespace can be made here (needs root or user namespaces, `unshare` and `ip`)")
    links = subprocess.run([*prefix, "ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    routes = subprocess.run([*prefix, "ip", "route", "show"], capture_output=True, text=True, check=True).stdout
    assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"], links
    assert routes.strip() == "", f"the offline namespace has routes:\n{routes}"

    out = tmp_path_factory.mktemp("offline-site")
    proc = build(ROOT, out, prefix=prefix)
    assert proc.returncode == 0, "the build needs the network:\n" + proc.stdout + proc.stderr
    return out


def test_the_site_builds_with_the_network_off(offline_site: Path):
    assert (offline_site / "index.html").is_file()


def test_two_builds_with_the_same_source_date_epoch_are_byte_identical(site: Path, offline_site: Path):
    first, second = files(site), files(offline_site)
    only = sorted(set(first) ^ set(second))
    differ = [name for name in sorted(set(first) & set(second)) if first[name] != second[name]]
    problems = [f"only in one build: {name}" for name in only]
    problems += [explain(name, first[name], second[name]) for name in differ]
    assert not problems, f"{len(problems)} files differ:\n" + "\n".join(problems)
