"""A plugin package installed the way a user installs one: its task and policy are found through entry points."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ahabench-example-plugin"
AHABENCH = Path(sys.executable).with_name("ahabench")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The example package, pip-installed into a folder of its own (no network: no build isolation, no deps), from a
    copy, since setuptools builds in the source folder."""
    src = tmp_path_factory.mktemp("src") / EXAMPLE.name
    shutil.copytree(EXAMPLE, src)
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(src)], check=True, cwd=target)
    return target


def _ahabench(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([str(AHABENCH), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_an_installed_plugin_task_and_policy_are_listed_and_evaluated(site, tmp_path):
    listed = _ahabench(site, tmp_path, "tasks", "--suite", "example", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [t["name"] for t in json.loads(listed.stdout)] == ["example_point_reach"]
    for policy, want in (("example-pointer", 5), ("hold", 0)):
        out = tmp_path / policy
        res = _ahabench(site, tmp_path, "eval", "-p", policy, "-t", "example_point_reach", "-n", "5", "--fixed-ms", "50",
                        "--out", str(out))
        assert res.returncode == 0, res.stderr
        recs = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
        assert len(recs) == 5 and sum(r["success_once"] for r in recs) == want


def test_without_the_package_its_names_are_unknown(tmp_path):
    res = _ahabench(tmp_path, tmp_path, "eval", "-p", "example-pointer", "-t", "example_point_reach", "-o", str(tmp_path / "r"))
    assert res.returncode == 2 and "unknown" in res.stderr
