"""``fast-wam``: the synchronous Fast-WAM baseline (registered with ahabench.policy)."""

from ahabench.policies.fast_wam.configuration_fast_wam import FastWamConfig
from ahabench.policies.fast_wam.modeling_fast_wam import FastWamPolicy
from ahabench.policy_registry import register_policy


@register_policy("fast-wam", "Fast-WAM: per call, video-DiT prefill of the current frame + 32-action denoising (sync)",
                 needs_checkpoint=True)
def make_fast_wam(**kwargs) -> FastWamPolicy:
    return FastWamPolicy(FastWamConfig(**kwargs))


__all__ = ["FastWamConfig", "FastWamPolicy", "make_fast_wam"]
