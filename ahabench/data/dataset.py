"""Training samples for the WAM family, built from collected demos (the data contract pinned by the lead).

A sample is anchored at a rendered step ``tau`` (a multiple of the demo's ``frame_every``, so every frame
below exists on the 4-step grid):

- ``video``: mosaics at tau, tau+32, tau+64 (steps past the end clamp to the last frame: the scene is at
  rest once the task is done);
- ``history``: mosaics at tau - 64 i for i = 6..1, oldest first, masked before the episode start;
- ``frame_index``: tau // 8 (episode-global frame position for the video RoPE);
- ``actions`` / ``action_mask``: z-scored joint targets for steps [tau+delta, tau+delta+64); past the end
  the last action is repeated and masked out. ``action_space="delta"`` makes each chunk's joint targets
  relative to the joint position at that chunk's start (grippers stay absolute), z-scored with the delta
  statistics;
- ``proprio``: z-scored qpos at each chunk start tau+delta+16 j;
- ``chunk_obs``: the newest rendered mosaic at or before each chunk start (what OVCR sees at run time);
- ``delta``: the phase offset, uniform in 0..15 when offset training is on, else 0.

Single-arm tasks (8-D) are padded to 16-D: their arm goes in the right-arm slots (8..15, matching their
"right_wrist" camera) and ``dim_mask`` marks the real dimensions. Once a tokenizer is trained,
:meth:`DemoDataset.set_latents` swaps pixels for cached per-frame latents (keys ``*_latents``), so the WAM
stage never re-encodes pixels.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ahabench.data.format import EpisodeData, iter_episodes
from ahabench.policies.wam.normalize import NormStats, dim_mask, pad_to_full, to_delta

log = logging.getLogger(__name__)

#: Std floor: a joint that never moves in the demos (or a padded dim) must not blow up the z-score.
MIN_STD = 1e-2


def compute_norm_stats(qpos: list[np.ndarray], actions: list[np.ndarray], chunk: int = 16) -> NormStats:
    """Stats over all steps of all episodes (16-D padded arrays); delta stats over every (chunk start s,
    step s + k) pair with k < ``chunk``, the pairs a chunk-relative target is made of."""
    q, a = np.concatenate(qpos), np.concatenate(actions)
    deltas = [to_delta(ai[k:], qi[: len(ai) - k]) for qi, ai in zip(qpos, actions) for k in range(min(chunk, len(ai)))]
    d = np.concatenate(deltas)
    return NormStats(
        qpos_mean=q.mean(0).astype(np.float32),
        qpos_std=np.maximum(q.std(0), MIN_STD).astype(np.float32),
        action_mean=a.mean(0).astype(np.float32),
        action_std=np.maximum(a.std(0), MIN_STD).astype(np.float32),
        action_min=a.min(0).astype(np.float32),
        action_max=a.max(0).astype(np.float32),
        delta_mean=d.mean(0).astype(np.float32),
        delta_std=np.maximum(d.std(0), MIN_STD).astype(np.float32),
    )


@dataclass
class DemoEpisode:
    """One episode, padded to 16-D, with its cameras already composed into mosaics."""

    task: str
    instruction: str
    actions: np.ndarray  # (T, 16) float32 raw
    qpos: np.ndarray  # (T+1, 16) float32 raw
    mosaics: np.ndarray  # (F, 96, 80, 3) uint8
    frame_steps: np.ndarray  # (F,)
    dim: int

    @property
    def length(self) -> int:
        return int(self.actions.shape[0])

    def frame_at(self, step: np.ndarray | int) -> np.ndarray:
        """Index of the newest rendered frame at or before ``step`` (clamped into the episode)."""
        s = np.clip(step, 0, self.length)
        return np.clip(np.searchsorted(self.frame_steps, s, side="right") - 1, 0, len(self.frame_steps) - 1)


def episode_from_data(
    task: str, ep: EpisodeData, mosaic_fn: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None
) -> DemoEpisode:
    """Pad an on-disk episode to 16-D and compose its mosaics."""
    if mosaic_fn is None:
        from ahabench.envs.mosaic import make_mosaic as mosaic_fn
    n = len(ep.frame_steps)
    mosaics = np.stack([mosaic_fn({cam: im[i] for cam, im in ep.images.items()}) for i in range(n)])
    return DemoEpisode(
        task=task,
        instruction=ep.instruction,
        actions=pad_to_full(ep.actions, ep.action_dim),
        qpos=pad_to_full(ep.qpos, ep.action_dim),
        mosaics=mosaics.astype(np.uint8),
        frame_steps=np.asarray(ep.frame_steps, np.int64),
        dim=ep.action_dim,
    )


@dataclass(frozen=True)
class SampleConfig:
    """Geometry of a training sample (the contract's numbers, in control steps)."""

    horizon: int = 64  # actions per sample (4 chunks of 16)
    chunk: int = 16
    n_video: int = 3  # frames at tau, tau+32, tau+64
    video_stride: int = 32
    n_history: int = 6
    history_stride: int = 64
    frame_div: int = 8  # frame_index = step // 8
    max_delta: int = 15
    offset_training: bool = True
    action_space: str = "absolute"  # or "delta": joint targets relative to the model chunk's start
    model_chunk: int = 16  # the model's chunk length (fast-wam: 32), what "delta" is relative to

    def __post_init__(self) -> None:
        if self.action_space not in ("absolute", "delta"):
            raise ValueError(f"unknown action_space {self.action_space!r}; expected 'absolute' or 'delta'")


class DemoDataset:
    """All demos of the given tasks in memory, sampled per the data contract."""

    def __init__(self, episodes: list[DemoEpisode], cfg: SampleConfig = SampleConfig(), stats: NormStats | None = None):
        if not episodes:
            raise ValueError("DemoDataset needs at least one episode")
        self.episodes = episodes
        self.cfg = cfg
        self.stats = stats or compute_norm_stats([e.qpos for e in episodes], [e.actions for e in episodes], cfg.model_chunk)
        self.latents: list[np.ndarray] | None = None
        # Every (episode, rendered step) pair is one anchor; sampling anchors uniformly weights long
        # episodes by their length, as a per-step dataset does.
        anchors = []
        for i, e in enumerate(episodes):
            steps = e.frame_steps[e.frame_steps < max(e.length, 1)]
            anchors.append(np.stack([np.full(len(steps), i), steps], 1))
        self.anchors = np.concatenate(anchors).astype(np.int64)

    @classmethod
    def from_dir(cls, data: Path | Sequence[Path], tasks: list[str], max_episodes: int | None = None,
                 cfg: SampleConfig = SampleConfig(), stats: NormStats | None = None,
                 mosaic_fn: Callable | None = None) -> DemoDataset:
        """Episodes of ``tasks`` from one demo folder or several (each folder's first ``max_episodes`` per task)."""
        folders = [Path(data)] if isinstance(data, (str, Path)) else [Path(d) for d in data]
        eps = [episode_from_data(t, ep, mosaic_fn) for d in folders for t in tasks for ep in iter_episodes(d, t, max_episodes)]
        log.info("loaded %d episodes (%d steps) of %d tasks from %s", len(eps), sum(e.length for e in eps), len(tasks),
                 ", ".join(map(str, folders)))
        return cls(eps, cfg, stats)

    def __len__(self) -> int:
        return len(self.anchors)

    @property
    def n_frames(self) -> int:
        return sum(len(e.frame_steps) for e in self.episodes)

    def all_mosaics(self) -> np.ndarray:
        return np.concatenate([e.mosaics for e in self.episodes])

    def sample_frames(self, batch: int, rng: np.random.Generator) -> torch.Tensor:
        """A batch of random mosaics (B, 96, 80, 3) uint8: tokenizer training data."""
        ei = rng.integers(0, len(self.episodes), batch)
        out = [self.episodes[i].mosaics[rng.integers(0, len(self.episodes[i].mosaics))] for i in ei]
        return torch.from_numpy(np.stack(out))

    def set_latents(self, latents: list[np.ndarray]) -> None:
        """Cache per-frame tokenizer latents, one (F, ...) array per episode; samples then carry ``*_latents``."""
        if len(latents) != len(self.episodes):
            raise ValueError(f"got latents for {len(latents)} episodes, dataset has {len(self.episodes)}")
        for e, z in zip(self.episodes, latents):
            if len(z) != len(e.frame_steps):
                raise ValueError(f"latents of {len(z)} frames for an episode with {len(e.frame_steps)} frames")
        self.latents = latents

    def encode_all(self, encode: Callable[[torch.Tensor], torch.Tensor], batch: int = 64) -> None:
        """Encode every frame once with ``encode`` ((N, 96, 80, 3) uint8 -> (N, ...) latents) and cache them."""
        lat = []
        with torch.no_grad():
            for e in self.episodes:
                parts = [
                    encode(torch.from_numpy(e.mosaics[i : i + batch])).float().cpu().numpy()
                    for i in range(0, len(e.mosaics), batch)
                ]
                lat.append(np.concatenate(parts).astype(np.float32))
        self.set_latents(lat)

    def _frames(self, ei: int, idx: np.ndarray, key: str, out: dict[str, Any]) -> None:
        if self.latents is not None:
            out[f"{key}_latents"] = self.latents[ei][idx]
        else:
            out[key] = self.episodes[ei].mosaics[idx]

    def sample_at(self, ei: int, tau: int, delta: int) -> dict[str, Any]:
        """The sample of episode ``ei`` anchored at step ``tau`` with phase offset ``delta`` (numpy, no batch dim)."""
        c, e = self.cfg, self.episodes[ei]
        out: dict[str, Any] = {}
        video_steps = tau + c.video_stride * np.arange(c.n_video)
        self._frames(ei, e.frame_at(video_steps), "video", out)
        hist_steps = tau - c.history_stride * np.arange(c.n_history, 0, -1)
        out["history_mask"] = hist_steps >= 0
        self._frames(ei, e.frame_at(np.maximum(hist_steps, 0)), "history", out)
        out["frame_index"] = np.int64(tau // c.frame_div)
        steps = tau + delta + np.arange(c.horizon)
        out["action_mask"] = steps < e.length
        targets = e.actions[np.clip(steps, 0, e.length - 1)]  # (H, 16)
        if c.action_space == "delta":
            base = tau + delta + c.model_chunk * (np.arange(c.horizon) // c.model_chunk)  # each step's chunk start
            out["actions"] = self.stats.norm_delta(to_delta(targets, e.qpos[np.clip(base, 0, e.length)]))
        else:
            out["actions"] = self.stats.norm_actions(targets)
        starts = tau + delta + c.chunk * np.arange(c.horizon // c.chunk)
        out["proprio"] = self.stats.norm_qpos(e.qpos[np.clip(starts, 0, e.length)])
        self._frames(ei, e.frame_at(starts), "chunk_obs", out)
        out["delta"] = np.int64(delta)
        out["dim_mask"] = dim_mask(e.dim)
        out["instruction"] = e.instruction
        out["task"] = e.task
        return out

    def sample(self, batch: int, rng: np.random.Generator) -> dict[str, Any]:
        """A random training batch as a dict of torch tensors (strings as lists)."""
        picks = self.anchors[rng.integers(0, len(self.anchors), batch)]
        deltas = rng.integers(0, self.cfg.max_delta + 1, batch) if self.cfg.offset_training else np.zeros(batch, np.int64)
        items = [self.sample_at(int(ei), int(tau), int(d)) for (ei, tau), d in zip(picks, deltas)]
        return collate(items)


def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in items[0]:
        vals = [it[k] for it in items]
        out[k] = vals if isinstance(vals[0], str) else torch.from_numpy(np.stack(vals))
    return out
