"""The ``expert`` policy: a privileged oracle that serves the task's scripted expert as action chunks.

Each call pulls the next ``chunk_len`` actions from the task's expert generator. The expert plans
open-loop on the true state, so any change in success under ``blocking`` or ``async`` against ``frozen``
is what latency alone (held ticks, dropped stale actions) does to a perfect controller.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ahabench.policies.expert.configuration_expert import ExpertConfig
from ahabench.policy import CallCost, Policy, PolicySpec
from ahabench.types import EpisodeInfo, Observation


class ExpertPolicy(Policy):
    def __init__(self, config: ExpertConfig | None = None, **overrides: Any):
        self.config = config or ExpertConfig(**overrides)
        self.spec = PolicySpec(name="expert", chunk_len=self.config.chunk_len,
                               execute_len=self.config.execute_len, default_mode=self.config.default_mode,
                               privileged=True)
        self._env: Any = None
        self._gen: Iterator[np.ndarray] | None = None
        self._last: np.ndarray | None = None
        self._action_dim: int | None = None

    def bind_env(self, env: Any) -> None:
        self._env = env

    def reset(self, episode: EpisodeInfo) -> None:
        # The generator is opened lazily at the first call: the env is reset by then, whatever the
        # order in which the episode runner resets env and policy.
        self._gen, self._last = None, None
        self._action_dim = episode.action_dim

    def act(self, obs: Observation, context: Any = None, phase_offset: int = 0) -> np.ndarray:
        if self._env is None:
            raise RuntimeError("expert: no env bound; the engine must call bind_env(task_env) first")
        if self._gen is None:
            self._gen = iter(self._env.expert())
        out = []
        for _ in range(self.spec.chunk_len):
            a = next(self._gen, None)
            if a is None:  # script finished: hold its final target
                if self._last is None:
                    self._last = np.asarray(self._env.hold_action(), dtype=np.float32)
                a = self._last
            self._last = np.asarray(a, dtype=np.float32).reshape(-1)
            out.append(self._last)
        chunk = np.stack(out)
        if self._action_dim is not None and chunk.shape[1] != self._action_dim:
            raise ValueError(f"expert produced {chunk.shape[1]}-D actions for a {self._action_dim}-D task")
        return chunk

    def cost(self, call: str) -> CallCost:
        return CallCost(flops=0.0, bytes=float(4 * self.spec.chunk_len * (self._action_dim or 16)))
