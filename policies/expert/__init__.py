"""``expert``: the task's scripted expert as a privileged oracle (registered with ahabench.policy)."""

from ahabench.policies.expert.configuration_expert import ExpertConfig
from ahabench.policies.expert.modeling_expert import ExpertPolicy
from ahabench.policy_registry import register_policy


@register_policy("expert", "privileged oracle: the task's scripted expert served through the clock as chunks")
def make_expert(**kwargs) -> ExpertPolicy:
    return ExpertPolicy(ExpertConfig(**kwargs))


__all__ = ["ExpertConfig", "ExpertPolicy", "make_expert"]
