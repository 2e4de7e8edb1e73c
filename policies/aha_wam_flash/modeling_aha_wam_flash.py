"""The ``aha-wam-flash`` policy adapter: AHA-WAM's planner and OVCR with a distilled few-step executor."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ahabench.policies.aha_wam_flash.configuration_aha_wam_flash import AhaWamFlashConfig
from ahabench.policies.wam.modeling_wam import WAMPolicyBase

log = logging.getLogger(__name__)


class AhaWamFlashPolicy(WAMPolicyBase):
    policy_dir = Path(__file__).parent

    def __init__(self, config: AhaWamFlashConfig | None = None, **overrides: Any):
        super().__init__(config or AhaWamFlashConfig(**overrides))
        stage = self.checkpoint_meta.get("stage")
        if stage != "flash":
            # A teacher sampled in 2 steps is a different (worse) policy than the distilled student.
            log.warning("%s: checkpoint stage is %r, not a distilled 'flash' student", self.config.name, stage)
