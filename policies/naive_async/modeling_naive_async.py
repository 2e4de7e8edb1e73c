"""The ``naive-async`` policy adapter: planner refreshes and executor chunks with no memory and no OVCR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ahabench.policies.naive_async.configuration_naive_async import NaiveAsyncConfig
from ahabench.policies.wam.modeling_wam import WAMPolicyBase


class NaiveAsyncPolicy(WAMPolicyBase):
    policy_dir = Path(__file__).parent

    def __init__(self, config: NaiveAsyncConfig | None = None, **overrides: Any):
        super().__init__(config or NaiveAsyncConfig(**overrides))
        # The checkpoint decides the structure; refuse one that would silently add memory or OVCR back.
        if self.wam_cfg.use_memory or self.wam_cfg.use_ovcr:
            raise ValueError(f"naive-async needs a checkpoint without memory/OVCR; got variant {self.wam_cfg.variant!r}")
