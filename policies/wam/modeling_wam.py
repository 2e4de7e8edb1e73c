"""The base every WAM-family policy adapter shares (aha-wam, aha-wam-flash, naive-async, fast-wam).

An adapter sees only what a robot sees: ``obs.images`` (composed into the mosaic with
``ahabench.envs.mosaic.make_mosaic``), ``obs.qpos`` and ``obs.instruction``. It loads a checkpoint written
by ``ahabench.train`` (fp16 weights, the model config, normalisation stats), z-scores proprioception, and
un-normalises the sampled actions back to absolute joint targets of the task's own dimension (adding the
observed joint position back for a checkpoint trained on chunk-relative "delta" targets).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ahabench.policies.wam.configuration_wam import WAMPolicyConfig
from ahabench.policies.wam.normalize import FULL_DIM, NormStats, from_delta, pad_to_full, unpad_from_full
from ahabench.policy import CallCost, Policy, PolicySpec
from ahabench.types import EpisodeInfo, Observation

log = logging.getLogger(__name__)


def train_command(policy: str) -> str:
    return f"ahabench train --policy {policy} --tasks robotwin --size tiny --steps 3000 --out runs/{policy}"


class WAMPolicyBase(Policy):
    """Loads a WAM checkpoint; per-episode text/memory/noise state; observation encoding and action I/O."""

    #: the folder holding the shipped ``checkpoint/`` (set by each subclass)
    policy_dir: Path = Path(__file__).parent

    def __init__(self, config: WAMPolicyConfig):
        from ahabench.policies.wam.checkpoint import load_weights, read_config, read_stats
        from ahabench.policies.wam.config import WAMConfig, make_config
        from ahabench.policies.wam.memory import PlannerMemory
        from ahabench.policies.wam.wam import WAM

        self.config = config
        if config.threads:
            torch.set_num_threads(int(config.threads))
        folder = Path(config.checkpoint) if config.checkpoint else self.policy_dir / "checkpoint"
        if not (folder / "config.json").exists():
            raise FileNotFoundError(
                f"policy {config.name!r}: no checkpoint at {folder}; train one with `{train_command(config.name)}` "
                f"and pass checkpoint=runs/{config.name}/checkpoint (or copy it to {self.policy_dir / 'checkpoint'})")
        meta = read_config(folder)
        self.checkpoint_meta = meta
        self.wam_cfg = WAMConfig.from_dict(meta["model"])
        self.model = WAM(self.wam_cfg)
        load_weights(folder, {"wam": self.model})
        self.model.to(config.device).eval()
        self.stats = read_stats(folder) or NormStats.identity()
        self.sample_steps = int(config.sample_steps or meta.get("sample_steps") or self.wam_cfg.sample_steps)
        size = config.cost_size or self.wam_cfg.size
        self.cost_cfg = self.wam_cfg if size == self.wam_cfg.size else make_config(size, self.wam_cfg.variant)
        self.memory = PlannerMemory(self.wam_cfg.memory_frames)
        self._action_dim = FULL_DIM
        self._text = None
        self._text_str: str | None = None
        self._gen = torch.Generator().manual_seed(config.seed)
        self._lat_cache: tuple[int, torch.Tensor] | None = None
        self.spec = PolicySpec(
            name=config.name, chunk_len=config.chunk_len, execute_len=config.execute_len,
            has_planner=self.has_planner, refresh_every=config.refresh_every, default_mode=config.default_mode,
            async_trigger=config.async_trigger, max_context_age_ms=config.max_context_age_ms)
        if config.chunk_len > self.wam_cfg.chunk_len:
            raise ValueError(f"{config.name}: chunk_len {config.chunk_len} exceeds the model's chunk of {self.wam_cfg.chunk_len}")

    has_planner: bool = True

    # -- episode state ------------------------------------------------------------------------------
    def reset(self, episode: EpisodeInfo) -> None:
        if episode.action_dim not in (FULL_DIM, FULL_DIM // 2):
            raise ValueError(f"{self.config.name}: unsupported action_dim {episode.action_dim} (expected 8 or 16)")
        self._action_dim = episode.action_dim
        self.memory.clear()
        self._text, self._text_str = None, None
        self._lat_cache = None
        # Noise depends only on the episode seed and the call order: reproducible under simulated latencies.
        self._gen = torch.Generator().manual_seed(self.config.seed * 1_000_003 + int(episode.seed))

    def _text_ctx(self, instruction: str):
        if self._text is None or instruction != self._text_str:
            with torch.no_grad():
                self._text = self.model.encode_text([instruction])
            self._text_str = instruction
        return self._text

    def _latents(self, obs: Observation) -> torch.Tensor:
        """Tokenizer latents (1, C, h, w) of the observation's mosaic (cached for the last tick)."""
        from ahabench.envs.mosaic import make_mosaic

        if self._lat_cache is not None and self._lat_cache[0] == obs.tick:
            return self._lat_cache[1]
        mosaic = make_mosaic(obs.images)
        lat = self.model.encode_obs(mosaic[None])
        self._lat_cache = (obs.tick, lat)
        return lat

    def _qpos16(self, obs: Observation) -> np.ndarray:
        return pad_to_full(np.asarray(obs.qpos, np.float32).reshape(-1), self._action_dim)

    def _proprio(self, obs: Observation) -> torch.Tensor:
        return torch.from_numpy(self.stats.norm_qpos(self._qpos16(obs)))[None].to(self.config.device)

    def _to_actions(self, x: torch.Tensor, obs: Observation) -> np.ndarray:
        """Sampled chunk (1, n, 16) normalised -> the first ``chunk_len`` absolute targets, task-dimensional."""
        x_np = x[0].float().cpu().numpy()
        if self.wam_cfg.action_space == "delta":
            a = from_delta(self.stats.denorm_delta(x_np), self._qpos16(obs))
        else:
            a = self.stats.denorm_actions(x_np)
        a = self.stats.clip_actions(a[: self.spec.chunk_len])
        return np.ascontiguousarray(unpad_from_full(a, self._action_dim), dtype=np.float32)

    # -- calls --------------------------------------------------------------------------------------
    def prefill(self, obs: Observation) -> Any:
        """Planner refresh: encode + one clean video-DiT pass over the current frame (pushes memory)."""
        text = self._text_ctx(obs.instruction)
        memory = self.memory if self.wam_cfg.use_memory else None
        return self.model.prefill(self._latents(obs), text, memory, frame_index=obs.tick // self.wam_cfg.frame_stride_steps,
                                  obs_tick=obs.tick)

    def act(self, obs: Observation, context: Any = None, phase_offset: int = 0) -> np.ndarray:
        """Executor: OVCR on the newest observation + ``sample_steps`` Euler steps at ``phase_offset``."""
        if context is None:  # no published context yet (e.g. a frozen-mode caller): refresh now
            context, phase_offset = self.prefill(obs), 0
        text = self._text_ctx(obs.instruction)
        obs_latents = self._latents(obs) if getattr(self.config, "ovcr", True) else None
        x = self.model.sample_chunk(context, obs_latents, self._proprio(obs), text, phase_offset=int(phase_offset),
                                    steps=self.sample_steps, generator=self._gen)
        return self._to_actions(x, obs)

    def cost(self, call: str) -> CallCost:
        from ahabench.policies.wam.cost import call_cost

        if call not in self.spec.calls:
            raise ValueError(f"{self.config.name} has no call {call!r}; its calls: {self.spec.calls}")
        return call_cost(self.cost_cfg, call, steps=self.sample_steps)
