"""The CI gate on the real thing: click_bell (SAPIEN physics, three rendered cameras) with the shipped aha-wam
checkpoint. Runs are byte-identical with 1 and 2 workers; exact mode passes the intact checkpoint and fails a copy
whose weights were perturbed by 5% of each tensor's spread (its episodes changed, whether or not their success did).

About 6 aha-wam episodes of up to 400 ticks: ~1-2 min on 2 cores.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from ahabench.api import eval_run
from ahabench.cli import app

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "policies" / "aha_wam" / "checkpoint"
SEEDS = {"click_bell": [100000, 100001]}

pytestmark = pytest.mark.slow


def perturbed_copy(src: Path, dst: Path, scale: float = 0.05, seed: int = 0) -> Path:
    """A copy of checkpoint ``src`` whose float weights get Gaussian noise of ``scale`` x each tensor's std."""
    from safetensors.torch import load_file, save_file

    shutil.copytree(src, dst)
    weights = load_file(str(dst / "model.safetensors"))
    gen = torch.Generator().manual_seed(seed)
    for name, w in weights.items():
        if w.is_floating_point() and w.numel() > 1:
            w32 = w.float()
            noise = torch.randn(w32.shape, generator=gen) * scale * float(w32.std())
            weights[name] = (w32 + noise).to(w.dtype).contiguous()
    save_file(weights, str(dst / "model.safetensors"))
    return dst


def regress_cli(*args: str):
    return CliRunner().invoke(app, ["regress", *map(str, args)])


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gate")
    for workers in (1, 2):
        eval_run("aha-wam", ["click_bell"], 2, seeds=SEEDS, workers=workers, out=root / f"w{workers}")
    return root


def test_workers_two_equal_one_byte_for_byte_on_sapien_with_a_wam(runs: Path):
    one = (runs / "w1" / "episodes.jsonl").read_bytes()
    assert one == (runs / "w2" / "episodes.jsonl").read_bytes()
    recs = [json.loads(line) for line in one.decode().splitlines()]
    assert [(r["task"], r["seed"]) for r in recs] == [("click_bell", s) for s in SEEDS["click_bell"]]
    assert all(r["n_chunks"] > 0 and r["frames_rendered"] > 0 and r["error"] is None for r in recs)
    digests = [r["extra"]["action_digest"] for r in recs]
    assert len(set(digests)) == 2 and all(len(d) == 16 for d in digests)


def test_gate_passes_the_intact_checkpoint_and_fails_a_perturbed_one(runs: Path, tmp_path: Path):
    ref = tmp_path / "aha-wam.json"
    assert regress_cli(runs / "w1", "--write-reference", ref).exit_code == 0
    intact = regress_cli(runs / "w2", "--reference", ref)
    assert intact.exit_code == 0 and "every episode matches the reference (2 episodes, exact)" in intact.output

    ckpt = perturbed_copy(SHIPPED, tmp_path / "perturbed")
    eval_run("aha-wam", ["click_bell"], 2, seeds=SEEDS, workers=2, out=tmp_path / "p",
             policy_kwargs={"checkpoint": str(ckpt)})
    bad = regress_cli(tmp_path / "p", "--reference", ref)
    assert bad.exit_code == 1, bad.output
    assert "changed episode: click_bell seed" in bad.output and "action_digest" in bad.output
