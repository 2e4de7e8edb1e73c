"""Action DiT: the fast executor. Denoises one action chunk attending, at every layer, to the planner.

At layer l the chunk's action queries attend over [planner K/V of the current frame (OVCR-edited) ;
the chunk's own action K/V]: never future video frames, never other chunks (chunks are folded into the
batch dimension, so cross-chunk attention is impossible by construction). Language and the chunk's
proprioception token arrive by cross-attention. The attention inner dim equals the video DiT's.

Action positions are absolute steps p in the horizon, counted from the planner frame's observation
(p = phase offset + i). They enter twice: as a sinusoidal input embedding and as RoPE time
``frame_index + p / frame_stride_steps``, the same time axis the video keys are rotated on, so the
relative rotation between an action query and a planner key depends only on p.
"""

from __future__ import annotations

import torch
from torch import nn

from policies.wam.config import WAMConfig
from policies.wam.layers import KV, CrossAttention, FeedForward, SelfAttentionKV, TimestepEmbedder, attend, modulate, rope_angles, sinusoidal


class ActionBlock(nn.Module):
    """adaLN joint attention over [planner K/V ; own K/V] -> context cross-attention -> adaLN FFN."""

    def __init__(self, cfg: WAMConfig):
        super().__init__()
        d = cfg.action_dim_model
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.attn = SelfAttentionKV(d, cfg.n_heads, cfg.head_dim)
        self.norm_x = nn.LayerNorm(d, eps=1e-6)
        self.cross = CrossAttention(d, d, cfg.n_heads, cfg.head_dim)
        self.norm2 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.ffn = FeedForward(d, cfg.action_ffn)
        self.modulation = nn.Parameter(torch.zeros(6, d))

    def forward(
        self,
        x: torch.Tensor,  # (B', n, D)
        mod: torch.Tensor,  # (B', 1, 6, D)
        cos: torch.Tensor,  # (B', n, Dh/2)
        sin: torch.Tensor,
        video_kv: KV | None,  # (B', H, T, Dh) current-frame planner K/V (edited)
        ctx: torch.Tensor | KV,  # (B', L+1, D) or this block's cached cross K/V
        ctx_mask: torch.Tensor | None,  # (B', L+1)
    ) -> torch.Tensor:
        sh1, sc1, g1, sh2, sc2, g2 = (mod + self.modulation).unbind(-2)  # each (B', 1, D)
        q, k, v = self.attn.qkv(modulate(self.norm1(x), sh1, sc1), cos, sin)  # (B', H, n, Dh)
        if video_kv is not None:
            k, v = torch.cat([video_kv[0], k], 2), torch.cat([video_kv[1], v], 2)  # (B', H, T+n, Dh)
        x = x + g1 * self.attn.out(attend(q, k, v))  # bidirectional inside the chunk
        x = x + self.cross(self.norm_x(x), ctx, ctx_mask)
        return x + g2 * self.ffn(modulate(self.norm2(x), sh2, sc2))


class ActionDiT(nn.Module):
    """``forward(x_s, s, steps, frame_index, video_kv, ctx, ctx_mask) -> velocity`` for one chunk per row."""

    def __init__(self, cfg: WAMConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.action_dim_model
        self.action_in = nn.Linear(cfg.action_dim, d)
        self.text_proj = nn.Sequential(nn.Linear(cfg.text_dim, d), nn.GELU(approximate="tanh"), nn.Linear(d, d))
        self.proprio_proj = nn.Linear(cfg.proprio_dim, cfg.text_dim)  # one token per chunk, in text space
        self.time = TimestepEmbedder(d)
        self.blocks = nn.ModuleList(ActionBlock(cfg) for _ in range(cfg.n_layers))
        self.norm_out = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.out_modulation = nn.Parameter(torch.zeros(2, d))
        self.head = nn.Linear(d, cfg.action_dim)
        gh, gw = cfg.grid_hw
        # action tokens sit at the centre of the frame's token grid on the spatial RoPE axes
        self.register_buffer("centre", torch.tensor([(gh - 1) / 2, (gw - 1) / 2]), persistent=False)

    def context(self, text: torch.Tensor, text_mask: torch.Tensor | None, proprio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """text (B', L, text_dim), proprio (B', proprio_dim) -> ctx (B', L+1, D), mask (B', L+1)."""
        tok = torch.cat([text, self.proprio_proj(proprio)[:, None]], 1)  # (B', L+1, text_dim)
        if text_mask is None:
            text_mask = torch.ones(text.shape[:2], dtype=torch.bool, device=text.device)
        mask = torch.cat([text_mask, torch.ones_like(text_mask[:, :1])], 1)
        return self.text_proj(tok), mask

    def cross_kv(self, ctx: torch.Tensor) -> list[KV]:
        """Per-block cross-attention K/V of a context (B', L+1, D): computed once per chunk, reused by
        every denoising step."""
        return [blk.cross.context_kv(ctx) for blk in self.blocks]

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
        ctx: torch.Tensor | list[KV],  # (B', L+1, D), or its per-block ``cross_kv``
        ctx_mask: torch.Tensor | None,
    ) -> torch.Tensor:
        """-> predicted velocity (B', n, A)."""
        d = self.cfg.action_dim_model
        h = self.action_in(x) + sinusoidal(steps.float(), d).to(x.dtype)  # (B', n, D)
        emb, mod = self.time(s)  # (B', D), (B', 6, D)
        mod = mod[:, None]  # (B', 1, 6, D)
        cos, sin = rope_angles(self.positions(frame_index, steps), self.cfg.head_dim, self.cfg.rope_theta)
        for i, blk in enumerate(self.blocks):
            c = ctx if isinstance(ctx, torch.Tensor) else ctx[i]
            h = blk(h, mod, cos, sin, None if video_kv is None else video_kv[i], c, ctx_mask)
        shift = (emb + self.out_modulation[0])[:, None]  # (B', 1, D)
        scale = (emb + self.out_modulation[1])[:, None]
        return self.head(modulate(self.norm_out(h), shift, scale))  # (B', n, A)
