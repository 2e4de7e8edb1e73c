"""The ``fast-wam`` policy adapter: one synchronous call = prefill of the current frame + action denoising."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ahabench.policies.fast_wam.configuration_fast_wam import FastWamConfig
from ahabench.policies.wam.modeling_wam import WAMPolicyBase
from ahabench.policy import CallCost
from ahabench.types import Observation


class FastWamPolicy(WAMPolicyBase):
    policy_dir = Path(__file__).parent
    has_planner = False

    def __init__(self, config: FastWamConfig | None = None, **overrides: Any):
        super().__init__(config or FastWamConfig(**overrides))
        if self.wam_cfg.use_memory or self.wam_cfg.use_ovcr:
            raise ValueError(f"fast-wam needs a Fast-WAM checkpoint (no memory/OVCR); got variant {self.wam_cfg.variant!r}")

    def prefill(self, obs: Observation) -> Any:
        raise NotImplementedError("fast-wam is synchronous: its single call prefills and denoises (use act)")

    def act(self, obs: Observation, context: Any = None, phase_offset: int = 0) -> np.ndarray:
        text = self._text_ctx(obs.instruction)
        x = self.model.fast_call(self._latents(obs), self._proprio(obs), text,
                                 frame_index=obs.tick // self.wam_cfg.frame_stride_steps,
                                 steps=self.sample_steps, generator=self._gen)
        return self._to_actions(x, obs)

    def cost(self, call: str) -> CallCost:
        from ahabench.policies.wam.cost import call_cost

        if call != "call":
            raise ValueError(f"fast-wam has only the call 'call', not {call!r}")
        return call_cost(self.cost_cfg, "fast_call", steps=self.sample_steps)
