"""``aha-wam``: AHA-WAM's planner/executor split (found through the ahabench.policies entry point)."""

from ahabench.policies.aha_wam.configuration_aha_wam import AhaWamConfig
from ahabench.policies.aha_wam.modeling_aha_wam import AhaWamPolicy
from ahabench.policy_registry import register_policy


@register_policy("aha-wam", "AHA-WAM: video-DiT planner with K/V memory + OVCR action executor (async)", needs_checkpoint=True)
def make_aha_wam(**kwargs) -> AhaWamPolicy:
    return AhaWamPolicy(AhaWamConfig(**kwargs))


__all__ = ["AhaWamConfig", "AhaWamPolicy", "make_aha_wam"]
