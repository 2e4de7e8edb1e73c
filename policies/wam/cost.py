"""FLOPs and bytes of each WAM inference call, from a size config, for the roofline latency model.

Counts follow this package's implementation (multiply-add = 2 FLOPs; matmuls, attention and convolutions;
element-wise work ignored). Bytes = weights read (``dtype_bytes`` per parameter; the action DiT's weights
are re-read at every denoising step) + K/V cache traffic. Calls:

- ``encode``: VAE encoder on one mosaic;
- ``prefill``: encode + one clean video-DiT pass over the current frame attending to the memory;
- ``chunk``: encode the newest observation + OVCR + ``steps`` action-DiT passes over one chunk;
- ``fast_call``: Fast-WAM: encode + prefill without memory + ``steps`` action passes over its chunk.
The text encoder runs once per episode (cached) and is not charged to any call.
"""

from __future__ import annotations

from functools import lru_cache

from ahabench.policies.wam.config import WAMConfig
from ahabench.policies.wam.wam import parameter_counts
from ahabench.policy import CallCost

CALLS: tuple[str, ...] = ("encode", "prefill", "chunk", "fast_call")
_TIME_FREQ = 256  # sinusoidal width of the timestep embedder


# building a paper-size model on the meta device takes ~1 s; configs are frozen, hence hashable
_counts = lru_cache(maxsize=32)(parameter_counts)


def _linear(n: float, cin: int, cout: int) -> float:
    return 2.0 * n * cin * cout


def _time_embed(d: int, rows: float) -> float:
    return rows * (_linear(1, _TIME_FREQ, d) + _linear(1, d, d) + _linear(1, d, 6 * d))


def encode_flops(cfg: WAMConfig) -> float:
    """VAE encoder convolutions on one (H, W) mosaic."""
    h, w = cfg.image_hw
    widths = cfg.vae_widths
    flops = 2.0 * h * w * 3 * widths[0] * 9  # conv_in
    prev = widths[0]
    for ch in widths:
        h, w = (h + 1) // 2, (w + 1) // 2
        flops += 2.0 * h * w * prev * ch * 9 + 2.0 * h * w * ch * ch * 9
        prev = ch
    return flops + 2.0 * h * w * prev * 2 * cfg.latent_channels  # 1x1 to (mu, logvar)


def video_flops(cfg: WAMConfig, n_tokens: int, n_keys: int, frames: int = 1, head: bool = False) -> float:
    """Video DiT over ``n_tokens`` queries attending to ``n_keys`` keys (own + memory)."""
    d, inner, lt = cfg.video_dim, cfg.inner_dim, cfg.text_len
    f = _linear(n_tokens, cfg.patch_dim, d) + _linear(lt, cfg.text_dim, d) + _linear(lt, d, d)
    f += _time_embed(d, frames)
    per_layer = (
        3 * _linear(n_tokens, d, inner) + 2 * 2.0 * n_tokens * n_keys * inner + _linear(n_tokens, inner, d)
        + 2 * _linear(n_tokens, d, inner) + 2 * _linear(lt, d, inner) + 2 * 2.0 * n_tokens * lt * inner
        + 2 * _linear(n_tokens, d, cfg.video_ffn)
    )
    f += cfg.n_layers * per_layer
    if head:
        f += _linear(n_tokens, d, cfg.patch_dim)
    return f


def action_step_flops(cfg: WAMConfig, n: int, video_tokens: int) -> float:
    """One action-DiT pass over an n-action chunk attending to ``video_tokens`` planner tokens."""
    d, inner, lc = cfg.action_dim_model, cfg.inner_dim, cfg.text_len + 1
    f = _linear(n, cfg.action_dim, d) + _time_embed(d, 1) + _linear(n, d, cfg.action_dim)
    per_layer = (
        3 * _linear(n, d, inner) + 2 * 2.0 * n * (video_tokens + n) * inner + _linear(n, inner, d)
        + 2 * _linear(n, d, inner) + 2 * 2.0 * n * lc * inner + 2 * _linear(n, d, cfg.action_ffn)
    )
    return f + cfg.n_layers * per_layer


def context_flops(cfg: WAMConfig) -> float:
    """Per-chunk cross-attention context: proprio token, text projection into the action width, and the
    per-layer cross K/V (cached across denoising steps)."""
    d, lc, inner = cfg.action_dim_model, cfg.text_len + 1, cfg.inner_dim
    f = _linear(1, cfg.proprio_dim, cfg.text_dim) + _linear(lc, cfg.text_dim, d) + _linear(lc, d, d)
    return f + cfg.n_layers * 2 * _linear(lc, d, inner)


def ovcr_flops(cfg: WAMConfig) -> float:
    """Query encoder + one editor per layer over the current frame's T tokens."""
    t, q, inner = cfg.tokens_per_frame, cfg.ovcr_queries, cfg.inner_dim
    f = _linear(t, cfg.patch_dim, inner) + 2 * _linear(q, inner, inner) + 2 * _linear(t, inner, inner)
    f += 2 * 2.0 * q * t * inner
    per_layer = (
        _linear(q, inner, inner) + 2 * 2.0 * q * t * inner + 2 * 2.0 * t * q * inner
        + _linear(t, inner, cfg.ovcr_hidden) + _linear(t, cfg.ovcr_hidden, 2 * inner)
    )
    return f + cfg.n_layers * per_layer


def _kv_bytes(cfg: WAMConfig, frames: float, dtype_bytes: int) -> float:
    """K and V of ``frames`` frames at every layer."""
    return 2.0 * cfg.n_layers * frames * cfg.tokens_per_frame * cfg.inner_dim * dtype_bytes


def call_breakdown(
    cfg: WAMConfig, call: str, steps: int | None = None, memory_frames: int | None = None, dtype_bytes: int = 2
) -> dict[str, float]:
    """Per-part FLOPs and bytes of one call (keys ``<part>_flops`` / ``<part>_bytes``)."""
    if call not in CALLS:
        raise ValueError(f"unknown WAM call {call!r}; known: {CALLS}")
    steps = cfg.sample_steps if steps is None else steps
    if memory_frames is None:  # steady state: a full memory
        memory_frames = cfg.memory_frames if cfg.use_memory else 0
    counts = _counts(cfg)
    t = cfg.tokens_per_frame
    out = {"encode_flops": encode_flops(cfg), "encode_bytes": counts["tokenizer_encoder"] * dtype_bytes}
    if call == "encode":
        return out
    if call in ("prefill", "fast_call"):
        mem = memory_frames if call == "prefill" else 0
        out["prefill_flops"] = video_flops(cfg, t, (mem + 1) * t)
        out["prefill_bytes"] = counts["video_dit"] * dtype_bytes + _kv_bytes(cfg, mem + 1, dtype_bytes)
    if call in ("chunk", "fast_call"):
        n = cfg.chunk_len
        if cfg.use_ovcr and call == "chunk":
            out["ovcr_flops"] = ovcr_flops(cfg)
            out["ovcr_bytes"] = counts["ovcr"] * dtype_bytes + 2 * _kv_bytes(cfg, 1, dtype_bytes)  # read + write
        out["context_flops"] = context_flops(cfg)
        out["action_flops"] = steps * action_step_flops(cfg, n, t)
        out["action_bytes"] = steps * (counts["action_dit"] * dtype_bytes + _kv_bytes(cfg, 1, dtype_bytes))
    return out


def call_cost(
    cfg: WAMConfig, call: str, steps: int | None = None, memory_frames: int | None = None, dtype_bytes: int = 2
) -> CallCost:
    """Total FLOPs and bytes of one call (see module docstring for what each call contains)."""
    parts = call_breakdown(cfg, call, steps, memory_frames, dtype_bytes)
    flops = sum(v for k, v in parts.items() if k.endswith("_flops"))
    nbytes = sum(v for k, v in parts.items() if k.endswith("_bytes"))
    return CallCost(flops=flops, bytes=nbytes)
