"""Shared building blocks of the WAM DiTs: time embeddings, RoPE, attention, feed-forward, weight init.

Shapes: B batch, N query tokens, M key tokens, H heads, Dh head dim, D model width.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

KV = tuple[torch.Tensor, torch.Tensor]  # (k, v), each (B, H, N, Dh)


def sinusoidal(x: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of a float tensor (...,) -> (..., dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=x.device, dtype=torch.float32) / half)
    args = x.float()[..., None] * freqs  # (..., half)
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale) + shift


class TimestepEmbedder(nn.Module):
    """Flow time s in [0, 1] -> (..., D) conditioning vector, then the six adaLN modulation vectors."""

    def __init__(self, dim: int, freq_dim: int = 256):
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.to_mod = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))

    def forward(self, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """s (...,) -> (emb (..., D), mod (..., 6, D))."""
        emb = self.mlp(sinusoidal(s * 1000.0, self.freq_dim).to(self.mlp[0].weight.dtype))
        mod = self.to_mod(emb).unflatten(-1, (6, -1))
        return emb, mod


def rope_angles(pos: torch.Tensor, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Axial RoPE over (time, row, col) positions.

    pos (..., N, 3) float -> cos, sin each (..., N, Dh/2). Positions may be fractional: action tokens sit at
    time ``frame_index + step / frame_stride`` so their rotation relative to video keys only depends on the
    step offset from the planner frame.
    """
    pairs = head_dim // 2
    n_hw = pairs // 3
    split = (pairs - 2 * n_hw, n_hw, n_hw)
    angles = []
    for axis, n in enumerate(split):
        freqs = theta ** (-torch.arange(n, device=pos.device, dtype=torch.float32) / max(n, 1))
        angles.append(pos[..., axis : axis + 1].float() * freqs)  # (..., N, n)
    ang = torch.cat(angles, dim=-1)
    return torch.cos(ang), torch.sin(ang)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x (B, H, N, Dh), cos/sin (B, N, Dh/2) -> rotated x (half-split pairing)."""
    x1, x2 = x.float().chunk(2, dim=-1)
    c, s = cos[:, None], sin[:, None]
    return torch.cat([x1 * c - x2 * s, x1 * s + x2 * c], dim=-1).to(x.dtype)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Scaled dot-product attention; mask bool (B or 1, 1, N, M), True = may attend.

    fp32 inputs use torch's fused kernel. Reduced-precision inputs (bf16 autocast training) take the
    explicit path: two bf16 matmuls around an fp32 softmax. On a CPU the fused bf16 kernel's backward is
    slower than fp32 (~64 ms a call here, half of a training step); the explicit path keeps the matmul
    speed-up at these sequence lengths (<= a few hundred keys).
    """
    if q.dtype == torch.float32:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))  # (B, H, N, M)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores.float(), dim=-1).to(v.dtype) @ v


class _Projections(nn.Module):
    """The q/k/v/o projections of multi-head attention; k and v read ``kv_dim`` features (the context's)."""

    def __init__(self, dim: int, kv_dim: int, n_heads: int, head_dim: int):
        super().__init__()
        inner = n_heads * head_dim
        self.n_heads, self.head_dim = n_heads, head_dim
        self.q = nn.Linear(dim, inner)
        self.k = nn.Linear(kv_dim, inner)
        self.v = nn.Linear(kv_dim, inner)
        self.o = nn.Linear(inner, dim)

    def heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(-1, (self.n_heads, self.head_dim)).transpose(1, 2)  # (B, H, N, Dh)

    def out(self, o: torch.Tensor) -> torch.Tensor:
        return self.o(o.transpose(1, 2).flatten(2))  # (B, H, N, Dh) -> (B, N, D)


class SelfAttentionKV(_Projections):
    """Self-attention whose per-layer K/V are exposed (and can be prefixed by memory / shared)."""

    def __init__(self, dim: int, n_heads: int, head_dim: int):
        super().__init__(dim, dim, n_heads, head_dim)
        # QK-norm keeps the logits of shared keys on a common scale across the two branches.
        self.norm_q = nn.RMSNorm(head_dim, eps=1e-6)
        self.norm_k = nn.RMSNorm(head_dim, eps=1e-6)

    def qkv(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """x (B, N, D) -> q, k, v each (B, H, N, Dh); RoPE applied to q and k."""
        q = apply_rope(self.norm_q(self.heads(self.q(x))), cos, sin)
        k = apply_rope(self.norm_k(self.heads(self.k(x))), cos, sin)
        v = self.heads(self.v(x))
        return q, k, v


class CrossAttention(_Projections):
    """Tokens attend to a conditioning context (language, proprioception)."""

    def context_kv(self, ctx: torch.Tensor) -> KV:
        """ctx (B, L, Dc) -> (k, v) each (B, H, L, Dh); cacheable while the context is fixed."""
        return self.heads(self.k(ctx)), self.heads(self.v(ctx))

    def forward(self, x: torch.Tensor, ctx: torch.Tensor | KV, ctx_mask: torch.Tensor | None) -> torch.Tensor:
        """x (B, N, D), ctx (B, L, Dc) or its cached ``context_kv``, ctx_mask (B, L) bool -> (B, N, D)."""
        k, v = self.context_kv(ctx) if isinstance(ctx, torch.Tensor) else ctx
        mask = None if ctx_mask is None else ctx_mask[:, None, None, :]  # (B, 1, 1, L)
        return self.out(attend(self.heads(self.q(x)), k, v, mask))  # (B, H, N, Dh) -> (B, N, D)


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class AdaLNBlock(nn.Module):
    """The transformer block both DiTs share: adaLN self-attention -> context cross-attention -> adaLN FFN.

    Subclasses write ``forward`` (how self-attention keys are extended: memory prefix, planner K/V) and call
    :meth:`modulated_qkv` and :meth:`finish`. ``modulation`` is the per-block offset on the shared time
    modulation: shift, scale, gate of the attention and of the FFN.
    """

    def __init__(self, dim: int, n_heads: int, head_dim: int, ffn_hidden: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = SelfAttentionKV(dim, n_heads, head_dim)
        self.norm_x = nn.LayerNorm(dim, eps=1e-6)
        self.cross = CrossAttention(dim, dim, n_heads, head_dim)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.ffn = FeedForward(dim, ffn_hidden)
        self.modulation = nn.Parameter(torch.zeros(6, dim))

    def modulated_qkv(self, x: torch.Tensor, mod: torch.Tensor, cos: torch.Tensor,
                      sin: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
        """x (B, N, D), mod (B, N|1, 6, D) -> ((q, k, v) each (B, H, N, Dh), (shift2, scale2, gate1, gate2))."""
        sh1, sc1, g1, sh2, sc2, g2 = (mod + self.modulation).unbind(-2)  # each (B, N|1, D)
        return self.attn.qkv(modulate(self.norm1(x), sh1, sc1), cos, sin), (sh2, sc2, g1, g2)

    def finish(self, x: torch.Tensor, attended: torch.Tensor, gates: tuple[torch.Tensor, ...], ctx: torch.Tensor | KV,
               ctx_mask: torch.Tensor | None) -> torch.Tensor:
        """Residual attention output (attended (B, H, N, Dh)), then cross-attention, then the FFN -> (B, N, D)."""
        sh2, sc2, g1, g2 = gates
        x = x + g1 * self.attn.out(attended)
        x = x + self.cross(self.norm_x(x), ctx, ctx_mask)
        return x + g2 * self.ffn(modulate(self.norm2(x), sh2, sc2))


def init_weights(module: nn.Module) -> None:
    """The one weight-init routine of the WAM family (applied with ``model.apply``).

    Linear/embedding weights ~ N(0, 0.02), biases 0, norms at identity. Zero-initialised layers that must
    start at zero (OVCR's last editor layer) are flagged with ``_zero_init`` and re-zeroed here.
    """
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
        if getattr(module, "_zero_init", False):
            nn.init.zeros_(module.weight)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, std=0.02)
    elif isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.LayerNorm, nn.GroupNorm, nn.RMSNorm)):
        if getattr(module, "weight", None) is not None:
            nn.init.ones_(module.weight)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
