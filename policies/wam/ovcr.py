"""OVCR: observation-guided video-context routing (spec section 5).

Adapts the cached current-frame planner K/V to the newest observation without rerunning the video DiT:
1. the observation's latent tokens are projected; Q learned base queries cross-attend to them -> Z;
2. per layer l, with cached (K0, V0):  R = softmax(q_l(Z) K0^T / sqrt(Dh)) V0   (Q slots per head)
                                      D = softmax(K0 R^T / sqrt(Dh)) R          (back to token positions)
                                      [dK, dV] = MLP_l(LN(D))                    (last linear zero-init)
                                      K~ = K0 + sigmoid(gamma_l) dK, V~ = V0 + sigmoid(gamma_l) dV
The cache itself is never overwritten: edited tensors are new.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ahabench.policies.wam.config import WAMConfig
from ahabench.policies.wam.layers import KV, attend


class QueryEncoder(nn.Module):
    """Observation tokens (B, T, P) -> routing queries Z (B, Q, inner)."""

    def __init__(self, cfg: WAMConfig):
        super().__init__()
        inner = cfg.inner_dim
        self.n_heads, self.head_dim = cfg.n_heads, cfg.head_dim
        self.obs_proj = nn.Sequential(nn.Linear(cfg.patch_dim, inner), nn.LayerNorm(inner))
        self.base_queries = nn.Parameter(0.02 * torch.randn(cfg.ovcr_queries, inner))
        self.q = nn.Linear(inner, inner)
        self.k = nn.Linear(inner, inner)
        self.v = nn.Linear(inner, inner)
        self.o = nn.Linear(inner, inner)
        self.norm = nn.LayerNorm(inner)

    def forward(self, obs_tokens: torch.Tensor) -> torch.Tensor:
        b = obs_tokens.shape[0]

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.unflatten(-1, (self.n_heads, self.head_dim)).transpose(1, 2)

        obs = self.obs_proj(obs_tokens)  # (B, T, inner)
        base = self.base_queries[None].expand(b, -1, -1)  # (B, Q, inner)
        o = attend(heads(self.q(base)), heads(self.k(obs)), heads(self.v(obs)))  # (B, H, Q, Dh)
        return self.norm(base + self.o(o.transpose(1, 2).flatten(2)))  # (B, Q, inner)


class LayerEditor(nn.Module):
    """Per-layer read / route-back / residual editor with a scalar gate."""

    def __init__(self, cfg: WAMConfig):
        super().__init__()
        inner = cfg.inner_dim
        self.n_heads, self.head_dim = cfg.n_heads, cfg.head_dim
        self.q = nn.Linear(inner, inner)
        self.norm = nn.LayerNorm(inner)
        self.fc1 = nn.Linear(inner, cfg.ovcr_hidden)
        self.fc2 = nn.Linear(cfg.ovcr_hidden, 2 * inner)
        self.fc2._zero_init = True  # the editor starts as the identity (init_weights honours the flag)
        self.gamma = nn.Parameter(torch.tensor(float(cfg.ovcr_gate_init)))

    def forward(self, z: torch.Tensor, k0: torch.Tensor, v0: torch.Tensor) -> KV:
        """z (B, Q, inner), k0/v0 (B, H, T, Dh) -> edited (K~, V~), new tensors of the same shape."""
        scale = 1.0 / math.sqrt(self.head_dim)
        qz = self.q(z).unflatten(-1, (self.n_heads, self.head_dim)).transpose(1, 2)  # (B, H, Q, Dh)
        r = attend(qz, k0, v0)  # read: (B, H, Q, Dh)
        d = torch.softmax(k0 @ r.transpose(-1, -2) * scale, dim=-1) @ r  # route back: (B, H, T, Dh)
        d = d.transpose(1, 2).flatten(2)  # (B, T, inner)
        dk, dv = self.fc2(torch.nn.functional.gelu(self.fc1(self.norm(d)), approximate="tanh")).chunk(2, -1)
        alpha = torch.sigmoid(self.gamma)

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.unflatten(-1, (self.n_heads, self.head_dim)).transpose(1, 2)

        return k0 + alpha * heads(dk), v0 + alpha * heads(dv)


class OVCR(nn.Module):
    """``forward(obs_tokens, kv) -> edited kv``: one routing-query set per row, one editor per layer."""

    def __init__(self, cfg: WAMConfig):
        super().__init__()
        self.encoder = QueryEncoder(cfg)
        self.editors = nn.ModuleList(LayerEditor(cfg) for _ in range(cfg.n_layers))

    def forward(self, obs_tokens: torch.Tensor, kv: list[KV]) -> list[KV]:
        """obs_tokens (B', T, P); kv per layer (B', H, T, Dh) -> edited per-layer kv."""
        z = self.encoder(obs_tokens)  # (B', Q, inner)
        return [ed(z, k0, v0) for ed, (k0, v0) in zip(self.editors, kv)]

    def gates(self) -> torch.Tensor:
        """alpha_l per layer (n_layers,)."""
        return torch.sigmoid(torch.stack([ed.gamma for ed in self.editors]))
