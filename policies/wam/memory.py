"""Planner context and the rolling K/V memory of the planner (spec section 4).

A refresh (``WAM.prefill``) yields a :class:`PlannerContext`: the per-layer K/V of the current frame's
tokens, the frame index and observation tick they came from. :class:`PlannerMemory` keeps the K/V of the
last ``capacity`` refreshes (FIFO, oldest first); at the next refresh the current tokens attend to
[memory K/V ; own K/V], then the new context is pushed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import torch

from ahabench.policies.wam.layers import KV


@dataclass(frozen=True)
class PlannerContext:
    """What the executor reads. kv: per layer (k, v), each (B, H, T, Dh), detached.

    frame_index: (B,) episode-global frame index (obs_tick // frame_stride_steps) of the planner frame.
    obs_tick: control tick of the observation the refresh was computed on (None if unknown).
    """

    kv: tuple[KV, ...]
    frame_index: torch.Tensor
    obs_tick: int | None = None

    @property
    def n_layers(self) -> int:
        return len(self.kv)


class PlannerMemory:
    """FIFO of the last ``capacity`` planner contexts; ``prefix()`` gives per-layer concatenated K/V."""

    def __init__(self, capacity: int = 6):
        if capacity < 1:
            raise ValueError(f"memory capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._items: deque[PlannerContext] = deque(maxlen=capacity)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()

    def push(self, context: PlannerContext) -> None:
        """Append the newest refresh; the oldest falls out when full."""
        if self._items and self._items[-1].n_layers != context.n_layers:
            raise ValueError(f"context has {context.n_layers} layers, memory holds {self._items[-1].n_layers}")
        self._items.append(context)

    @property
    def contexts(self) -> list[PlannerContext]:
        """Stored contexts, oldest first."""
        return list(self._items)

    @property
    def frame_indices(self) -> list[list[int]]:
        """Frame indices of the stored refreshes, oldest first (one list per refresh, over the batch)."""
        return [c.frame_index.tolist() for c in self._items]

    def prefix(self) -> list[KV] | None:
        """Per layer (K, V) of all stored refreshes concatenated on the token axis (oldest first), or None."""
        if not self._items:
            return None
        n_layers = self._items[0].n_layers
        return [
            (torch.cat([c.kv[i][0] for c in self._items], 2), torch.cat([c.kv[i][1] for c in self._items], 2))
            for i in range(n_layers)
        ]
