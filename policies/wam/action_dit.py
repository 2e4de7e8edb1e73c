"""Action DiT: the fast executor. Denoises one action chunk attending, at every layer, to the planner.

At layer l the chunk's action queries attend over [planner K/V of the current frame (OVCR-edited) ;
the chunk's own action K/V]: never future video frames, never other chunks (chunks are folded into the
batch dimension, so cross-chunk attention is impossible by construction). Language and the chunk's
proprioception token arrive by cross-attention (an :class:`ActionContext`, built once per chunk); with
``cfg.proprio_tokens`` the proprioception is also added to every action token, so each action sees where the
arm is without routing through attention. The attention inner dim equals the video DiT's.

Action positions are absolute steps p in the horizon, counted from the planner frame's observation
(p = phase offset + i). They enter twice: as a sinusoidal input embedding and as RoPE time
``frame_index + p / frame_stride_steps``, the same time axis the video keys are rotated on, so the
relative rotation between an action query and a planner key depends only on p.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    sinusoidal,
)


@dataclass(frozen=True)
class ActionContext:
    """A chunk's conditioning, fixed over its denoising steps: per-block cross-attention K/V of
    [text ; proprio token], its mask, and the per-token proprioception embedding (or None)."""

    kv: list[KV]  # per block (B', H, L+1, Dh)
    mask: torch.Tensor  # (B', L+1) bool
    token_bias: torch.Tensor | None  # (B', D)

    def rows(self, index: slice | torch.Tensor) -> ActionContext:
        """The context of a subset of rows."""
        bias = None if self.token_bias is None else self.token_bias[index]
        return ActionContext([(k[index], v[index]) for k, v in self.kv], self.mask[index], bias)


class ActionBlock(AdaLNBlock):
    """adaLN joint attention over [planner K/V ; own K/V] -> context cross-attention -> adaLN FFN."""

    def __init__(self, cfg: WAMConfig):
        super().__init__(cfg.action_dim_model, cfg.n_heads, cfg.head_dim, cfg.action_ffn)

    def forward(
        self,
        x: torch.Tensor,  # (B', n, D)
        mod: torch.Tensor,  # (B', 1, 6, D)
        cos: torch.Tensor,  # (B', n, Dh/2)
        sin: torch.Tensor,
        video_kv: KV | None,  # (B', H, T, Dh) current-frame planner K/V (edited)
        ctx: KV,  # this block's cross K/V of [text ; proprio token], each (B', H, L+1, Dh)
        ctx_mask: torch.Tensor | None,  # (B', L+1)
    ) -> torch.Tensor:
        (q, k, v), gates = self.modulated_qkv(x, mod, cos, sin)  # q, k, v (B', H, n, Dh)
        if video_kv is not None:
            k, v = torch.cat([video_kv[0], k], 2), torch.cat([video_kv[1], v], 2)  # (B', H, T+n, Dh)
        return self.finish(x, attend(q, k, v), gates, ctx, ctx_mask)  # bidirectional inside the chunk


class ActionDiT(nn.Module):
    """``forward(x_s, s, steps, frame_index, video_kv, context) -> velocity`` for one chunk per row."""

    def __init__(self, cfg: WAMConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.action_dim_model
        self.action_in = nn.Linear(cfg.action_dim, d)
        self.text_proj = nn.Sequential(nn.Linear(cfg.text_dim, d), nn.GELU(approximate="tanh"), nn.Linear(d, d))
        self.proprio_proj = nn.Linear(cfg.proprio_dim, cfg.text_dim)  # one token per chunk, in text space
        self.proprio_tokens = nn.Linear(cfg.proprio_dim, d) if cfg.proprio_tokens else None
        self.time = TimestepEmbedder(d)
        self.blocks = nn.ModuleList(ActionBlock(cfg) for _ in range(cfg.n_layers))
        self.norm_out = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.out_modulation = nn.Parameter(torch.zeros(2, d))
        self.head = nn.Linear(d, cfg.action_dim)
        gh, gw = cfg.grid_hw
        # action tokens sit at the centre of the frame's token grid on the spatial RoPE axes
        self.register_buffer("centre", torch.tensor([(gh - 1) / 2, (gw - 1) / 2]), persistent=False)

    def context(self, text: torch.Tensor, text_mask: torch.Tensor | None, proprio: torch.Tensor) -> ActionContext:
        """text (B, L, text_dim) for B samples, proprio (B * r, proprio_dim) for r chunks per sample (rows
        sample-major) -> the chunks' :class:`ActionContext`.

        The text is projected and turned into K/V once per sample, not once per chunk: only the proprio
        token differs between a sample's chunks (the projection is per token, so this equals projecting
        the concatenation row by row)."""
        b, rows = text.shape[0], proprio.shape[0]
        if rows % b:
            raise ValueError(f"proprio rows {rows} not a multiple of the {b} text rows")
        r = rows // b
        if text_mask is None:
            text_mask = torch.ones(text.shape[:2], dtype=torch.bool, device=text.device)
        text_ctx = self.text_proj(text)  # (B, L, D)
        prop_ctx = self.text_proj(self.proprio_proj(proprio)[:, None])  # (B*r, 1, D)
        kv = []
        for blk in self.blocks:
            kt, vt = blk.cross.context_kv(text_ctx)  # (B, H, L, Dh)
            kp, vp = blk.cross.context_kv(prop_ctx)  # (B*r, H, 1, Dh)
            if r > 1:
                kt, vt = kt.repeat_interleave(r, 0), vt.repeat_interleave(r, 0)
            kv.append((torch.cat([kt, kp], 2), torch.cat([vt, vp], 2)))
        mask = torch.cat([text_mask.repeat_interleave(r, 0), torch.ones(rows, 1, dtype=torch.bool, device=text.device)], 1)
        bias = None if self.proprio_tokens is None else self.proprio_tokens(proprio)  # (B*r, D)
        return ActionContext(kv, mask, bias)

    def positions(self, frame_index: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        """frame_index (B',), steps (B', n) -> RoPE positions (B', n, 3)."""
        time = frame_index.float()[:, None] + steps.float() / self.cfg.frame_stride_steps  # (B', n)
        return torch.cat([time[..., None], self.centre.expand(*time.shape, 2)], -1)

    def forward(
        self,
        x: torch.Tensor,  # (B', n, A) noisy actions
        s: torch.Tensor,  # (B',) flow time of the chunk
        steps: torch.Tensor,  # (B', n) absolute positions in the horizon
        frame_index: torch.Tensor,  # (B',) planner frame index
        video_kv: list[KV] | None,  # per layer (B', H, T, Dh)
        context: ActionContext,
    ) -> torch.Tensor:
        """-> predicted velocity (B', n, A)."""
        d = self.cfg.action_dim_model
        h = self.action_in(x) + sinusoidal(steps.float(), d).to(x.dtype)  # (B', n, D)
        if context.token_bias is not None:
            h = h + context.token_bias[:, None]
        emb, mod = self.time(s)  # (B', D), (B', 6, D)
        mod = mod[:, None]  # (B', 1, 6, D)
        cos, sin = rope_angles(self.positions(frame_index, steps), self.cfg.head_dim, self.cfg.rope_theta)
        for i, blk in enumerate(self.blocks):
            h = blk(h, mod, cos, sin, None if video_kv is None else video_kv[i], context.kv[i], context.mask)
        shift = (emb + self.out_modulation[0])[:, None]  # (B', 1, D)
        scale = (emb + self.out_modulation[1])[:, None]
        return self.head(modulate(self.norm_out(h), shift, scale))  # (B', n, A)
