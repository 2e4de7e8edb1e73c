"""The joint world-action model: tokenizer + text encoder + video DiT planner + action DiT executor + OVCR.

Training: :meth:`WAM.training_loss` on a batch of the data contract (docs/data.md).
Run time (no simulator access, designed for the clock): :meth:`WAM.encode_obs`, :meth:`WAM.encode_text`,
:meth:`WAM.prefill` (planner refresh, pushes into a :class:`PlannerMemory`), :meth:`WAM.sample_chunk`
(executor: OVCR + Euler action denoising) and :meth:`WAM.fast_call` (Fast-WAM: prefill + chunk).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.profiler import record_function

from ahabench.policies.wam.action_dit import ActionContext, ActionDiT
from ahabench.policies.wam.config import WAMConfig
from ahabench.policies.wam.flow import add_noise, euler_sample, sample_time
from ahabench.policies.wam.layers import KV, init_weights
from ahabench.policies.wam.memory import PlannerContext, PlannerMemory
from ahabench.policies.wam.ovcr import OVCR
from ahabench.policies.wam.text import TextEncoder
from ahabench.policies.wam.tokenizer import VisualTokenizer
from ahabench.policies.wam.video_dit import VideoDiT, frame_mask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextContext:
    """Encoded instruction(s): tokens (B, L, text_dim), mask (B, L) bool."""

    tokens: torch.Tensor
    mask: torch.Tensor

    def repeat(self, n: int) -> TextContext:
        """Each row repeated n times (row-major), for per-chunk folding."""
        return TextContext(self.tokens.repeat_interleave(n, 0), self.mask.repeat_interleave(n, 0))


@dataclass
class ChunkBatch:
    """Training chunks folded into rows (B' = B * n_chunks): executor inputs and clean targets."""

    kv: list[KV]  # per layer (B', H, T, Dh), OVCR-edited
    context: ActionContext  # cross-attention K/V of [text ; proprio token], per-token proprio embedding
    steps: torch.Tensor  # (B', n) absolute action positions (delta + 16 j + i)
    frame_index: torch.Tensor  # (B',)
    actions: torch.Tensor  # (B', n, A) clean normalised actions
    mask: torch.Tensor  # (B', n) float, 0 past the episode end
    proprio: torch.Tensor  # (B', proprio_dim) z-scored qpos at each chunk start


def _randn(shape: tuple[int, ...], generator: torch.Generator | None, like: torch.Tensor) -> torch.Tensor:
    """Normal noise shaped ``shape`` on ``like``'s device; a generator is used on its own device (callers
    keep CPU generators so that sampled noise does not depend on where the model runs)."""
    if generator is None:
        return torch.randn(shape, device=like.device, dtype=like.dtype)
    return torch.randn(shape, generator=generator, device=generator.device).to(like.device, like.dtype)


def _gen_device(generator: torch.Generator | None) -> torch.device | None:
    return None if generator is None else generator.device


class WAM(nn.Module):
    """AHA-WAM / Naive-Async / Fast-WAM, selected by ``cfg.variant`` and its switches."""

    def __init__(self, cfg: WAMConfig):
        super().__init__()
        self.cfg = cfg
        self.tokenizer = VisualTokenizer(cfg)
        self.text_encoder = TextEncoder(cfg)
        self.video = VideoDiT(cfg)
        self.action = ActionDiT(cfg)
        self.ovcr = OVCR(cfg) if cfg.use_ovcr else None
        self.apply(init_weights)

    # -- tokens -------------------------------------------------------------------------------------
    def patchify(self, latents: torch.Tensor) -> torch.Tensor:
        """(..., C, h, w) -> (..., T, P) with 2x2 patches, row-major over the token grid."""
        p, lead = self.cfg.patch, latents.shape[:-3]
        c, h, w = latents.shape[-3:]
        x = latents.reshape(-1, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)  # (N, gh, gw, C, p, p)
        return x.reshape(*lead, (h // p) * (w // p), c * p * p)

    def unpatchify(self, tokens: torch.Tensor) -> torch.Tensor:
        """(..., T, P) -> (..., C, h, w)."""
        p, (gh, gw), c = self.cfg.patch, self.cfg.grid_hw, self.cfg.latent_channels
        lead = tokens.shape[:-2]
        x = tokens.reshape(-1, gh, gw, c, p, p).permute(0, 3, 1, 4, 2, 5)  # (N, C, gh, p, gw, p)
        return x.reshape(*lead, c, gh * p, gw * p)

    @property
    def device(self) -> torch.device:
        return self.video.head.weight.device

    @property
    def dtype(self) -> torch.dtype:
        """Compute dtype of the DiTs (inputs are cast to it, so a bf16/fp16 copy runs as is)."""
        return self.video.head.weight.dtype

    @torch.no_grad()
    def encode_obs(self, mosaic: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 mosaic(s) (..., H, W, 3) -> normalised latents (..., C, h, w)."""
        x = torch.as_tensor(np.asarray(mosaic) if isinstance(mosaic, np.ndarray) else mosaic, device=self.device)
        return self.tokenizer.encode(x)

    def encode_text(self, instructions: list[str]) -> TextContext:
        tokens, mask = self.text_encoder(instructions)
        return TextContext(tokens, mask)

    def _latents(self, batch: dict[str, Any], key: str) -> torch.Tensor:
        """Precomputed ``{key}_latents`` if the batch has them, else the tokenizer's latents of ``key``."""
        if f"{key}_latents" in batch:
            return batch[f"{key}_latents"].to(self.device, torch.float32)
        if key not in batch:
            raise KeyError(f"batch has neither {key!r} nor {key + '_latents'!r}; keys: {sorted(batch)}")
        return self.tokenizer.encode(batch[key].to(self.device))

    # -- training -----------------------------------------------------------------------------------
    def _history_prefix(self, batch: dict[str, Any], text: TextContext, frame_index: torch.Tensor):
        """History frames -> per-layer memory K/V (no gradient) and their validity (B, P), or (None, None).

        Each history frame sees the valid frames before it, as it did when it was a refresh. Valid frames are
        the most recent ones (history before the episode start is masked), so samples are grouped by how many
        they have and only those are encoded: on the robotwin suite 2.6 of 6 on average, so this skips more
        than half of the pass. Masked slots stay zero; every consumer masks them out as keys."""
        if not self.cfg.use_memory or ("history" not in batch and "history_latents" not in batch):
            return None, None
        tok = self.patchify(self._latents(batch, "history"))  # (B, P, T, Pd)
        b, p, t, _ = tok.shape
        valid = batch["history_mask"].to(self.device).bool()  # (B, P), oldest first
        gap = self.cfg.history_stride_steps // self.cfg.frame_stride_steps
        hidx = frame_index[:, None] - gap * torch.arange(p, 0, -1, device=self.device)  # (B, P), oldest first
        counts = valid.sum(1)  # (B,)
        suffix = torch.arange(p, device=self.device)[None] >= (p - counts)[:, None]
        if not bool((suffix == valid).all()):
            raise ValueError("history_mask must mark a suffix of the history frames (the most recent ones)")
        h, dh = self.cfg.n_heads, self.cfg.head_dim
        out = [(tok.new_zeros(b, h, p * t, dh), tok.new_zeros(b, h, p * t, dh)) for _ in range(self.cfg.n_layers)]
        with torch.no_grad():
            for k in sorted({int(c) for c in counts.tolist()} - {0}):
                rows = (counts == k).nonzero().flatten()  # samples with k valid frames
                mask = frame_mask(k, t, "block_causal").to(self.device)
                _, kv = self.video(tok[rows, p - k:], torch.zeros(len(rows), k, device=self.device), hidx[rows, p - k:],
                                   text.tokens[rows], text.mask[rows], None, mask, return_velocity=False)
                for (ko, vo), (kk, vv) in zip(out, kv):
                    ko[rows, :, (p - k) * t:] = kk.to(ko.dtype)
                    vo[rows, :, (p - k) * t:] = vv.to(vo.dtype)
        return out, valid

    def executor_inputs(
        self,
        kv: list[KV] | tuple[KV, ...],
        obs_tokens: torch.Tensor | None,
        text: TextContext,
        proprio: torch.Tensor,
        action: ActionDiT | None = None,
    ) -> tuple[list[KV], ActionContext]:
        """Per-chunk conditioning, computed once per chunk: OVCR-edited K/V and the action context.

        kv per layer (B', H, T, Dh); obs_tokens (B', T, P) or None (no OVCR); text with B rows, B' = B * r
        (r chunks per sample, rows sample-major); proprio (B', 16).
        ``action``: whose context projections to use (a Flash student's); default this model's.
        """
        kv = list(kv)
        if self.ovcr is not None and obs_tokens is not None:
            kv = self.ovcr(obs_tokens, kv)
        return kv, (action or self.action).context(text.tokens, text.mask, proprio)

    def frame0_kv(self, batch: dict[str, Any], text: TextContext, frame_index: torch.Tensor) -> list[KV]:
        """Per-layer K/V of the clean current frame (video frame 0) with its history prefix: what a
        prefill with that memory gives. Runs under the caller's grad mode."""
        prefix, valid = self._history_prefix(batch, text, frame_index)
        tok = self.patchify(self._latents(batch, "video")[:, :1])  # (B, 1, T, P)
        b, _, t, _ = tok.shape
        mask = frame_mask(1, t, self.cfg.video_mask, valid).to(self.device)
        _, kv = self.video(tok, torch.zeros(b, 1, device=self.device), frame_index[:, None], text.tokens,
                           text.mask, prefix, mask, return_velocity=False)
        return kv

    def fold_chunks(
        self, batch: dict[str, Any], kv0: list[KV], text: TextContext, frame_index: torch.Tensor,
        action: ActionDiT | None = None,
    ) -> ChunkBatch:
        """Fold the horizon's chunks into the batch dimension and build each chunk's executor inputs.

        kv0: per-layer current-frame K/V (B, H, T, Dh). ``action`` selects whose context projections to
        use (a Flash student's); default this model's.
        """
        cfg, dev = self.cfg, self.device
        b = kv0[0][0].shape[0]
        nc, n = cfg.n_chunks, cfg.chunk_len
        ratio = n // 16  # the batch carries per-16-step chunk starts
        actions = batch["actions"][:, : cfg.horizon].to(dev).float()  # (B, H, A)
        mask = batch["action_mask"][:, : cfg.horizon].to(dev).float().reshape(b * nc, n)
        proprio = batch["proprio"].to(dev).float()[:, ::ratio][:, :nc].reshape(b * nc, -1)  # (B*nc, 16)
        delta = batch.get("delta")
        delta = torch.zeros(b, dtype=torch.long, device=dev) if delta is None else delta.to(dev).long()
        steps = (delta[:, None] + torch.arange(cfg.horizon, device=dev)).reshape(b * nc, n)  # (B*nc, n)
        kv_rep = [(k.repeat_interleave(nc, 0), v.repeat_interleave(nc, 0)) for k, v in kv0]
        obs_tokens = None
        if self.ovcr is not None:
            obs = self._latents(batch, "chunk_obs")[:, ::ratio][:, :nc]  # (B, nc, C, h, w)
            obs_tokens = self.patchify(obs).flatten(0, 1)  # (B*nc, T, P)
        kv_e, context = self.executor_inputs(kv_rep, obs_tokens, text, proprio, action)
        return ChunkBatch(kv_e, context, steps, frame_index.repeat_interleave(nc),
                          actions.reshape(b * nc, n, -1), mask, proprio)

    def training_loss(
        self, batch: dict[str, Any], generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """loss = L_action + video_loss_weight * L_video on one batch; returns (loss, float stats)."""
        cfg, dev = self.cfg, self.device
        # record_function labels name the parts of a step for profilers (ahabench bench --train)
        with record_function("wam.text"):
            text = self.encode_text(list(batch["instruction"]))
        frame_index = batch["frame_index"].to(dev).long()  # (B,)
        with record_function("wam.history"):
            prefix, prefix_valid = self._history_prefix(batch, text, frame_index)

        # video branch: frame 0 clean, frames 1.. noised at one time per sample
        with record_function("wam.video"):
            tok = self.patchify(self._latents(batch, "video"))  # (B, F, T, P)
            b, f, t, _ = tok.shape
            x_v = tok[:, 1:]
            eps_v = _randn(tuple(x_v.shape), generator, x_v)
            s_v = sample_time((b,), cfg.time_shift, generator, _gen_device(generator)).to(dev)
            noisy = torch.cat([tok[:, :1], add_noise(x_v, eps_v, s_v)], 1)
            s_frames = torch.cat([torch.zeros(b, 1, device=dev), s_v[:, None].expand(b, f - 1)], 1)  # (B, F)
            fidx = frame_index[:, None] + cfg.frame_gap * torch.arange(f, device=dev)  # (B, F)
            mask = frame_mask(f, t, cfg.video_mask, prefix_valid).to(dev)
            vel, kv = self.video(noisy, s_frames, fidx, text.tokens, text.mask, prefix, mask)
            l_video = (vel[:, 1:] - (eps_v - x_v)).pow(2).mean()

        # action branch: chunks folded into the batch; each sees the current frame's K/V only
        with record_function("wam.action"):
            kv0 = [(k[:, :, :t], v[:, :, :t]) for k, v in kv]
            cb = self.fold_chunks(batch, kv0, text, frame_index)
            # one time per chunk
            s_a = sample_time((cb.actions.shape[0],), cfg.time_shift, generator, _gen_device(generator)).to(dev)
            eps_a = _randn(tuple(cb.actions.shape), generator, cb.actions)
            v_a = self.action(add_noise(cb.actions, eps_a, s_a), s_a, cb.steps, cb.frame_index, cb.kv, cb.context)
            err = (v_a - (eps_a - cb.actions)).pow(2).mean(-1)  # (B*nc, n)
            l_action = (err * cb.mask).sum() / cb.mask.sum().clamp_min(1.0)

        loss = l_action + cfg.video_loss_weight * l_video
        stats = {"loss": loss.item(), "loss_action": l_action.item(), "loss_video": l_video.item()}
        if self.ovcr is not None:
            gates = self.ovcr.gates().tolist()
            stats["ovcr_gate_mean"] = sum(gates) / len(gates)
            stats.update({f"ovcr_gate_{i}": g for i, g in enumerate(gates)})
        return loss, stats

    # -- run time -----------------------------------------------------------------------------------
    @torch.no_grad()
    def prefill(
        self,
        latents: torch.Tensor,
        text: TextContext,
        memory: PlannerMemory | None = None,
        frame_index: torch.Tensor | int = 0,
        obs_tick: int | None = None,
        push: bool = True,
    ) -> PlannerContext:
        """Planner refresh: one clean video-DiT pass over the current frame (B, C, h, w).

        Attends to [memory K/V ; own K/V] when the variant uses memory, then pushes the new context into
        ``memory`` (if given and ``push``). frame_index: episode-global obs_tick // frame_stride_steps.
        """
        tok = self.patchify(latents.to(self.device, self.dtype))[:, None]  # (B, 1, T, P)
        b = tok.shape[0]
        fidx = torch.as_tensor(frame_index, device=self.device).long().reshape(-1).expand(b)  # (B,)
        use_mem = memory is not None and self.cfg.use_memory
        prefix = memory.prefix() if use_mem else None
        _, kv = self.video(tok, torch.zeros(b, 1, device=self.device), fidx[:, None], text.tokens, text.mask,
                           prefix, None, return_velocity=False)
        context = PlannerContext(tuple((k.detach(), v.detach()) for k, v in kv), fidx.clone(), obs_tick)
        if use_mem and push:
            memory.push(context)
        return context

    @torch.no_grad()
    def sample_chunk(
        self,
        context: PlannerContext,
        obs_latents: torch.Tensor | None,
        proprio: torch.Tensor,
        text: TextContext,
        phase_offset: int | torch.Tensor = 0,
        steps: int | None = None,
        noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Executor: one chunk of normalised actions (B, chunk_len, action_dim).

        obs_latents (B, C, h, w): newest observation, for OVCR (ignored when the variant has none).
        proprio (B, 16) z-scored qpos at the chunk start. phase_offset: ticks from the context's
        observation to this chunk's first action (action positions phase_offset + i, as in offset training).
        """
        x_shape = (proprio.shape[0], self.cfg.chunk_len, self.cfg.action_dim)
        like = self.video.head.weight
        noise = _randn(x_shape, generator, like) if noise is None else noise.to(self.device, self.dtype)
        kv_e, actx, pos = self.chunk_inputs(context, obs_latents, proprio, text, phase_offset)
        fn = lambda x, s: self.action(x, s, pos, context.frame_index, kv_e, actx)  # noqa: E731
        x, _ = euler_sample(fn, noise, self.cfg.sample_steps if steps is None else steps, self.cfg.time_shift)
        return x

    def chunk_inputs(
        self,
        context: PlannerContext,
        obs_latents: torch.Tensor | None,
        proprio: torch.Tensor,
        text: TextContext,
        phase_offset: int | torch.Tensor,
    ) -> tuple[list[KV], ActionContext, torch.Tensor]:
        """Run-time executor inputs of one chunk: (edited kv, action context, action positions (B, n))."""
        b = proprio.shape[0]
        obs_tokens = None
        if self.ovcr is not None and obs_latents is not None:
            obs_tokens = self.patchify(obs_latents.to(self.device, self.dtype))  # (B, T, P)
        kv_e, actx = self.executor_inputs(context.kv, obs_tokens, text, proprio.to(self.device, self.dtype))
        phase = torch.as_tensor(phase_offset, device=self.device).long().reshape(-1, 1).expand(b, 1)
        pos = phase + torch.arange(self.cfg.chunk_len, device=self.device)  # (B, n)
        return kv_e, actx, pos

    @torch.no_grad()
    def fast_call(
        self,
        latents: torch.Tensor,
        proprio: torch.Tensor,
        text: TextContext,
        frame_index: torch.Tensor | int = 0,
        steps: int | None = None,
        noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Fast-WAM call: prefill of the current frame (no memory) + action denoising -> (B, chunk_len, A)."""
        context = self.prefill(latents, text, None, frame_index)
        return self.sample_chunk(context, None, proprio, text, 0, steps, noise, generator)


# -- sizes and checkpoints --------------------------------------------------------------------------
def _numel(module: nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def parameter_counts(cfg: WAMConfig) -> dict[str, int]:
    """Parameters per component, counted on the meta device (no weights allocated).

    ``total`` = video_dit + action_dit + ovcr (the paper's 7.23B excludes text encoder and VAE).
    """
    with torch.device("meta"):
        model = WAM(cfg)
    counts = {
        "video_dit": _numel(model.video),
        "action_dit": _numel(model.action),
        "ovcr": _numel(model.ovcr),
        "tokenizer": _numel(model.tokenizer),
        "tokenizer_encoder": _numel(model.tokenizer.encoder),
        "text_encoder": _numel(model.text_encoder),
    }
    counts["total"] = counts["video_dit"] + counts["action_dit"] + counts["ovcr"]
    return counts
