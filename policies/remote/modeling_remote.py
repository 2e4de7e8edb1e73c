"""The ``remote`` policy: drives a policy served by ``ahabench serve`` as if it ran in this process.

The spec (name, calls, chunk length, modes) comes from the server's metadata, so the clock drives a served
aha-wam exactly like an in-process one, and records carry the served policy's name: the ``profile`` latency model
looks its calls up under that name, and ``measured`` charges the real round trip. A planner's contexts stay on the
server; :meth:`RemotePolicy.prefill` returns a :class:`RemoteContext` naming one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ahabench.policies.remote.configuration_remote import RemoteConfig
from ahabench.policy import CallCost, PolicySpec, PolicyUnreachableError
from ahabench.serve import wire
from ahabench.serve.client import ServerClientPolicy
from ahabench.serve.connection import Connection, RemoteCallError, actions_from_reply
from ahabench.types import EpisodeInfo, Observation


@dataclass(frozen=True)
class RemoteContext:
    """A planner context kept by the server, by number."""

    id: int


def spec_from_metadata(meta: Any, url: str) -> PolicySpec:
    """The PolicySpec a server announced; a server that is not ``ahabench serve`` (or another protocol version)
    is refused naming what it sent."""
    if not isinstance(meta, dict) or meta.get("protocol") != "ahabench":
        raise PolicyUnreachableError(f"{url} is not an `ahabench serve` server (metadata {str(meta)[:120]!r}); "
                                     "for an openpi server use --policy openpi")
    if meta.get("version") != wire.PROTOCOL_VERSION:
        raise PolicyUnreachableError(f"{url} speaks protocol version {meta.get('version')!r}; this client speaks "
                                     f"{wire.PROTOCOL_VERSION} (install the same ahabench on both sides)")
    raw = dict(meta.get("spec") or {})
    known = {f.name for f in fields(PolicySpec)}
    spec = PolicySpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in known})
    if spec.privileged:
        raise PolicyUnreachableError(f"{url} announced a privileged policy, which is never served")
    return spec


class RemotePolicy(ServerClientPolicy):
    def __init__(self, config: RemoteConfig) -> None:
        self.config = config
        self.metadata = self._connection().metadata
        self.spec = spec_from_metadata(self.metadata, config.url)
        self._costs: dict[str, Any] = dict(self.metadata.get("costs") or {})

    def _open(self) -> Connection:
        cfg = self.config
        return Connection(cfg.url, api_key=cfg.api_key, connect_timeout=cfg.connect_timeout, timeout=cfg.timeout,
                          pack=wire.pack, unpack=wire.unpack)

    def _request(self, message: dict[str, Any], what: str) -> dict[str, Any]:
        try:
            reply = self._connection().request(message, what)
        except wire.WireError as e:
            raise RemoteCallError(f"{self.config.url}: undecodable reply to {what}: {e}") from None
        except RemoteCallError:
            self.close()  # the next call (the next episode's reset) connects again
            raise
        if isinstance(reply, dict) and isinstance(reply.get("error"), str):
            raise RemoteCallError(f"{self.config.url}: the server failed {what}: {reply['error']}")
        if not isinstance(reply, dict):
            raise RemoteCallError(f"{self.config.url}: reply to {what} is a {type(reply).__name__}, not a map")
        return reply

    def reset(self, episode: EpisodeInfo) -> None:
        self._request({"type": "reset", "episode": wire.encode_episode(episode)}, "reset")

    def prefill(self, obs: Observation) -> Any:
        reply = self._request({"type": "prefill", "obs": wire.encode_observation(obs)}, f"prefill (tick {obs.tick})")
        ctx = reply.get("context")
        if not isinstance(ctx, int):
            raise RemoteCallError(f"{self.config.url}: reply to prefill has no context number (got {ctx!r})")
        return RemoteContext(ctx)

    def act(self, obs: Observation, context: Any = None, phase_offset: int = 0) -> np.ndarray:
        call = self.spec.calls[-1]  # chunk for a planner policy, call for a synchronous one
        msg: dict[str, Any] = {"type": call, "obs": wire.encode_observation(obs), "phase_offset": int(phase_offset),
                               "context": context.id if isinstance(context, RemoteContext) else None}
        reply = self._request(msg, f"{call} (tick {obs.tick})")
        return actions_from_reply(reply, f"remote policy {self.spec.name!r} at {self.config.url}")

    def cost(self, call: str) -> CallCost:
        c = self._costs.get(call)
        if c is None:
            raise NotImplementedError(f"the server of {self.spec.name!r} gives no roofline cost for call {call!r}")
        return CallCost(flops=float(c["flops"]), bytes=float(c["bytes"]))


__all__ = ["RemoteContext", "RemotePolicy", "spec_from_metadata"]
