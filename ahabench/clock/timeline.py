"""What happened during one simulated episode: jobs on devices, per-tick actions, chunk arrivals,
published planner contexts and staleness waits. Metrics (ahabench.clock.metrics) are pure functions of it.

All times are integer microseconds of simulated time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Job states: queued (waiting for its device), running, done, superseded (a queued prefill replaced by a
# newer one, latest wins). At the end of an episode, jobs still queued or running keep those states.
JOB_STATES: tuple[str, ...] = ("queued", "running", "done", "superseded")


@dataclass
class JobRecord:
    """One call on one device. ``end_us`` is the simulated end (== start in frozen mode); ``latency_us``
    the latency charged by the latency model (recorded in every mode)."""

    id: int
    call: str
    device: str
    submit_us: int
    obs_tick: int
    status: str = "queued"
    start_us: int | None = None
    end_us: int | None = None
    latency_us: int | None = None
    context_version: int | None = None
    phase_offset: int | None = None
    context_age_us: int | None = None  # executor jobs: start time minus the context's capture time
    n_actions: int | None = None
    first_exec_tick: int | None = None  # first tick that executed one of its actions


@dataclass
class TickRecord:
    """Tick k: the job whose action ran (None: held), actions still queued after it, and the step's success."""

    tick: int
    source: int | None
    queue_len: int
    success: bool = False


@dataclass
class ArrivalRecord:
    """An executor chunk reaching the action queue at ``time_us``.

    stale: actions meant for ticks already started (dropped); placed: actions put in the queue starting at
    ``first_tick``; discarded: actions neither stale nor placed (beyond execute_len in sync modes, or lost
    to the ``keep`` merge rule).
    """

    job: int
    time_us: int
    obs_tick: int
    n_actions: int
    stale: int
    placed: int
    discarded: int
    first_tick: int | None


@dataclass
class ContextRecord:
    version: int
    job: int
    publish_us: int
    obs_tick: int
    obs_time_us: int


@dataclass
class WaitRecord:
    """An async executor request held back because the newest context was too old."""

    time_us: int
    context_version: int
    age_us: int


@dataclass
class Timeline:
    dt_us: int
    mode: str
    max_steps: int
    devices: list[str]
    jobs: list[JobRecord] = field(default_factory=list)
    ticks: list[TickRecord] = field(default_factory=list)
    arrivals: list[ArrivalRecord] = field(default_factory=list)
    contexts: list[ContextRecord] = field(default_factory=list)
    waits: list[WaitRecord] = field(default_factory=list)
    frames_observed: int = 0  # observations the clock asked the world to capture

    @property
    def n_ticks(self) -> int:
        return len(self.ticks)

    @property
    def sim_time_us(self) -> int:
        return len(self.ticks) * self.dt_us

    def jobs_of(self, *calls: str, status: str | None = "done") -> list[JobRecord]:
        return [j for j in self.jobs if j.call in calls and (status is None or j.status == status)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Timeline:
        return cls(dt_us=d["dt_us"], mode=d["mode"], max_steps=d["max_steps"], devices=list(d["devices"]),
                   jobs=[JobRecord(**j) for j in d.get("jobs", [])],
                   ticks=[TickRecord(**t) for t in d.get("ticks", [])],
                   arrivals=[ArrivalRecord(**a) for a in d.get("arrivals", [])],
                   contexts=[ContextRecord(**c) for c in d.get("contexts", [])],
                   waits=[WaitRecord(**w) for w in d.get("waits", [])],
                   frames_observed=d.get("frames_observed", 0))
