"""The action queue: which action (and from which job) each future tick will execute."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ActionQueue:
    """Maps tick -> (action, job id). Ticks are popped in order as the world steps."""

    def __init__(self) -> None:
        self._slots: dict[int, tuple[Any, int]] = {}

    def __len__(self) -> int:
        return len(self._slots)

    def remaining(self, from_tick: int) -> int:
        """Queued actions for ticks >= ``from_tick`` (ticks not yet started)."""
        return sum(1 for t in self._slots if t >= from_tick)

    def pop(self, tick: int) -> tuple[Any, int] | None:
        """The action for ``tick`` and its job, or None (hold). Forgets anything queued before ``tick``."""
        for t in [t for t in self._slots if t < tick]:
            del self._slots[t]
        return self._slots.pop(tick, None)

    def merge(self, first_tick: int, actions: Sequence[Any], job: int, rule: str = "replace") -> tuple[int, int]:
        """Queue ``actions`` for ticks first_tick, first_tick+1, ...; returns (placed, discarded).

        ``replace``: latest wins: everything queued from ``first_tick`` on is dropped, then the new actions
        are placed. ``keep``: queued actions win; new actions only fill ticks after the last queued one.
        """
        n = len(actions)
        if rule == "replace":
            for t in [t for t in self._slots if t >= first_tick]:
                del self._slots[t]
            for i in range(n):
                self._slots[first_tick + i] = (actions[i], job)
            return n, 0
        if rule == "keep":
            last = max(self._slots, default=first_tick - 1)
            placed = 0
            for i in range(n):
                t = first_tick + i
                if t > last:
                    self._slots[t] = (actions[i], job)
                    placed += 1
            return placed, n - placed
        raise ValueError(f"unknown merge rule {rule!r}; choices: replace, keep")
