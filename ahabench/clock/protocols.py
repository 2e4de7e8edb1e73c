"""The two things the clock core drives: a world (renders observations, steps physics) and a job runner
(does a call's real computation and says how long it takes in simulated time).

Keeping both behind protocols keeps the core pure: the engine plugs a TaskEnv and a Policy plus a latency
model in (ahabench.engine.episode); tests plug scripted fakes in (ahabench.clock.fakes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class World(Protocol):
    def observe(self, tick: int) -> Any:
        """Capture (render) the observation of ``tick``: the state after the actions of ticks < tick.

        The clock calls it at most once per tick, only for ticks some job consumes, and always before
        :meth:`apply` of that tick.
        """

    def apply(self, tick: int, action: Any | None) -> Mapping[str, bool]:
        """Step the world by one control period with ``action`` (None: hold). Returns named conditions;
        ``success`` ends the episode when the clock stops on success."""


class JobRunner(Protocol):
    def run(self, call: str, obs: Any, context: Any, phase_offset: int | None) -> tuple[int, Any]:
        """Do one call now; return ``(duration_us, result)``.

        ``call`` is ``prefill`` (result: an opaque planner context), ``chunk`` or ``call`` (result: a
        sequence of actions, the first meant for the observation's tick). ``context`` and ``phase_offset``
        are the newest published planner context and the observation tick minus that context's tick
        (None for policies without a planner).
        """

