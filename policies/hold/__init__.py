"""``hold``: the do-nothing baseline (registered with ahabench.policy)."""

from ahabench.policies.hold.configuration_hold import HoldConfig
from ahabench.policies.hold.modeling_hold import HoldPolicy
from ahabench.policy_registry import register_policy


@register_policy("hold", "never moves: repeats the robot's current joint targets (success floor)")
def make_hold(**kwargs) -> HoldPolicy:
    return HoldPolicy(HoldConfig(**kwargs))


__all__ = ["HoldConfig", "HoldPolicy", "make_hold"]
