"""The ``aha-wam`` policy adapter: planner with rolling K/V memory, OVCR executor, offset-trained (the shared
checkpoint loading, observation encoding and action I/O: :mod:`ahabench.policies.wam.modeling_wam`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ahabench.policies.aha_wam.configuration_aha_wam import AhaWamConfig
from ahabench.policies.wam.modeling_wam import WAMPolicyBase


class AhaWamPolicy(WAMPolicyBase):
    """AHA-WAM: planner with rolling K/V memory, OVCR executor, offset-trained."""

    policy_dir = Path(__file__).parent

    def __init__(self, config: AhaWamConfig | None = None, **overrides: Any):
        super().__init__(config or AhaWamConfig(**overrides))
