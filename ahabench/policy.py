"""The policy interface the clock drives (the registry is :mod:`ahabench.policy_registry`).

A policy exposes its work as named *calls* (docs/clock.md): a policy with a planner has ``prefill``
(planner refresh) and ``chunk`` (executor: one action chunk from the newest planner context); a
synchronous policy has a single ``call``. The evaluation engine decides *when* each call runs and on
which observation, charges it a latency from the latency model, and applies the returned actions on
simulated time. A policy never sees simulator state, unless it is declared ``privileged`` (the
scripted-expert oracle).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

import numpy as np

from ahabench.clock.config import MODES  # re-exported: policies name their modes with it
from ahabench.types import EpisodeInfo, Observation


class BadActionError(ValueError):
    """A policy returned an action chunk that must not reach the robot (wrong shape, NaN, out of bounds, not
    numbers): the episode ends as a failure recorded with ``error_kind="bad_action"`` and this message."""


class PolicyUnreachableError(ConnectionError):
    """A policy that runs elsewhere (a policy server) cannot be reached: the run stops with this message, and
    the episodes recorded before it are kept (continue with --resume)."""


@dataclass(frozen=True)
class CallCost:
    """Work of one call, for the roofline latency model: floating-point ops and bytes moved."""

    flops: float
    bytes: float


@dataclass(frozen=True)
class PolicySpec:
    """How the clock should drive a policy.

    chunk_len: H, actions per produced chunk (a chunk from the observation of tick k covers ticks k..k+H-1).
    execute_len: actions executed from a chunk before the next one is requested (sync modes), and the
        async trigger: a new chunk is requested when at most ``chunk_len - execute_len`` actions of the
        newest chunk remain queued (policies may override with ``async_trigger``).
    has_planner: True for a planner/executor policy (calls ``prefill`` and ``chunk``); False for a
        synchronous policy (call ``call``).
    refresh_every: planner refresh every N executor chunks (planner policies only).
    modes: the execution modes the policy supports; default_mode: used when none is asked for.
    async_trigger: the async executor asks for the next chunk once at most this many queued actions are
        left (None: chunk_len - execute_len).
    max_context_age_ms: an executor request waits while the newest planner context is older than this.
    privileged: True only for oracles that read simulator state (the scripted expert).
    """

    name: str
    chunk_len: int
    execute_len: int
    has_planner: bool = False
    refresh_every: int = 2
    modes: tuple[str, ...] = MODES
    default_mode: str = "blocking"
    async_trigger: int | None = None
    max_context_age_ms: float = 500.0
    privileged: bool = False

    @property
    def calls(self) -> tuple[str, ...]:
        return ("prefill", "chunk") if self.has_planner else ("call",)


class Policy(abc.ABC):
    """Base class of every policy the harness can evaluate.

    Sync policies implement :meth:`act` (the ``call``). Planner policies implement :meth:`prefill`, which
    returns an opaque planner context, and :meth:`act`, which receives the newest published context and the
    executor's phase offset in ticks (observation tick minus the context's observation tick).
    """

    spec: PolicySpec

    @abc.abstractmethod
    def reset(self, episode: EpisodeInfo) -> None:
        """Start a new episode (clears memories and caches)."""

    def prefill(self, obs: Observation) -> Any:
        """Planner refresh on ``obs``; returns the context the executor will read."""
        raise NotImplementedError(f"policy {self.spec.name!r} has no planner")

    @abc.abstractmethod
    def act(self, obs: Observation, context: Any = None, phase_offset: int = 0) -> np.ndarray:
        """Return an action chunk, shape (chunk_len, action_dim), float32 absolute joint targets."""

    def cost(self, call: str) -> CallCost:
        """FLOPs and bytes of one call, for the roofline latency model."""
        raise NotImplementedError(f"policy {self.spec.name!r} gives no roofline cost for call {call!r}")

    def close(self) -> None:  # noqa: B027 - an optional hook: most policies hold nothing to release
        """Release what the policy holds outside this process (a server connection); called when a worker is
        done with it."""

    def bind_env(self, env: Any) -> None:
        """Give a privileged policy the simulator; ordinary policies never receive it."""
        if self.spec.privileged:
            raise NotImplementedError
        raise PermissionError(f"policy {self.spec.name!r} is not privileged and may not read simulator state")
