"""Size presets and variants of the WAM model family, in one table.

A :class:`WAMConfig` fixes every dimension of the joint model (video DiT planner, action DiT executor,
OVCR, visual tokenizer, text encoder). ``SIZE_PRESETS`` is the single table of sizes (``tiny`` trains on
2 CPU cores, ``small``, and ``paper``: the published AHA-WAM scale, used for parameter counts and the
roofline cost model, never allocated). A *variant* switches the attention/memory structure:

- ``aha``: block-causal video mask, rolling K/V memory, OVCR, 16-action chunks (AHA-WAM);
- ``naive_async``: the same planner/executor split without memory and without OVCR (ablation);
- ``fast``: first-frame-causal mask, no memory, no OVCR, 32-action chunks (Fast-WAM).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

VARIANTS: tuple[str, ...] = ("aha", "naive_async", "fast")
VIDEO_MASKS: tuple[str, ...] = ("block_causal", "first_frame")
#: What the action head predicts: absolute joint targets (the paper's), or joint targets relative to the
#: chunk-start joint position with grippers absolute ("delta", as pi0 is trained on RoboTwin).
ACTION_SPACES: tuple[str, ...] = ("absolute", "delta")

# One row per size preset. Attention inner dim = heads * head_dim is shared by both branches so that the
# action DiT can attend to the video DiT's K/V layer by layer.
SIZE_PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(
        n_layers=4, video_dim=192, video_ffn=512, action_dim_model=128, action_ffn=384, n_heads=4,
        head_dim=32, text_dim=128, text_len=64, text_layers=2, latent_channels=8, image_hw=(96, 80),
        vae_down=8, vae_widths=(32, 48, 64), ovcr_queries=8, ovcr_hidden=128,
    ),
    "small": dict(
        n_layers=8, video_dim=384, video_ffn=1024, action_dim_model=256, action_ffn=768, n_heads=6,
        head_dim=64, text_dim=256, text_len=64, text_layers=2, latent_channels=16, image_hw=(96, 80),
        vae_down=8, vae_widths=(48, 96, 128), ovcr_queries=16, ovcr_hidden=384,
    ),
    # Published scale (the AHA-WAM paper, section 2): Wan2.2-5B-like video DiT, 1B action DiT, ~1.22B OVCR.
    # ovcr_hidden=3200 sizes each per-layer editor at ~39M so that 30 editors + the query encoder ~= 1.22B.
    "paper": dict(
        n_layers=30, video_dim=3072, video_ffn=14336, action_dim_model=1024, action_ffn=4096, n_heads=24,
        head_dim=128, text_dim=4096, text_len=128, text_layers=2, latent_channels=48, image_hw=(384, 320),
        vae_down=16, vae_widths=(128, 256, 512, 512), ovcr_queries=32, ovcr_hidden=3200,
    ),
}

#: Published parameter counts (spec section 2), for :func:`ahabench.policies.wam.wam.parameter_counts` checks.
PAPER_PARAM_COUNTS: dict[str, float] = {"video_dit": 4.99e9, "action_dit": 1.02e9, "ovcr": 1.22e9}


@dataclass(frozen=True)
class WAMConfig:
    """All sizes and switches of one WAM model. Build with :func:`make_config`."""

    size: str = "tiny"
    variant: str = "aha"
    # backbone
    n_layers: int = 4
    video_dim: int = 192
    video_ffn: int = 512
    action_dim_model: int = 128
    action_ffn: int = 384
    n_heads: int = 4
    head_dim: int = 32
    # text
    text_dim: int = 128
    text_len: int = 64
    text_layers: int = 2
    # visual tokenizer: image (H, W) -> latent (H / vae_down, W / vae_down, latent_channels); 2x2 patches
    latent_channels: int = 8
    image_hw: tuple[int, int] = (96, 80)
    vae_down: int = 8
    vae_widths: tuple[int, ...] = (32, 48, 64)
    patch: int = 2
    # OVCR
    ovcr_queries: int = 8
    ovcr_hidden: int = 128
    ovcr_gate_init: float = -4.0
    # data layout (spec section 2 and the data contract)
    action_dim: int = 16
    proprio_dim: int = 16
    horizon: int = 64
    chunk_len: int = 16
    n_video_frames: int = 3
    frame_stride_steps: int = 8  # one RGB frame index every 8 control steps (RoPE unit)
    latent_frame_steps: int = 32  # video frames at tau, tau+32, tau+64
    memory_frames: int = 6
    history_stride_steps: int = 64
    # proprioception: one cross-attention token per chunk (the paper's) and, when proprio_tokens, also a
    # Linear(proprio -> D) embedding added to every action token
    proprio_tokens: bool = False
    action_space: str = "absolute"
    # structure switches (set by the variant)
    video_mask: str = "block_causal"
    use_memory: bool = True
    use_ovcr: bool = True
    # objective and sampling
    time_shift: float = 5.0
    video_loss_weight: float = 1.0
    sample_steps: int = 10
    rope_theta: float = 10000.0

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown WAM variant {self.variant!r}; known: {VARIANTS}")
        if self.action_space not in ACTION_SPACES:
            raise ValueError(f"unknown action space {self.action_space!r}; known: {ACTION_SPACES}")
        if self.video_mask not in VIDEO_MASKS:
            raise ValueError(f"unknown video mask {self.video_mask!r}; known: {VIDEO_MASKS}")
        if self.horizon % self.chunk_len or self.chunk_len % 16:
            raise ValueError(f"horizon {self.horizon} must be a multiple of chunk_len {self.chunk_len} (a multiple of 16)")
        if self.head_dim % 2:
            raise ValueError(f"head_dim must be even for RoPE, got {self.head_dim}")
        h, w = self.latent_hw
        if self.image_hw[0] % self.vae_down or self.image_hw[1] % self.vae_down or h % self.patch or w % self.patch:
            raise ValueError(f"image {self.image_hw} not divisible by vae_down {self.vae_down} x patch {self.patch}")
        if 2 ** (len(self.vae_widths)) != self.vae_down:
            raise ValueError(f"vae_widths {self.vae_widths} must have log2(vae_down={self.vae_down}) stages")

    @property
    def inner_dim(self) -> int:
        """Attention inner dim, shared by video and action DiTs (K/V sharing)."""
        return self.n_heads * self.head_dim

    @property
    def latent_hw(self) -> tuple[int, int]:
        return self.image_hw[0] // self.vae_down, self.image_hw[1] // self.vae_down

    @property
    def grid_hw(self) -> tuple[int, int]:
        """Token grid per frame after patching."""
        h, w = self.latent_hw
        return h // self.patch, w // self.patch

    @property
    def tokens_per_frame(self) -> int:
        gh, gw = self.grid_hw
        return gh * gw

    @property
    def patch_dim(self) -> int:
        return self.latent_channels * self.patch * self.patch

    @property
    def n_chunks(self) -> int:
        return self.horizon // self.chunk_len

    @property
    def frame_gap(self) -> int:
        """Frame-index gap between consecutive video frames of a clip (32 steps / 8 = 4)."""
        return self.latent_frame_steps // self.frame_stride_steps

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WAMConfig:
        d = dict(d)
        for key in ("image_hw", "vae_widths"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)


def variant_fields(variant: str) -> dict[str, Any]:
    """The structure switches a variant implies (spec sections 3, 4, 5 and 9)."""
    if variant == "aha":
        return dict(video_mask="block_causal", use_memory=True, use_ovcr=True, chunk_len=16)
    if variant == "naive_async":
        return dict(video_mask="block_causal", use_memory=False, use_ovcr=False, chunk_len=16)
    if variant == "fast":
        return dict(video_mask="first_frame", use_memory=False, use_ovcr=False, chunk_len=32)
    raise ValueError(f"unknown WAM variant {variant!r}; known: {VARIANTS}")


def make_config(size: str = "tiny", variant: str = "aha", **overrides: Any) -> WAMConfig:
    """Config for a size preset and a variant; ``overrides`` replace any field (e.g. ``use_ovcr=False``)."""
    if size not in SIZE_PRESETS:
        raise ValueError(f"unknown WAM size {size!r}; known: {sorted(SIZE_PRESETS)}")
    fields = dict(SIZE_PRESETS[size])
    fields.update(variant_fields(variant))
    fields.update(overrides)
    return WAMConfig(size=size, variant=variant, **fields)
