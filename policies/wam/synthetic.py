"""Synthetic batches of the training data contract, for tests, smoke runs and benchmarks.

Deterministic given a seed. ``latents=True`` gives precomputed ``*_latents`` (skips the VAE), otherwise
uint8 mosaics.
"""

from __future__ import annotations

import torch

from ahabench.policies.wam.config import WAMConfig


def synthetic_batch(cfg: WAMConfig, batch_size: int = 2, seed: int = 0, latents: bool = True,
                    history_valid: int = 6) -> dict:
    """A batch with the pinned keys; the oldest ``6 - history_valid`` history frames are masked."""
    g = torch.Generator().manual_seed(seed)
    b, c, (h, w) = batch_size, cfg.latent_channels, cfg.latent_hw
    p = cfg.memory_frames

    def frames(n: int) -> torch.Tensor:
        if latents:
            return torch.randn(b, n, c, h, w, generator=g)
        return torch.randint(0, 256, (b, n, *cfg.image_hw, 3), generator=g, dtype=torch.uint8)

    suffix = "_latents" if latents else ""
    n_starts = cfg.horizon // 16
    return {
        f"video{suffix}": frames(cfg.n_video_frames),
        f"history{suffix}": frames(p),
        "history_mask": (torch.arange(p) >= p - history_valid)[None].expand(b, p).clone(),
        "frame_index": torch.randint(8, 60, (b,), generator=g),
        "actions": torch.randn(b, cfg.horizon, cfg.action_dim, generator=g),
        "action_mask": torch.ones(b, cfg.horizon, dtype=torch.bool),
        "proprio": torch.randn(b, n_starts, cfg.proprio_dim, generator=g),
        f"chunk_obs{suffix}": frames(n_starts),
        "delta": torch.randint(0, 16, (b,), generator=g),
        "instruction": (["stack the green block on the red block", "put the cup on the plate"] * b)[:b],
    }
