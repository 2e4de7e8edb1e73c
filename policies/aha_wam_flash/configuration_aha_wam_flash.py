"""Configuration of the ``aha-wam-flash`` adapter: AHA-WAM with the distilled 2-step action sampler."""

from __future__ import annotations

from dataclasses import dataclass

from ahabench.policies.wam.configuration_wam import WAMPolicyConfig


@dataclass(frozen=True)
class AhaWamFlashConfig(WAMPolicyConfig):
    name: str = "aha-wam-flash"
    # The student is distilled for 2 Euler steps (1 and 4 also work: pass sample_steps=1 or 4).
    sample_steps: int | None = 2
