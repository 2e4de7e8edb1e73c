"""Scripted stand-ins for a world and a job runner, for tests and examples of the clock (no physics).

:class:`ScriptedWorld` records which ticks were observed and which actions were applied, and reports
success from a predicate. :class:`ScriptedRunner` charges fixed (or per-call-index) durations and returns
chunks whose actions are labels ``(job_index, obs_tick, i)`` so a test can check which action ran when.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any


class ScriptedWorld:
    def __init__(self, success_at: int | None = None,
                 success_fn: Callable[[int, Any], bool] | None = None) -> None:
        self.success_at = success_at
        self.success_fn = success_fn
        self.observed: list[int] = []
        self.applied: list[tuple[int, Any]] = []
        self._stepped = 0

    def observe(self, tick: int) -> Any:
        if tick != self._stepped:
            raise AssertionError(f"observe({tick}) while the world is at tick {self._stepped}")
        self.observed.append(tick)
        return {"tick": tick}

    def apply(self, tick: int, action: Any | None) -> Mapping[str, bool]:
        if tick != self._stepped:
            raise AssertionError(f"apply({tick}) while the world is at tick {self._stepped}")
        self._stepped += 1
        self.applied.append((tick, action))
        ok = (self.success_at is not None and tick >= self.success_at) or bool(
            self.success_fn and self.success_fn(tick, action))
        return {"success": ok}


class ScriptedRunner:
    """durations_us: call -> a duration, or a list indexed by that call's call index (last one repeats)."""

    def __init__(self, durations_us: Mapping[str, int | Sequence[int]], chunk_len: int) -> None:
        self.durations_us = dict(durations_us)
        self.chunk_len = chunk_len
        self.calls: list[dict[str, Any]] = []
        self._count: dict[str, int] = {}

    def duration(self, call: str) -> int:
        d = self.durations_us[call]
        i = self._count.get(call, 0)
        return d if isinstance(d, int) else d[min(i, len(d) - 1)]

    def run(self, call: str, obs: Any, context: Any, phase_offset: int | None) -> tuple[int, Any]:
        dur = self.duration(call)
        idx = self._count.get(call, 0)
        self._count[call] = idx + 1
        self.calls.append({"call": call, "obs_tick": obs["tick"], "context": context, "phase_offset": phase_offset})
        if call == "prefill":
            return dur, ("ctx", obs["tick"])
        return dur, [(len(self.calls) - 1, obs["tick"], i) for i in range(self.chunk_len)]
