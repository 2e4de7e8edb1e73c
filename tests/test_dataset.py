"""Training samples: shapes and dtypes of the data contract, the offset shift, masks, padding, latents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ahabench.data.collect import collect_demos
from ahabench.data.dataset import DemoDataset, DemoEpisode, SampleConfig
from ahabench.policies.wam.normalize import NormStats, dim_mask, pad_to_full, unpad_from_full
from test_collect import register_fake_task


def _mosaic_fn():
    try:
        from ahabench.envs.mosaic import make_mosaic
    except ImportError:  # the env package is built in parallel; its mosaic is (96, 80, 3) too
        from test_collect import fake_mosaic as make_mosaic
    return make_mosaic


def _ramp_episode(length: int = 150, frame_every: int = 4) -> DemoEpisode:
    """An episode whose action at step t is t in every dim, and whose frame at step s has all pixels s // 4."""
    steps = np.arange(0, length + 1, frame_every)
    mosaics = np.zeros((len(steps), 96, 80, 3), np.uint8) + (steps // frame_every).astype(np.uint8)[:, None, None, None]
    actions = np.repeat(np.arange(length, dtype=np.float32)[:, None], 16, 1)
    qpos = np.repeat(np.arange(length + 1, dtype=np.float32)[:, None], 16, 1) + 0.5
    return DemoEpisode("ramp", "do it", actions, qpos, mosaics, steps, 16)


def test_sample_contract_shapes(tmp_path: Path):
    task = register_fake_task()
    collect_demos([task], episodes=3, setting="clean", out=tmp_path)
    ds = DemoDataset.from_dir(tmp_path, [task], mosaic_fn=_mosaic_fn())
    b = ds.sample(5, np.random.default_rng(0))
    assert b["video"].shape == (5, 3, 96, 80, 3) and b["video"].dtype == torch.uint8
    assert b["history"].shape == (5, 6, 96, 80, 3) and b["history_mask"].shape == (5, 6) and b["history_mask"].dtype == torch.bool
    assert b["frame_index"].shape == (5,) and b["frame_index"].dtype == torch.int64
    assert b["actions"].shape == (5, 64, 16) and b["actions"].dtype == torch.float32
    assert b["action_mask"].shape == (5, 64) and b["action_mask"].dtype == torch.bool
    assert b["proprio"].shape == (5, 4, 16) and b["proprio"].dtype == torch.float32
    assert b["chunk_obs"].shape == (5, 4, 96, 80, 3) and b["delta"].shape == (5,)
    assert isinstance(b["instruction"], list) and len(b["instruction"]) == 5
    assert int(b["delta"].min()) >= 0 and int(b["delta"].max()) <= 15
    # the fake episodes are 40..80 steps: actions past the end are masked, history before the start too
    assert not bool(b["action_mask"].all()) and not bool(b["history_mask"].all())
    # z-scored over the demos
    a = np.concatenate([e.actions for e in ds.episodes])
    np.testing.assert_allclose(ds.stats.norm_actions(a).mean(0), 0, atol=1e-4)


def test_offset_shifts_actions_not_video():
    ds = DemoDataset([_ramp_episode()], SampleConfig(), NormStats.identity())
    s0, s5 = ds.sample_at(0, 64, 0), ds.sample_at(0, 64, 5)
    np.testing.assert_array_equal(s0["video"], s5["video"])  # video anchored at tau
    assert s0["video"][:, 0, 0, 0].tolist() == [16, 24, 32]  # frames at steps 64, 96, 128
    assert s0["actions"][0, 0] == 64 and s5["actions"][0, 0] == 69 and s5["actions"][-1, 0] == 69 + 63
    assert s5["proprio"][:, 0].tolist() == [69.5, 85.5, 101.5, 117.5]  # qpos at the shifted chunk starts
    # chunk observation: newest rendered frame at or before each chunk start (69 -> 68, 85 -> 84, ...)
    assert s5["chunk_obs"][:, 0, 0, 0].tolist() == [17, 21, 25, 29]
    assert s0["frame_index"] == 8
    # history at 64 - 64 i for i = 6..1: only i = 1 (step 0) is inside the episode
    assert s0["history_mask"].tolist() == [False] * 5 + [True]
    assert s0["history"][-1, 0, 0, 0] == 0


def test_end_of_episode_masking_and_offset_off():
    ep = _ramp_episode(length=100)
    ds = DemoDataset([ep], SampleConfig(offset_training=False), NormStats.identity())
    s = ds.sample_at(0, 96, 3)
    assert s["action_mask"].sum() == 100 - 99
    assert s["actions"][-1, 0] == 99  # last action repeated past the end
    assert s["video"][1:, 0, 0, 0].tolist() == [25, 25]  # tau+32, tau+64 clamp to the last frame (step 100)
    b = ds.sample(8, np.random.default_rng(1))
    assert int(b["delta"].abs().sum()) == 0
    assert all(int(t) % 4 == 0 for t in ds.anchors[:, 1])  # anchors on the render grid


def test_single_arm_padding_round_trip():
    x = np.arange(8, dtype=np.float32)
    p = pad_to_full(x, 8)
    assert p.shape == (16,) and p[:8].sum() == 0
    np.testing.assert_array_equal(unpad_from_full(p, 8), x)
    assert dim_mask(8).tolist() == [False] * 8 + [True] * 8 and dim_mask(16).all()
    with pytest.raises(ValueError, match="7-D"):
        pad_to_full(np.zeros(7), 7)


def test_latents_replace_pixels():
    ds = DemoDataset([_ramp_episode()], SampleConfig(), NormStats.identity())
    ds.encode_all(lambda x: x.float().mean(dim=(1, 2, 3))[:, None, None, None].expand(-1, 8, 12, 10))
    s = ds.sample_at(0, 64, 0)
    assert "video" not in s and s["video_latents"].shape == (3, 8, 12, 10)
    assert s["video_latents"][:, 0, 0, 0].tolist() == [16, 24, 32]
    assert s["history_latents"].shape == (6, 8, 12, 10) and s["chunk_obs_latents"].shape == (4, 8, 12, 10)
