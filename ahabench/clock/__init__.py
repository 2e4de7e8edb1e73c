"""The deterministic simulated clock (docs/clock.md): a pure, stdlib-only discrete-event core.

Usage: build a :class:`ClockConfig` (``ClockConfig.from_policy(spec, ...)``), give :class:`Clock` a
:class:`World` and a :class:`JobRunner`, call ``run()`` for a :class:`Timeline`, and turn it into
EpisodeRecord fields with :func:`episode_metrics`.
"""

from ahabench.clock.action_queue import ActionQueue
from ahabench.clock.config import MERGE_RULES, MODES, ClockConfig, dt_us_for
from ahabench.clock.metrics import episode_metrics, percentile
from ahabench.clock.protocols import JobRunner, World
from ahabench.clock.scheduler import Clock
from ahabench.clock.timeline import ArrivalRecord, ContextRecord, JobRecord, TickRecord, Timeline, WaitRecord

__all__ = [
    "ActionQueue", "ArrivalRecord", "Clock", "ClockConfig", "ContextRecord", "JobRecord", "JobRunner",
    "MERGE_RULES", "MODES", "TickRecord", "Timeline", "WaitRecord", "World", "dt_us_for", "episode_metrics",
    "percentile",
]
