"""Configuration of the ``naive-async`` adapter: AHA-WAM's async split without memory and without OVCR.

The paper's ablation (README, Policies): same planner/executor schedule as aha-wam, but the planner
keeps no K/V memory and the executor uses the cached context unedited (its checkpoint is trained with
the ``naive_async`` variant, which builds neither).
"""

from __future__ import annotations

from dataclasses import dataclass

from ahabench.policies.wam.configuration_wam import WAMPolicyConfig


@dataclass(frozen=True)
class NaiveAsyncConfig(WAMPolicyConfig):
    name: str = "naive-async"
