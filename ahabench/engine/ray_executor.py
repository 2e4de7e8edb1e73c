"""Episodes as Ray tasks: ``--executor ray``, on this machine's cores or on a cluster (``--ray-address``).

Each episode is one Ray task running the same :class:`~ahabench.engine.workers.EpisodeWorker` as the local pool
(one per worker process, kept between tasks, so a worker builds each task's simulator about once), so a Ray run
writes byte-identical records to ``--workers 1``. The driver submits the episodes in plan order, a few per CPU at a
time, and hands each record to the run's writer as it arrives (the run rewrites episodes.jsonl sorted at the end,
and resumes from what was written, as a local run does).

A worker process that dies during an episode (a simulator segfault, an out-of-memory kill) makes Ray run that
episode again once (``max_retries=1``); if it dies again the episode is recorded as a failure with
``error_kind="infra"`` and the reason, and the run goes on. An exception inside the episode is not retried: the
worker records it as a crash, as locally; a policy server that cannot be reached stops the run, as locally, and the
episodes still in flight are cancelled.

Ray is imported only here, only when asked for. Without an address a new local Ray instance is started on
``workers`` CPUs (even where ``RAY_ADDRESS`` names a cluster) and stopped after the run; ``auto`` or
``ray://HOST:PORT`` joins a running cluster, where every node needs the same ahabench installed and a Vulkan driver
(README, "Running on a cluster").
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ahabench.engine.workers import EpisodeJob, EpisodeWorker, WorkerConfig, crash_record
from ahabench.policy import PolicyUnreachableError
from ahabench.records import EpisodeRecord

log = logging.getLogger(__name__)

#: Episodes in flight per CPU: enough to keep each worker busy between results.
IN_FLIGHT_PER_CPU = 2
#: Times Ray runs an episode again after its worker process died.
MAX_RETRIES = 1

_WORKER: list[Any] = [None, None]  # in each Ray worker process: (run config, its EpisodeWorker)


def _run_task(cfg: WorkerConfig, job: EpisodeJob) -> EpisodeRecord:
    """The body of one Ray task (runs in a Ray worker process)."""
    if _WORKER[0] != cfg:
        from ahabench.pool import limit_threads

        limit_threads()  # one compute thread per process, as in the local pool
        if _WORKER[1] is not None:  # a new run config (compare, sweep): the previous run's envs are not needed
            _WORKER[1].close()
        _WORKER[:] = [cfg, EpisodeWorker(cfg)]
    return _WORKER[1].run(job)[0]


def _interpreter_dirs() -> list[str]:
    """The interpreter's own module directories (standard library, site-packages): every node has its own."""
    import site
    import sysconfig

    dirs = [sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    dirs += [sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})[k]
             for k in ("stdlib", "platstdlib")]
    dirs += [*site.getsitepackages(), site.getusersitepackages()]
    return [os.path.realpath(d) for d in dirs]


def import_path() -> list[str]:
    """The driver's module search path that Ray's workers need too: the directories of modules given with --import
    (the user's PYTHONPATH, the current directory), the test helpers, a source checkout; not the interpreter's own
    directories, which must not come before a node's standard library."""
    own = _interpreter_dirs()
    paths: list[str] = []
    for entry in sys.path:
        path = os.path.abspath(entry or os.curdir)  # "": the current directory
        real = os.path.realpath(path)
        if not os.path.isdir(path) or path in paths or any(real == d or real.startswith(d + os.sep) for d in own):
            continue
        paths.append(path)
    return paths


def _runtime_env() -> dict[str, Any]:
    """What Ray's worker processes need to import what this driver imports (see :func:`import_path`)."""
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(import_path())}}


@contextmanager
def ray_session(address: str | None, num_cpus: int) -> Iterator[None]:
    """Ray for the duration of the block: joins the instance already running in this process, else starts a local
    one on ``num_cpus`` CPUs (``address`` None) or connects to ``address``, and stops what it started."""
    import ray

    if ray.is_initialized():
        yield
        return
    kwargs: dict[str, Any] = dict(log_to_driver=False, runtime_env=_runtime_env(), configure_logging=False)
    if address is None:  # "local": a new instance even where RAY_ADDRESS or a `ray start` on this machine names one
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, **kwargs)
    else:
        ray.init(address=address, **kwargs)
    try:
        yield
    finally:
        ray.shutdown()


def run_ray(cfg: WorkerConfig, jobs: Sequence[EpisodeJob], finish: Callable[[EpisodeRecord], None],
            workers: int, address: str | None = None) -> None:
    """Run ``jobs`` as Ray tasks; ``finish(record)`` for each in completion order (the caller sorts)."""
    import ray
    from ray.exceptions import RayError, RayTaskError

    with ray_session(address, workers):
        task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(_run_task)
        cpus = max(1, int(ray.cluster_resources().get("CPU", workers)))  # all of them: the cluster may be busy now
        queue = list(jobs)
        pending: dict[Any, EpisodeJob] = {}
        try:
            while queue or pending:
                while queue and len(pending) < IN_FLIGHT_PER_CPU * cpus:
                    job = queue.pop(0)
                    pending[task.remote(cfg, job)] = job
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    job = pending.pop(ref)
                    try:
                        rec = ray.get(ref)
                    except RayTaskError as e:  # raised by the episode's code and let through on purpose (a lost server)
                        if isinstance(e.cause, PolicyUnreachableError):
                            raise e.cause from None
                        raise e.as_instanceof_cause() from None  # keeps the worker's traceback in its message
                    except RayError as e:  # the worker died on every try: an infrastructure failure, not the policy's
                        log.warning("episode %s seed %d lost its worker %d times: %s", job.task, job.seed,
                                    MAX_RETRIES + 1, e)
                        why = RuntimeError(f"the Ray worker running this episode died on each of {MAX_RETRIES + 1} "
                                           f"tries ({type(e).__name__})")
                        rec = dataclasses.replace(crash_record(cfg, job.task, job.seed, why), error_kind="infra")
                    finish(rec)
        finally:  # a run that stops early leaves nothing running in a Ray instance that outlives it (compare, sweep)
            for ref in pending:
                ray.cancel(ref)


__all__ = ["MAX_RETRIES", "import_path", "ray_session", "run_ray"]
