"""``aha-wam-flash``: AHA-WAM with the 2-step distilled action sampler (registered with ahabench.policy)."""

from ahabench.policies.aha_wam_flash.configuration_aha_wam_flash import AhaWamFlashConfig
from ahabench.policies.aha_wam_flash.modeling_aha_wam_flash import AhaWamFlashPolicy
from ahabench.policy_registry import register_policy


@register_policy("aha-wam-flash", "AHA-WAM-Flash: AHA-WAM with an ODE-distilled 2-step action sampler (async)",
                 needs_checkpoint=True)
def make_aha_wam_flash(**kwargs) -> AhaWamFlashPolicy:
    return AhaWamFlashPolicy(AhaWamFlashConfig(**kwargs))


__all__ = ["AhaWamFlashConfig", "AhaWamFlashPolicy", "make_aha_wam_flash"]
