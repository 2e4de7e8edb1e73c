"""``measured`` latency: the real wall-clock duration of each call on this machine, optionally scaled.

The episode runner times each call with ``time.perf_counter`` (the clock core never reads a clock) and
passes it in ``CallRequest.wall_s``. Durations depend on the machine and its load, so records made with
this model are flagged ``reproducible=False``.
"""

from __future__ import annotations

from ahabench.latency.base import CallRequest, LatencyModel


class MeasuredLatency(LatencyModel):
    kind = "measured"
    reproducible = False

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__(scale)
        self.name = "measured" if self.scale == 1.0 else f"measured-x{self.scale:g}"

    def base_ms(self, req: CallRequest) -> float:
        return req.wall_s * 1000.0
