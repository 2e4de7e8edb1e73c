"""Instruction encoder: a deterministic byte-level vocabulary and a small transformer trained here.

The paper uses a frozen umT5-XXL (dim 4096, 128 tokens). Nothing may be downloaded here, so instructions
are tokenised into UTF-8 bytes (a fixed 259-symbol vocabulary: pad, bos, eos and the 256 byte values,
identical on every machine) and encoded by a small pre-norm transformer trained jointly with the WAM.
"""

from __future__ import annotations

import torch
from torch import nn

from ahabench.policies.wam.config import WAMConfig
from ahabench.policies.wam.layers import FeedForward, attend

PAD, BOS, EOS = 0, 1, 2
VOCAB_SIZE = 259


class ByteTokenizer:
    """str -> token ids: [BOS, byte + 3, ..., EOS, PAD...], truncated to ``max_len``."""

    def __init__(self, max_len: int):
        if max_len < 2:
            raise ValueError(f"max_len must be >= 2, got {max_len}")
        self.max_len = max_len

    def __call__(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """-> ids (B, L) int64, mask (B, L) bool (True on real tokens)."""
        ids = torch.full((len(texts), self.max_len), PAD, dtype=torch.long)
        for i, text in enumerate(texts):
            body = [b + 3 for b in text.strip().lower().encode("utf-8")][: self.max_len - 2]
            seq = [BOS, *body, EOS]
            ids[i, : len(seq)] = torch.tensor(seq)
        return ids, ids != PAD


class _TextBlock(nn.Module):
    def __init__(self, dim: int, n_heads: int):
        super().__init__()
        self.n_heads = n_heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, 4 * dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(self.norm1(x)).unflatten(-1, (3, self.n_heads, -1)).permute(2, 0, 3, 1, 4)
        o = attend(q, k, v, mask[:, None, None, :])  # (B, H, L, Dh)
        x = x + self.proj(o.transpose(1, 2).flatten(2))
        return x + self.ffn(self.norm2(x))


class TextEncoder(nn.Module):
    """Byte ids -> contextual token features (B, L, text_dim)."""

    def __init__(self, cfg: WAMConfig):
        super().__init__()
        dim = cfg.text_dim
        self.tokenizer = ByteTokenizer(cfg.text_len)
        self.embed = nn.Embedding(VOCAB_SIZE, dim)
        self.pos = nn.Parameter(0.02 * torch.randn(cfg.text_len, dim))
        self.blocks = nn.ModuleList(_TextBlock(dim, max(1, dim // 64)) for _ in range(cfg.text_layers))
        self.norm = nn.LayerNorm(dim)

    def forward(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """-> tokens (B, L, text_dim), mask (B, L) bool."""
        ids, mask = self.tokenizer(texts)
        ids, mask = ids.to(self.pos.device), mask.to(self.pos.device)
        x = self.embed(ids) + self.pos  # (B, L, D)
        for blk in self.blocks:
            x = blk(x, mask)
        return self.norm(x), mask
