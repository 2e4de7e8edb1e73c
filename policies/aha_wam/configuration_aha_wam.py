"""Configuration of the ``aha-wam`` policy adapter (the model's own sizes live in the checkpoint's config).

AHA-WAM runs as a slow planner and a fast executor (the model: policies/wam/wam.py; the schedule:
docs/clock.md): ``prefill`` refreshes the video-DiT context (with its rolling K/V memory) every
``refresh_every`` executor chunks; each ``chunk`` call adapts that context to the newest observation with
OVCR and samples 16 actions in ``sample_steps`` Euler steps, at the phase offset the clock reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from ahabench.policies.wam.configuration_wam import WAMPolicyConfig


@dataclass(frozen=True)
class AhaWamConfig(WAMPolicyConfig):
    """ovcr: route the cached planner context to the newest observation (False: the executor reads the
    context as the planner left it, the ablation "AHA-WAM with OVCR off at inference")."""

    name: str = "aha-wam"
    ovcr: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.ovcr, bool):
            raise ValueError(f"ovcr must be true or false, got {self.ovcr!r}")
