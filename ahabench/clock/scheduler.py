"""The simulated clock: a small discrete-event scheduler for one episode (semantics: docs/clock.md).

Time is integer microseconds. The only timed events are job completions; everything else (submissions,
job starts, action choice) reacts to them or to control ticks. Tick k is processed in a fixed order that
makes lazy rendering exact:

1. events at exactly t = k*dt: completions (chunk arrivals, context publications), then submissions, then
   job starts, repeated until nothing changes (zero-duration jobs, frozen mode, complete at once);
2. the action of tick k is fixed from the action queue (or the robot holds);
3. events with k*dt < t < (k+1)*dt: they can only affect ticks >= k+1, and any observation they need is o_k;
4. the world steps with tick k's action.

An observation o_k is captured from the world only when a job submitted during tick k consumes it, always
before step 4 of tick k, so it is exactly the state a real robot would have seen.

Choices fixed here (docs/clock.md describes them too):
- async trigger: the executor asks for a chunk when *at most* ``trigger`` queued actions remain for ticks
  not started yet (so the default trigger ``chunk_len - execute_len`` means "after ``execute_len`` actions",
  and 0 means "when the queue is dry"); one executor request is in flight at a time.
- async planner refresh: counted on executor chunk *arrivals*; the refresh runs on the newest observation
  at that moment. Any prefill submission (also a staleness refresh) restarts the count.
- an executor job reads the newest published context when it *starts* (its observation is fixed at
  submission); its context age is start time minus the context's capture time.
- frozen/blocking with a planner: when a refresh is due, prefill and chunk run back to back on the same
  observation, as a synchronous program would (``obs = get(); ctx = prefill(obs); act(obs, ctx)``).
"""

from __future__ import annotations

import logging
from typing import Any

from ahabench.clock.action_queue import ActionQueue
from ahabench.clock.config import PLANNER_CALL, ClockConfig
from ahabench.clock.devices import Device
from ahabench.clock.protocols import JobRunner, World
from ahabench.clock.timeline import ArrivalRecord, ContextRecord, JobRecord, TickRecord, Timeline, WaitRecord

log = logging.getLogger(__name__)


# Safety net: a zero-latency configuration must never spin forever at one simulated instant.
_MAX_ROUNDS_PER_INSTANT = 10_000


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class Clock:
    """Runs one episode of ``world`` driven by ``runner`` under ``config``; :meth:`run` returns the Timeline.

    :attr:`timeline` is filled as the episode goes, so a caller that catches an exception from the world
    or the runner still has the partial record.
    """

    def __init__(self, config: ClockConfig, world: World, runner: JobRunner) -> None:
        if config.mode == "async" and config.trigger >= config.chunk_len:
            raise ValueError(f"async trigger {config.trigger} must be < chunk_len {config.chunk_len}, or the "
                             "executor would ask for a new chunk forever")
        self.cfg = config
        self.world = world
        self.runner = runner
        self.dt = config.dt_us
        names = sorted({config.devices[c] for c in config.calls})
        self.timeline = Timeline(dt_us=self.dt, mode=config.mode, max_steps=config.max_steps, devices=names)
        self._devices = {n: Device(n) for n in names}
        self._queue = ActionQueue()
        self._obs: dict[int, Any] = {}
        self._obs_refs: dict[int, int] = {}
        self._results: dict[int, Any] = {}
        self._context: Any = None
        self._ctx: ContextRecord | None = None
        self._executor_job: JobRecord | None = None
        self._chunks_since_refresh = 0
        self._chain: dict[int, int] = {}  # sync modes: prefill job id -> obs tick of the chunk that follows it
        self._cycle_busy = False  # sync modes: a call (or prefill + chunk) is in flight
        self._next_cycle_tick = 0
        self._waited_on: int | None = None  # context version an async executor request last waited on
        self._tick = 0
        self._last_executor_submit_us: int | None = None

    # ----------------------------------------------------------------------------------------- main loop
    def run(self) -> Timeline:
        cfg, tl = self.cfg, self.timeline
        for k in range(cfg.max_steps):
            self._tick = k
            tk = k * self.dt
            self._drop_old_observations(k)
            self._process_time(tk)  # (1) everything before tk was processed in phase (3) of tick k-1
            popped = self._queue.pop(k)  # (2)
            action, source = popped if popped is not None else (None, None)
            if source is not None and tl.jobs[source].first_exec_tick is None:
                tl.jobs[source].first_exec_tick = k
            self._process_until(tk + self.dt)  # (3)
            flags = self.world.apply(k, action)  # (4)
            success = bool(flags.get("success", False))
            tl.ticks.append(TickRecord(tick=k, source=source, queue_len=self._queue.remaining(k + 1),
                                       success=success))
            if success and cfg.stop_on_success:
                break
        log.debug("episode ended after %d ticks, %d jobs", tl.n_ticks, len(tl.jobs))
        return tl

    def _process_until(self, limit_us: int) -> None:
        """Process every completion strictly before ``limit_us``."""
        while True:
            ends = [d.running.end_us for d in self._devices.values() if d.running is not None]
            if not ends or min(ends) >= limit_us:
                return
            self._process_time(min(ends))

    def _process_time(self, t: int) -> None:
        for _ in range(_MAX_ROUNDS_PER_INSTANT):
            progressed = False
            done = sorted((d.running for d in self._devices.values()
                           if d.running is not None and d.running.end_us == t), key=lambda j: j.id)
            for job in done:
                self._complete(job, t)
                progressed = True
            progressed |= self._submit_jobs(t)
            progressed |= self._start_jobs(t)
            if not progressed:
                return
        raise RuntimeError(f"simulated clock livelock at t={t} us: jobs keep completing and being resubmitted "
                           "without time passing (zero latencies?)")

    # ----------------------------------------------------------------------------------------- observations
    def _observe(self, tick: int) -> None:
        if tick in self._obs:
            return
        if tick != self._tick:
            raise RuntimeError(f"observation of tick {tick} asked for at tick {self._tick}: it is gone")
        self._obs[tick] = self.world.observe(tick)
        self.timeline.frames_observed += 1

    def _ref(self, tick: int, delta: int) -> None:
        self._obs_refs[tick] = self._obs_refs.get(tick, 0) + delta

    def _drop_old_observations(self, tick: int) -> None:
        # Observations are images: keep only those a queued job (or a pending chained chunk) still needs.
        for t in [t for t in self._obs if t < tick and self._obs_refs.get(t, 0) <= 0]:
            del self._obs[t]
            self._obs_refs.pop(t, None)

    # ----------------------------------------------------------------------------------------- jobs
    def _submit(self, call: str, t: int, obs_tick: int | None = None) -> JobRecord:
        tick = t // self.dt if obs_tick is None else obs_tick
        self._observe(tick)
        dev = self._devices[self.cfg.devices[call]]
        if call == PLANNER_CALL:
            # Latest wins: a refresh that has not started yet is replaced by this newer one.
            for old in dev.waiting():
                if old.call == PLANNER_CALL:
                    dev.remove(old)
                    old.status = "superseded"
                    self._ref(old.obs_tick, -1)
            self._chunks_since_refresh = 0
        job = JobRecord(id=len(self.timeline.jobs), call=call, device=dev.name, submit_us=t, obs_tick=tick)
        self.timeline.jobs.append(job)
        dev.submit(job, self.cfg.priorities[call])
        self._ref(tick, +1)
        if call != PLANNER_CALL:
            self._executor_job = job
            self._last_executor_submit_us = t
        return job

    def _start_jobs(self, t: int) -> bool:
        started = False
        for name in sorted(self._devices):
            dev = self._devices[name]
            if dev.free:
                job = dev.pick()
                if job is not None:
                    self._start(dev, job, t)
                    started = True
        return started

    def _start(self, dev: Device, job: JobRecord, t: int) -> None:
        context, offset = None, None
        if job.call != PLANNER_CALL and self.cfg.has_planner:
            ctx = self._ctx
            assert ctx is not None, "an executor job is only submitted once a context exists"
            context, offset = self._context, job.obs_tick - ctx.obs_tick
            job.context_version, job.phase_offset = ctx.version, offset
            job.context_age_us = t - ctx.obs_time_us
        duration, result = self.runner.run(job.call, self._obs[job.obs_tick], context, offset)
        if not isinstance(duration, int) or duration < 0:
            raise ValueError(f"job runner returned duration {duration!r} for call {job.call!r}: "
                             "want a non-negative int of microseconds")
        job.status, job.start_us, job.latency_us = "running", t, duration
        job.end_us = t if self.cfg.mode == "frozen" else t + duration  # frozen: the world waits
        self._ref(job.obs_tick, -1)
        self._results[job.id] = result
        dev.running = job

    def _complete(self, job: JobRecord, t: int) -> None:
        self._devices[job.device].running = None
        job.status = "done"
        result = self._results.pop(job.id)
        if job.call == PLANNER_CALL:
            ctx = ContextRecord(version=len(self.timeline.contexts) + 1, job=job.id, publish_us=t,
                                obs_tick=job.obs_tick, obs_time_us=job.obs_tick * self.dt)
            self.timeline.contexts.append(ctx)
            self._context, self._ctx = result, ctx
            if job.id in self._chain:  # sync modes: the chunk runs right after its prefill, on the same frame
                tick = self._chain.pop(job.id)
                self._submit(self.cfg.executor_call, t, obs_tick=tick)
                self._ref(tick, -1)
        else:
            self._arrive(job, result, t)

    def _arrive(self, job: JobRecord, actions: Any, t: int) -> None:
        n = len(actions)
        if n < 1:
            raise ValueError(f"call {job.call!r} (job {job.id}) returned an empty action chunk")
        job.n_actions = n
        if self._executor_job is job:
            self._executor_job = None
        self._chunks_since_refresh += 1
        next_tick = ceil_div(t, self.dt)  # first tick not started yet at time t
        if self.cfg.mode == "async":
            first = max(job.obs_tick, next_tick)
            stale = min(n, first - job.obs_tick)
            fresh = [actions[i] for i in range(stale, n)]
            placed, discarded = self._queue.merge(first, fresh, job.id, self.cfg.merge) if fresh else (0, 0)
        else:
            # Synchronous deployment: execute the chunk from its first action once it is there.
            first, stale = next_tick, 0
            placed = min(self.cfg.execute_len, n)
            self._queue.merge(first, [actions[i] for i in range(placed)], job.id, "replace")
            discarded = n - placed
            self._next_cycle_tick = first + placed
            self._cycle_busy = False
        self.timeline.arrivals.append(ArrivalRecord(job=job.id, time_us=t, obs_tick=job.obs_tick, n_actions=n,
                                                    stale=stale, placed=placed, discarded=discarded,
                                                    first_tick=first if placed else None))

    # ----------------------------------------------------------------------------------------- policy logic
    def _submit_jobs(self, t: int) -> bool:
        return self._submit_async(t) if self.cfg.mode == "async" else self._submit_sync(t)

    def _submit_sync(self, t: int) -> bool:
        """frozen / blocking: one call (or prefill then chunk) per cycle, at the tick after the last
        executed action of the previous cycle."""
        if self._cycle_busy or t != self._next_cycle_tick * self.dt:
            return False
        self._cycle_busy = True
        k = t // self.dt
        if self.cfg.has_planner and (self._ctx is None or self._chunks_since_refresh >= self.cfg.refresh_every):
            job = self._submit(PLANNER_CALL, t)
            self._chain[job.id] = k
            self._ref(k, +1)  # the chained chunk will need this frame too
        else:
            self._submit(self.cfg.executor_call, t)
        return True

    def _planner_pending(self) -> bool:
        return any(j.call == PLANNER_CALL and j.status in ("queued", "running") for j in self.timeline.jobs)

    def _submit_async(self, t: int) -> bool:
        cfg = self.cfg
        submitted = False
        if cfg.has_planner:
            if self._ctx is None and not self._planner_pending():
                self._submit(PLANNER_CALL, t)  # t = 0: the first planner pass; the robot holds meanwhile
                submitted = True
            elif self._ctx is not None and self._chunks_since_refresh >= cfg.refresh_every:
                self._submit(PLANNER_CALL, t)
                submitted = True
        if self._executor_job is not None or self._queue.remaining(ceil_div(t, self.dt)) > cfg.trigger:
            return submitted
        if self._last_executor_submit_us == t:
            # At most one executor request per instant: with zero latency a chunk landing mid-tick loses its
            # first action to staleness and could otherwise re-trigger forever without time passing.
            return submitted
        if not cfg.has_planner:
            self._submit(cfg.executor_call, t)
            return True
        ctx = self._ctx
        if ctx is None:
            return submitted  # waiting for the first context
        age = t - ctx.obs_time_us
        if cfg.max_context_age_us is not None and age > cfg.max_context_age_us:
            if self._waited_on != ctx.version:
                self.timeline.waits.append(WaitRecord(time_us=t, context_version=ctx.version, age_us=age))
                self._waited_on = ctx.version
            # Ask for a refresh unless one is on its way or none could be fresher than the newest context.
            if not self._planner_pending() and ctx.obs_tick < t // self.dt:
                self._submit(PLANNER_CALL, t)
                submitted = True
            return submitted
        self._submit(cfg.executor_call, t)
        return True
