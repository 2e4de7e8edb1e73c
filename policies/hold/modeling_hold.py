"""The ``hold`` policy: every chunk repeats the robot's current joint targets, read from proprioception."""

from __future__ import annotations

from typing import Any

import numpy as np

from ahabench.policies.hold.configuration_hold import HoldConfig
from ahabench.policy import CallCost, Policy, PolicySpec
from ahabench.types import EpisodeInfo, Observation


class HoldPolicy(Policy):
    def __init__(self, config: HoldConfig | None = None, **overrides: Any):
        self.config = config or HoldConfig(**overrides)
        self.spec = PolicySpec(name="hold", chunk_len=self.config.chunk_len, execute_len=self.config.execute_len,
                               default_mode=self.config.default_mode)
        self._action_dim: int | None = None

    def reset(self, episode: EpisodeInfo) -> None:
        self._action_dim = episode.action_dim

    def act(self, obs: Observation, context: Any = None, phase_offset: int = 0) -> np.ndarray:
        q = np.asarray(obs.qpos, dtype=np.float32).reshape(-1)
        if self._action_dim is not None and q.shape[0] != self._action_dim:
            raise ValueError(f"hold: proprioception has {q.shape[0]} values but the task's action has "
                             f"{self._action_dim}; qpos must be the joint targets layout")
        return np.repeat(q[None, :], self.spec.chunk_len, axis=0)

    def cost(self, call: str) -> CallCost:
        # No model: the call costs nothing beyond copying one chunk.
        return CallCost(flops=0.0, bytes=float(4 * self.spec.chunk_len * (self._action_dim or 16)))
