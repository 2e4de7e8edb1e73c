"""One way to spread independent jobs over worker processes: eval episodes, demo collection, the expert table.

Workers start from a ``forkserver`` (a clean interpreter: no SAPIEN or torch state inherited from the parent) with
one compute thread each, since these machines have few cores and workers would fight over them. Jobs are
submitted in the order given, a few per worker at a time, so workers walk a task-ordered list task by task and
build each task's simulator about once.

A worker that dies (a segfault in the simulator, an ``os._exit``) breaks the pool and every job pending in it.
Those jobs are run again one at a time in a one-worker pool: a pool that dies then was killed by that very job,
which alone is reported lost; the others still run.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger(__name__)

J = TypeVar("J")
R = TypeVar("R")

#: Jobs in flight per worker: enough to keep a worker busy between results, few enough to keep the order.
IN_FLIGHT = 2
#: How often ``poll`` runs while results are awaited (seconds).
POLL_S = 0.2


def limit_threads() -> None:
    """One compute thread per process: the machines have few cores and workers would fight for them."""
    for var in ("LP_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # torch is a dependency, but the pool itself does not need it
        pass


def pool_context() -> Any:
    """The multiprocessing context of every pool (for queues shared with the workers)."""
    return mp.get_context("forkserver")


def _init(initializer: Callable[..., None] | None, initargs: tuple) -> None:
    limit_threads()  # (importing ahabench already set ManiSkill's no-asset-prompt variable, ahabench/__init__.py)
    if initializer is not None:
        initializer(*initargs)


def make_pool(workers: int, initializer: Callable[..., None] | None = None, initargs: tuple = ()) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(), initializer=_init,
                               initargs=(initializer, initargs))


def run_jobs(fn: Callable[[J], R], jobs: Sequence[J], workers: int, on_result: Callable[[J, R], None], *,
             on_lost: Callable[[J, BaseException], None] | None = None,
             on_error: Callable[[J, BaseException], None] | None = None,
             initializer: Callable[..., None] | None = None, initargs: tuple = (),
             poll: Callable[[], None] | None = None) -> None:
    """Run ``fn(job)`` for every job on ``workers`` processes; ``on_result(job, result)`` in completion order.

    on_lost(job, exc): a job whose worker died while running it (default: raise). on_error(job, exc): a job
    whose ``fn`` raised (default: raise). poll(): called every :data:`POLL_S` while waiting (progress queues).
    ``fn`` and the jobs must be picklable (module-level functions, plain data).
    """
    queue = list(jobs)
    lost: list[J] = []

    def deliver(job: J, fut: Future) -> None:
        try:
            res = fut.result()
        except BrokenProcessPool:
            lost.append(job)
            return
        except Exception as exc:  # noqa: BLE001 - the caller decides what a failed job means
            if on_error is None:
                raise
            on_error(job, exc)
            return
        on_result(job, res)

    with make_pool(workers, initializer, initargs) as pool:
        pending: dict[Future, J] = {}
        while queue or pending:
            while queue and len(pending) < IN_FLIGHT * workers:
                job = queue.pop(0)
                try:
                    pending[pool.submit(fn, job)] = job
                except BrokenProcessPool:  # the pool broke before this job was handed out
                    lost.append(job)
            if not pending:
                break
            done, _ = wait(pending, timeout=POLL_S if poll is not None else None, return_when=FIRST_COMPLETED)
            if poll is not None:
                poll()
            for fut in done:
                deliver(pending.pop(fut), fut)
            if lost:  # a broken pool fails everything it holds: hand the rest to the one-at-a-time pass
                lost.extend(pending.values())
                lost.extend(queue)
                pending.clear()
                queue.clear()
    if lost:
        _run_one_at_a_time(fn, lost, jobs, on_result, on_lost, on_error, initializer, initargs, poll)


def _run_one_at_a_time(fn: Callable[[J], R], lost: list[J], jobs: Sequence[J], on_result: Callable[[J, R], None],
                       on_lost: Callable[[J, BaseException], None] | None,
                       on_error: Callable[[J, BaseException], None] | None,
                       initializer: Callable[..., None] | None, initargs: tuple, poll: Callable[[], None] | None) -> None:
    order = {id(j): i for i, j in enumerate(jobs)}
    log.warning("a worker process died; running %d jobs one at a time to find the culprit", len(lost))
    pool: ProcessPoolExecutor | None = None
    try:
        for job in sorted(lost, key=lambda j: order.get(id(j), 0)):
            pool = pool or make_pool(1, initializer, initargs)
            fut = pool.submit(fn, job)
            while poll is not None and not fut.done():
                time.sleep(POLL_S)
                poll()
            try:
                res = fut.result()
            except BrokenProcessPool as exc:
                pool.shutdown(wait=True)
                pool = None
                if on_lost is None:
                    raise
                on_lost(job, exc)
                continue
            except Exception as exc:  # noqa: BLE001 - as in run_jobs
                if on_error is None:
                    raise
                on_error(job, exc)
                continue
            on_result(job, res)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


__all__ = ["IN_FLIGHT", "limit_threads", "pool_context", "make_pool", "run_jobs"]
