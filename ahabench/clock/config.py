"""Static configuration of one simulated-clock episode: control rate, mode, chunking and devices.

The clock core is pure (stdlib only): everything it needs to know about a policy is copied here from the
policy's :class:`~ahabench.policy.PolicySpec` by :meth:`ClockConfig.from_policy`, so this module does
not import the policy interface (which pulls numpy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MODES: tuple[str, ...] = ("frozen", "blocking", "async")
MERGE_RULES: tuple[str, ...] = ("replace", "keep")

PLANNER_CALL = "prefill"
EXECUTOR_CALLS: tuple[str, ...] = ("chunk", "call")

# Lower number = picked first. The release's async runtime serves action requests before planner refreshes.
DEFAULT_PRIORITIES: dict[str, int] = {"chunk": 0, "call": 0, "prefill": 1}


def dt_us_for(control_hz: float) -> int:
    """Control period in integer microseconds (25 Hz -> 40000)."""
    if not control_hz > 0:
        raise ValueError(f"control_hz must be > 0, got {control_hz!r}")
    return round(1e6 / control_hz)


@dataclass(frozen=True)
class ClockConfig:
    """How the clock drives one policy for one episode.

    control_hz / max_steps: the control rate and the episode limit in ticks.
    mode: ``frozen`` (world paused while computing), ``blocking`` (robot holds while computing) or
        ``async`` (compute overlaps execution; see docs/clock.md).
    chunk_len / execute_len: H actions per chunk; actions executed per call in frozen/blocking modes.
    has_planner: planner/executor policy (calls ``prefill`` and ``chunk``) or synchronous (one ``call``).
    refresh_every: planner refresh every N executor chunks.
    async_trigger: in async mode, the executor asks for the next chunk when at most this many queued
        actions remain (None: ``chunk_len - execute_len``, i.e. after ``execute_len`` actions of a chunk).
    max_context_age_us: async executor requests wait while the newest planner context's observation is
        older than this (None: no bound).
    stop_on_success: end the episode at the first tick whose step reports success (RoboTwin protocol).
    merge: how an arriving async chunk meets the queue: ``replace`` (latest wins from its first fresh tick
        on) or ``keep`` (queued actions win; the new chunk only extends the queue past its end).
    devices: call name -> device name; priorities: call name -> priority (lower runs first).
    """

    control_hz: float
    max_steps: int
    mode: str
    chunk_len: int
    execute_len: int
    has_planner: bool = False
    refresh_every: int = 2
    async_trigger: int | None = None
    max_context_age_us: int | None = 500_000
    stop_on_success: bool = True
    merge: str = "replace"
    devices: dict[str, str] = field(default_factory=lambda: {"prefill": "gpu0", "chunk": "gpu0", "call": "gpu0"})
    priorities: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PRIORITIES))

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; choices: {', '.join(MODES)}")
        if self.merge not in MERGE_RULES:
            raise ValueError(f"unknown merge rule {self.merge!r}; choices: {', '.join(MERGE_RULES)}")
        if self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {self.max_steps!r}")
        if self.chunk_len < 1:
            raise ValueError(f"chunk_len must be >= 1, got {self.chunk_len!r}")
        if not 1 <= self.execute_len <= self.chunk_len:
            raise ValueError(f"execute_len must be in [1, chunk_len={self.chunk_len}], got {self.execute_len!r}")
        if self.refresh_every < 1:
            raise ValueError(f"refresh_every must be >= 1, got {self.refresh_every!r}")
        if self.async_trigger is not None and self.async_trigger < 0:
            raise ValueError(f"async_trigger must be >= 0, got {self.async_trigger!r}")
        for call in self.calls:
            if call not in self.devices:
                raise ValueError(f"no device for call {call!r} in devices={self.devices!r}")
            if call not in self.priorities:
                raise ValueError(f"no priority for call {call!r} in priorities={self.priorities!r}")
        dt_us_for(self.control_hz)

    @property
    def dt_us(self) -> int:
        return dt_us_for(self.control_hz)

    @property
    def calls(self) -> tuple[str, ...]:
        return (PLANNER_CALL, "chunk") if self.has_planner else ("call",)

    @property
    def executor_call(self) -> str:
        return "chunk" if self.has_planner else "call"

    @property
    def trigger(self) -> int:
        return self.chunk_len - self.execute_len if self.async_trigger is None else self.async_trigger

    @classmethod
    def from_policy(cls, spec: Any, *, control_hz: float, max_steps: int, mode: str, two_devices: bool = False,
                    stop_on_success: bool = True, merge: str = "replace") -> ClockConfig:
        """Build from a :class:`~ahabench.policy.PolicySpec` (duck-typed). ``two_devices`` puts the planner
        on its own device ``gpu1``."""
        devices = {"chunk": "gpu0", "call": "gpu0", "prefill": "gpu1" if two_devices else "gpu0"}
        age_ms = spec.max_context_age_ms
        return cls(control_hz=control_hz, max_steps=max_steps, mode=mode, chunk_len=spec.chunk_len,
                   execute_len=spec.execute_len, has_planner=spec.has_planner, refresh_every=spec.refresh_every,
                   async_trigger=spec.async_trigger,
                   max_context_age_us=None if age_ms is None else round(age_ms * 1000),
                   stop_on_success=stop_on_success, merge=merge, devices=devices)
