"""``openpi``: any openpi-compatible policy server (pi0, pi0.5, ...), through the openpi-client package."""

from ahabench.policies.openpi.configuration_openpi import KeyMap, OpenpiConfig, openpi_config
from ahabench.policies.openpi.modeling_openpi import OpenpiPolicy
from ahabench.policy_registry import register_policy


@register_policy("openpi", "client of an openpi policy server (-P host=H -P port=N [-P keymap=FILE.yaml] [-P execute=K])")
def make_openpi(**kwargs) -> OpenpiPolicy:
    return OpenpiPolicy(openpi_config(**kwargs))


__all__ = ["KeyMap", "OpenpiConfig", "OpenpiPolicy", "make_openpi"]
