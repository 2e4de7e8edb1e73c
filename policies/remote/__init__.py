"""``remote``: a policy served by ``ahabench serve`` in another process or on another machine."""

from ahabench.policies.remote.configuration_remote import RemoteConfig
from ahabench.policies.remote.modeling_remote import RemotePolicy
from ahabench.policy_registry import register_policy


@register_policy("remote", "client of an `ahabench serve` server (-P url=ws://HOST:PORT [-P api_key=K])")
def make_remote(url: str | None = None, **kwargs) -> RemotePolicy:
    if url is None:
        raise ValueError("remote: say where the server is with -P url=ws://HOST:PORT")
    if kwargs.get("api_key") is not None:
        kwargs["api_key"] = str(kwargs["api_key"])  # -P api_key=1234 arrives as an int
    return RemotePolicy(RemoteConfig(url=str(url), **kwargs))


__all__ = ["RemoteConfig", "RemotePolicy", "make_remote"]
