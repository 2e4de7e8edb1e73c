"""``naive-async``: the async planner/executor split without memory or OVCR (registered with ahabench.policy)."""

from ahabench.policies.naive_async.configuration_naive_async import NaiveAsyncConfig
from ahabench.policies.naive_async.modeling_naive_async import NaiveAsyncPolicy
from ahabench.policy_registry import register_policy


@register_policy("naive-async", "Naive-Async: AHA-WAM's async split without K/V memory and OVCR (ablation)",
                 needs_checkpoint=True)
def make_naive_async(**kwargs) -> NaiveAsyncPolicy:
    return NaiveAsyncPolicy(NaiveAsyncConfig(**kwargs))


__all__ = ["NaiveAsyncConfig", "NaiveAsyncPolicy", "make_naive_async"]
