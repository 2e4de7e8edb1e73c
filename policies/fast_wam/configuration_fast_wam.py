"""Configuration of the ``fast-wam`` adapter: the synchronous Fast-WAM baseline (model: policies/wam/).

Every call encodes the current image and instruction, prefills the video DiT on the current frame (no
memory, first-frame-causal mask, no OVCR) and denoises a 32-action chunk in 10 Euler steps; RoboTwin's
protocol executes 24 of them and then calls again.
"""

from __future__ import annotations

from dataclasses import dataclass

from ahabench.policies.wam.configuration_wam import WAMPolicyConfig


@dataclass(frozen=True)
class FastWamConfig(WAMPolicyConfig):
    name: str = "fast-wam"
    chunk_len: int = 32
    execute_len: int = 24
    default_mode: str = "blocking"
    async_trigger: int | None = None  # async runs use chunk_len - execute_len = 8 queued actions
