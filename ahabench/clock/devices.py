"""Simulated compute devices: one job at a time, non-preemptive, highest priority first, FIFO within one."""

from __future__ import annotations

from ahabench.clock.timeline import JobRecord


class Device:
    def __init__(self, name: str) -> None:
        self.name = name
        self.running: JobRecord | None = None
        self._waiting: list[tuple[int, int, JobRecord]] = []  # (priority, job id = submission order, job)

    @property
    def free(self) -> bool:
        return self.running is None

    def waiting(self) -> list[JobRecord]:
        return [j for _, _, j in sorted(self._waiting, key=lambda w: (w[0], w[1]))]

    def submit(self, job: JobRecord, priority: int) -> None:
        self._waiting.append((priority, job.id, job))

    def remove(self, job: JobRecord) -> None:
        self._waiting = [w for w in self._waiting if w[2] is not job]

    def pick(self) -> JobRecord | None:
        """Take the next job to run (lowest priority number, then earliest submitted), or None."""
        if not self._waiting:
            return None
        best = min(self._waiting, key=lambda w: (w[0], w[1]))
        self._waiting.remove(best)
        return best[2]
