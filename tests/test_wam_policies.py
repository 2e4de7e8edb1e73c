"""WAM-family policy adapters: finite (chunk_len, action_dim) chunks from fake observations, specs, costs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ahabench.policies.wam.checkpoint import save_checkpoint
from ahabench.policies.wam.normalize import NormStats
from ahabench.policy_registry import make_policy
from ahabench.types import EpisodeInfo, Observation

torch.set_num_threads(1)

VARIANT = {"aha-wam": ("aha", "wam"), "naive-async": ("naive_async", "wam"), "fast-wam": ("fast", "wam"),
           "aha-wam-flash": ("aha", "flash")}


def _checkpoint(tmp_path: Path, policy: str) -> Path:
    """A randomly initialised tiny checkpoint in the trainer's format (weights untrained: shapes only)."""
    from ahabench.policies.wam.config import make_config
    from ahabench.policies.wam.wam import WAM

    variant, stage = VARIANT[policy]
    torch.manual_seed(0)
    model = WAM(make_config("tiny", variant))
    stats = NormStats.identity()
    stats.action_mean[:] = 0.1
    folder = tmp_path / policy
    save_checkpoint(folder, {"wam": model}, {"policy": policy, "stage": stage, "model": model.cfg.to_dict()}, stats)
    return folder


def _obs(tick: int, dim: int = 16, seed: int = 0) -> Observation:
    rng = np.random.default_rng(seed + tick)
    cams = ("head", "left_wrist", "right_wrist") if dim == 16 else ("head", "right_wrist")
    images = {c: rng.integers(0, 255, (64, 80, 3), dtype=np.uint8) for c in cams}
    return Observation(images, rng.uniform(-1, 1, dim).astype(np.float32), "stack the blocks", tick, tick * 40_000)


def _episode(dim: int = 16, seed: int = 7) -> EpisodeInfo:
    return EpisodeInfo("stack_blocks_two", "robotwin", "stack the blocks", dim, 25.0, 800, seed)


@pytest.mark.parametrize("policy,chunk,planner,mode", [
    ("aha-wam", 16, True, "async"), ("naive-async", 16, True, "async"),
    ("aha-wam-flash", 16, True, "async"), ("fast-wam", 32, False, "blocking"),
])
def test_adapter_chunks(tmp_path: Path, policy: str, chunk: int, planner: bool, mode: str):
    p = make_policy(policy, checkpoint=str(_checkpoint(tmp_path, policy)))
    assert p.spec.chunk_len == chunk and p.spec.has_planner == planner and p.spec.default_mode == mode
    p.reset(_episode())
    if planner:
        ctx = p.prefill(_obs(0))
        a = p.act(_obs(3), ctx, phase_offset=3)
        assert p.cost("prefill").flops > 0 and p.cost("chunk").flops > 0
    else:
        a = p.act(_obs(0))
        assert p.spec.execute_len == 24 and p.cost("call").flops > 0
    assert a.shape == (chunk, 16) and a.dtype == np.float32 and np.isfinite(a).all()


def test_flash_samples_in_two_steps_and_is_cheaper(tmp_path: Path):
    flash = make_policy("aha-wam-flash", checkpoint=str(_checkpoint(tmp_path, "aha-wam-flash")))
    aha = make_policy("aha-wam", checkpoint=str(_checkpoint(tmp_path, "aha-wam")))
    assert flash.sample_steps == 2 and aha.sample_steps == 10
    assert flash.cost("chunk").flops < aha.cost("chunk").flops
    # the prefill is the same planner pass for both
    assert flash.cost("prefill").flops == pytest.approx(aha.cost("prefill").flops)


def test_memory_fills_and_resets_per_episode(tmp_path: Path):
    p = make_policy("aha-wam", checkpoint=str(_checkpoint(tmp_path, "aha-wam")))
    p.reset(_episode())
    for t in range(0, 8 * 32, 32):
        p.prefill(_obs(t))
    assert len(p.memory) == 6  # FIFO capacity
    p.reset(_episode())
    assert len(p.memory) == 0
    naive = make_policy("naive-async", checkpoint=str(_checkpoint(tmp_path, "naive-async")))
    naive.reset(_episode())
    naive.prefill(_obs(0))
    assert len(naive.memory) == 0  # no memory in the ablation


def test_reproducible_per_episode_seed_and_single_arm(tmp_path: Path):
    ck = str(_checkpoint(tmp_path, "aha-wam"))
    p = make_policy("aha-wam", checkpoint=ck)

    def run(seed: int, dim: int = 16) -> np.ndarray:
        p.reset(_episode(dim, seed))
        ctx = p.prefill(_obs(0, dim))
        return p.act(_obs(0, dim), ctx, 0)

    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))
    a8 = run(1, dim=8)
    assert a8.shape == (16, 8) and np.isfinite(a8).all()


def test_actions_clipped_to_demo_range(tmp_path: Path):
    from ahabench.data.dataset import compute_norm_stats
    from ahabench.policies.wam.config import make_config
    from ahabench.policies.wam.wam import WAM

    rng = np.random.default_rng(0)
    acts = rng.uniform(-0.01, 0.04, (50, 16)).astype(np.float32)  # every demo dim inside [-0.01, 0.04]
    stats = compute_norm_stats([rng.normal(size=(51, 16)).astype(np.float32)], [acts])
    model = WAM(make_config("tiny", "aha"))
    save_checkpoint(tmp_path / "ck", {"wam": model}, {"policy": "aha-wam", "model": model.cfg.to_dict()}, stats)
    p = make_policy("aha-wam", checkpoint=str(tmp_path / "ck"))
    p.reset(_episode())
    a = p.act(_obs(0), p.prefill(_obs(0)), 0)
    assert a.min() >= acts.min(0).min() - 1e-6 and a.max() <= acts.max(0).max() + 1e-6


def test_paper_cost_size_and_missing_checkpoint(tmp_path: Path):
    ck = str(_checkpoint(tmp_path, "aha-wam"))
    tiny = make_policy("aha-wam", checkpoint=ck)
    paper = make_policy("aha-wam", checkpoint=ck, cost_size="paper")
    assert paper.cost("chunk").flops > 1000 * tiny.cost("chunk").flops
    with pytest.raises(FileNotFoundError, match="ahabench train --policy aha-wam"):
        make_policy("aha-wam", checkpoint=str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="naive-async needs"):
        make_policy("naive-async", checkpoint=ck)


@pytest.mark.parametrize("policy,folder", [("aha-wam", "aha_wam"), ("fast-wam", "fast_wam"), ("naive-async", "naive_async"),
                                           ("aha-wam-flash", "aha_wam_flash")])
def test_shipped_checkpoint_loads_by_default(policy: str, folder: str):
    ck = Path(__file__).resolve().parents[1] / "policies" / folder / "checkpoint"
    if not (ck / "model.safetensors").exists():
        pytest.skip(f"no shipped {policy} checkpoint yet (see {ck / 'README.md'})")
    p = make_policy(policy)
    p.reset(_episode())
    ctx = p.prefill(_obs(0)) if p.spec.has_planner else None
    a = p.act(_obs(0), ctx, 0)
    assert a.shape == (p.spec.chunk_len, 16) and np.isfinite(a).all()
    assert p.stats.action_min is not None and (a >= p.stats.action_min - 1e-6).all()
