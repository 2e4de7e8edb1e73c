"""Video DiT: the slow planner. Flow-matching over per-frame latent tokens, per-layer K/V exposed.

Tokens of F frames (T tokens each) carry per-frame flow times (the clean current frame has s = 0). Self
attention may be prefixed by per-layer memory K/V (rolling memory at run time, history frames in training)
and is masked block-causally across frames (AHA-WAM) or first-frame-causally (Fast-WAM). Language arrives
by cross-attention. The video DiT never sees action tokens.
"""

from __future__ import annotations

import torch
from torch import nn

from ahabench.policies.wam.config import WAMConfig
from ahabench.policies.wam.layers import (
    KV,
    AdaLNBlock,
    TimestepEmbedder,
    attend,
    modulate,
    rope_angles,
)


def frame_mask(
    n_query_frames: int,
    tokens_per_frame: int,
    kind: str,
    prefix_valid: torch.Tensor | None = None,
) -> torch.Tensor:
    """Boolean attention mask (B or 1, 1, F*T, P*T + F*T) for F query frames after P prefix (memory) frames.

    kind ``block_causal``: frame i sees frames <= i; ``first_frame``: frame 0 sees only itself, later
    frames see every clip frame. Prefix frames are visible to every query where ``prefix_valid`` (B, P) is
    True (invalid history before the episode start is masked).
    """
    f = torch.arange(n_query_frames)
    if kind == "block_causal":
        clip = f[None, :] <= f[:, None]  # (F, F) [query, key]
    elif kind == "first_frame":
        clip = (f[:, None] > 0) | (f[None, :] == 0)
    else:
        raise ValueError(f"unknown video mask {kind!r}")
    clip = clip.repeat_interleave(tokens_per_frame, 0).repeat_interleave(tokens_per_frame, 1)  # (FT, FT)
    if prefix_valid is None:
        return clip[None, None]
    b = prefix_valid.shape[0]
    pre = prefix_valid.repeat_interleave(tokens_per_frame, 1)[:, None, :].expand(b, clip.shape[0], -1)  # (B, FT, PT)
    mask = torch.cat([pre, clip[None].expand(b, -1, -1).to(pre.device)], dim=-1)
    return mask[:, None]


class VideoBlock(AdaLNBlock):
    """Wan-style block: adaLN self-attention (K/V exposed) -> text cross-attention -> adaLN FFN."""

    def __init__(self, cfg: WAMConfig):
        super().__init__(cfg.video_dim, cfg.n_heads, cfg.head_dim, cfg.video_ffn)

    def forward(
        self,
        x: torch.Tensor,  # (B, N, D)
        mod: torch.Tensor,  # (B, N, 6, D)
        cos: torch.Tensor,  # (B, N, Dh/2)
        sin: torch.Tensor,
        ctx: torch.Tensor,  # (B, L, D)
        ctx_mask: torch.Tensor | None,  # (B, L)
        prefix: KV | None,  # (B, H, P, Dh) memory K/V
        mask: torch.Tensor | None,  # (B, 1, N, P + N)
    ) -> tuple[torch.Tensor, KV]:
        (q, k, v), gates = self.modulated_qkv(x, mod, cos, sin)  # each (B, H, N, Dh)
        keys, vals = (k, v) if prefix is None else (torch.cat([prefix[0], k], 2), torch.cat([prefix[1], v], 2))
        return self.finish(x, attend(q, keys, vals, mask), gates, ctx, ctx_mask), (k, v)


class VideoDiT(nn.Module):
    """The planner: ``forward(tokens, s, frame_index, text, ...) -> (velocity, per-layer K/V)``."""

    def __init__(self, cfg: WAMConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.video_dim
        self.patch_embed = nn.Linear(cfg.patch_dim, d)
        self.text_proj = nn.Sequential(nn.Linear(cfg.text_dim, d), nn.GELU(approximate="tanh"), nn.Linear(d, d))
        self.time = TimestepEmbedder(d)
        self.blocks = nn.ModuleList(VideoBlock(cfg) for _ in range(cfg.n_layers))
        self.norm_out = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.out_modulation = nn.Parameter(torch.zeros(2, d))
        self.head = nn.Linear(d, cfg.patch_dim)
        gh, gw = cfg.grid_hw
        rows, cols = torch.meshgrid(torch.arange(gh), torch.arange(gw), indexing="ij")
        self.register_buffer("grid_pos", torch.stack([rows.flatten(), cols.flatten()], -1).float(), persistent=False)

    def positions(self, frame_index: torch.Tensor) -> torch.Tensor:
        """frame_index (B, F) episode-global -> (time, row, col) positions (B, F*T, 3)."""
        b, f = frame_index.shape
        t = self.grid_pos.shape[0]
        time = frame_index.float()[:, :, None, None].expand(b, f, t, 1)
        grid = self.grid_pos[None, None].expand(b, f, t, 2)
        return torch.cat([time, grid], -1).reshape(b, f * t, 3)

    def forward(
        self,
        tokens: torch.Tensor,  # (B, F, T, P) patchified latents (noisy or clean)
        s: torch.Tensor,  # (B, F) flow time per frame (0 = clean)
        frame_index: torch.Tensor,  # (B, F)
        text: torch.Tensor,  # (B, L, text_dim)
        text_mask: torch.Tensor | None,  # (B, L)
        prefix: list[KV] | None = None,  # per layer (B, H, P*T, Dh)
        mask: torch.Tensor | None = None,  # (B, 1, F*T, P*T + F*T)
        return_velocity: bool = True,
    ) -> tuple[torch.Tensor | None, list[KV]]:
        """-> velocity (B, F, T, P) (None if not asked) and per-layer (k, v) of these tokens (B, H, F*T, Dh)."""
        b, f, t, _ = tokens.shape
        x = self.patch_embed(tokens).flatten(1, 2)  # (B, F*T, D)
        emb, mod = self.time(s)  # (B, F, D), (B, F, 6, D)
        mod = mod.repeat_interleave(t, dim=1)  # (B, F*T, 6, D)
        cos, sin = rope_angles(self.positions(frame_index), self.cfg.head_dim, self.cfg.rope_theta)
        ctx = self.text_proj(text)  # (B, L, D)
        kvs: list[KV] = []
        for i, blk in enumerate(self.blocks):
            x, kv = blk(x, mod, cos, sin, ctx, text_mask, None if prefix is None else prefix[i], mask)
            kvs.append(kv)
        if not return_velocity:
            return None, kvs
        # final adaLN from the time embedding (one shift/scale per frame), as in DiT's output layer
        shift = (emb + self.out_modulation[0]).repeat_interleave(t, 1)  # (B, F*T, D)
        scale = (emb + self.out_modulation[1]).repeat_interleave(t, 1)
        vel = self.head(modulate(self.norm_out(x), shift, scale))  # (B, F*T, P)
        return vel.unflatten(1, (f, t)), kvs
