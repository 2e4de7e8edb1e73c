"""Multi-episode evaluation runs: plan (task, seed) episodes, execute them (in-process or in a
forkserver pool), write the run directory, resume interrupted runs.

Run directory: ``manifest.json`` (config, seeds, versions, git commit, host), ``episodes.jsonl``
(one EpisodeRecord per line; appended durably as episodes finish, rewritten sorted by task then seed
when the run completes), ``summary.csv`` / ``summary.json`` (see :mod:`ahabench.rundir`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ahabench.engine.workers import EpisodeJob, EpisodeWorker, WorkerConfig, crash_record, init_pool_worker, run_in_pool
from ahabench.latency import DEFAULT_LATENCY, DEFAULT_PROFILE, LATENCY_KINDS
from ahabench.policy import PolicyUnreachableError
from ahabench.pool import limit_threads, run_jobs
from ahabench.records import EpisodeRecord
from ahabench.rundir import (
    EPISODES,
    EpisodeWriter,
    GroupSummary,
    read_episodes,
    read_manifest,
    summarize,
    write_manifest,
    write_sorted_episodes,
    write_summary,
)

log = logging.getLogger(__name__)

# Config keys that must match for --resume to continue a run rather than mix two different ones.
# ``episodes`` may differ: resuming with a larger -n extends a run. A run never deletes recorded episodes.
_RESUME_KEYS = ("policy", "tasks", "setting", "mode", "profile", "latency", "device", "latency_scale", "fixed_ms",
                "seed", "seeds", "policy_kwargs", "env_kwargs", "task_args", "two_devices", "stop_on_success")
#: Config keys added after runs were first written, with the value a run written before them had.
_ADDED_KEYS: dict[str, Any] = {"task_args": {}}


#: Where a run's episodes execute: this machine's worker processes, or Ray tasks (ahabench.engine.ray_executor).
EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines an evaluation run (stored verbatim in manifest.json)."""

    policy: str
    tasks: list[str]
    episodes: int
    setting: str = "clean"
    mode: str | None = None  # None: the policy's default mode
    profile: str = DEFAULT_PROFILE
    latency: str = DEFAULT_LATENCY
    device: str | None = None
    latency_scale: float = 1.0
    fixed_ms: float | None = None
    seed: int = 0  # eval seed base: seeds start at 100000 * (1 + seed)
    seeds: dict[str, list[int]] | None = None  # explicit seeds per task (skips the expert filter)
    workers: int = 1
    two_devices: bool = False
    stop_on_success: bool = True
    video: bool = False
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)  # TaskEnv kwargs: camera size
    task_args: dict[str, Any] = field(default_factory=dict)  # kwargs of every task's env class (level, speed)
    imports: list[str] = field(default_factory=list)  # modules that register extra tasks / policies
    executor: str = "local"  # "local" (this machine's processes) or "ray" (ahabench.engine.ray_executor)
    ray_address: str | None = None  # None: a local Ray on ``workers`` CPUs; "auto" / "ray://...": a cluster

    def validate(self) -> None:
        from ahabench.task_registry import SETTINGS

        if self.episodes < 1:
            raise ValueError(f"episodes must be >= 1, got {self.episodes!r}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers!r}")
        if self.setting not in SETTINGS:
            raise ValueError(f"unknown setting {self.setting!r}; choices: {', '.join(SETTINGS)}")
        if self.latency not in LATENCY_KINDS:
            raise ValueError(f"unknown latency model {self.latency!r}; choices: {', '.join(LATENCY_KINDS)}")
        if self.executor not in EXECUTORS:
            raise ValueError(f"unknown executor {self.executor!r}; choices: {', '.join(EXECUTORS)}")
        if self.ray_address is not None and self.executor != "ray":
            raise ValueError(f"--ray-address {self.ray_address!r} needs --executor ray")
        if self.latency_scale <= 0:
            raise ValueError(f"latency scale must be > 0, got {self.latency_scale!r}")
        if not self.tasks:
            raise ValueError("no tasks to evaluate")


@dataclass
class Progress:
    """One finished episode, as reported to a progress callback."""

    record: EpisodeRecord
    done: int
    total: int
    task_done: int
    task_total: int
    task_successes: int


@dataclass
class RunResult:
    out: Path
    config: RunConfig
    records: list[EpisodeRecord]
    summary: list[GroupSummary]
    seeds: dict[str, list[int]]

    @property
    def overall(self) -> GroupSummary:
        return self.summary[-1]


def resolve_mode(policy: str, mode: str | None, policy_kwargs: dict[str, Any] | None = None) -> tuple[str, Any]:
    """(mode, policy): the policy's default mode when none is asked for; an unsupported mode raises naming
    the choices."""
    from ahabench.policy_registry import make_policy

    pol = make_policy(policy, **(policy_kwargs or {}))
    spec = pol.spec
    if mode is None:
        return spec.default_mode, pol
    if mode not in spec.modes:
        raise ValueError(f"policy {policy!r} does not support mode {mode!r}; choices: {', '.join(spec.modes)}")
    return mode, pol


def check_latency(cfg: RunConfig, policy: Any) -> Any:
    """Build the latency model once up front: an unknown profile, a malformed profile file or a profile
    without this policy's calls fails the run before any episode instead of crashing every episode."""
    from ahabench.latency import make_latency_model

    model = make_latency_model(cfg.latency, cfg.profile, device=cfg.device, scale=cfg.latency_scale,
                               fixed_ms=cfg.fixed_ms)
    model.check(policy.spec.name, policy.spec.calls, cost=policy.cost)
    return model


def plan_seeds(cfg: RunConfig) -> dict[str, list[int]]:
    if cfg.seeds is not None:
        missing = [t for t in cfg.tasks if t not in cfg.seeds]
        if missing:
            raise ValueError(f"explicit seeds given but none for tasks {missing}")
        return {t: [int(s) for s in cfg.seeds[t]][: cfg.episodes] for t in cfg.tasks}
    from ahabench.seeds import eval_seeds

    return {t: list(eval_seeds(t, cfg.episodes, cfg.setting, cfg.seed, cfg.task_args)) for t in cfg.tasks}


def check_task_args(cfg: RunConfig) -> None:
    """Build each task's env once with ``cfg.task_args``: an argument a task does not take, or a value it refuses,
    fails the run up front naming it, instead of crashing every episode."""
    if not cfg.task_args:
        return
    from ahabench.seeds import task_env_kwargs
    from ahabench.task_registry import make_task_env

    for task in cfg.tasks:
        try:
            make_task_env(task, render=False, **task_env_kwargs(cfg.task_args)).close()
        except (TypeError, ValueError) as e:
            raise ValueError(f"bad --task-arg {cfg.task_args} for task {task!r}: {e}") from None


def _check_resume(out: Path, cfg_dict: dict[str, Any]) -> None:
    old = read_manifest(out).config
    diff = [k for k in _RESUME_KEYS if old.get(k, _ADDED_KEYS.get(k)) != cfg_dict.get(k)]
    if diff:
        detail = ", ".join(f"{k}: {old.get(k)!r} -> {cfg_dict.get(k)!r}" for k in diff)
        raise ValueError(f"cannot resume {out}: the run was made with a different config ({detail}); "
                         "use another output dir")


def run_eval(cfg: RunConfig, out: Path, resume: bool = False,
             progress: Callable[[Progress], None] | None = None) -> RunResult:
    """Evaluate ``cfg.policy`` on every (task, seed) of the plan and write the run directory ``out``."""
    cfg.validate()
    import importlib

    for mod in cfg.imports:
        importlib.import_module(mod)
    mode, policy = resolve_mode(cfg.policy, cfg.mode, cfg.policy_kwargs)
    cfg = replace(cfg, mode=mode)  # the config as run: the policy's default mode made explicit
    try:
        latency = check_latency(cfg, policy)
    finally:
        policy.close()  # workers build their own; this one only answered questions about its spec
    out = Path(out)
    ep_path = out / EPISODES
    cfg_dict = asdict(cfg)
    if ep_path.exists() and ep_path.stat().st_size > 0 and not resume:
        raise FileExistsError(f"{out} already holds episodes; pass resume=True (--resume) or another output dir")
    if resume and (out / "manifest.json").exists():
        _check_resume(out, cfg_dict)
    check_task_args(cfg)
    seeds = plan_seeds(cfg)
    out.mkdir(parents=True, exist_ok=True)
    write_manifest(out, cfg_dict, seeds)

    done_recs = read_episodes(ep_path, repair=True) if resume else []
    plan = [(t, s) for t in cfg.tasks for s in seeds[t]]
    wanted = set(plan)
    have = {(r.task, r.seed) for r in done_recs}
    records = list(done_recs)
    jobs = [EpisodeJob(t, s, i) for i, (t, s) in enumerate(plan) if (t, s) not in have]
    if have:
        log.info("resuming %s: %d episodes recorded, %d to run", out, len(have & wanted), len(jobs))

    worker_cfg = WorkerConfig(
        policy=cfg.policy, mode=cfg.mode, setting=cfg.setting, profile=cfg.profile, latency=cfg.latency,
        profile_name=latency.name, latency_kind=latency.kind, run_dir=str(out), device=cfg.device,
        latency_scale=cfg.latency_scale, fixed_ms=cfg.fixed_ms, two_devices=cfg.two_devices,
        stop_on_success=cfg.stop_on_success, video_dir=str(out / "videos") if cfg.video else None,
        policy_kwargs=dict(cfg.policy_kwargs), env_kwargs=dict(cfg.env_kwargs), task_args=dict(cfg.task_args),
        imports=tuple(cfg.imports))
    task_total = {t: len(seeds[t]) for t in cfg.tasks}
    task_done = {t: sum(1 for r in records if r.task == t and (r.task, r.seed) in wanted) for t in cfg.tasks}
    task_succ = {t: sum(1 for r in records if r.task == t and r.success_once and (r.task, r.seed) in wanted)
                 for t in cfg.tasks}

    with EpisodeWriter(ep_path) as writer:
        def finish(rec: EpisodeRecord) -> None:
            writer.write(rec)
            records.append(rec)
            task_done[rec.task] += 1
            task_succ[rec.task] += int(rec.success_once)
            if progress is not None:
                progress(Progress(rec, sum(task_done.values()), len(plan), task_done[rec.task], task_total[rec.task],
                                  task_succ[rec.task]))

        try:
            if cfg.executor == "ray":
                from ahabench.engine.ray_executor import run_ray

                run_ray(worker_cfg, jobs, finish, cfg.workers, cfg.ray_address)
            elif cfg.workers == 1 or len(jobs) <= 1:
                _run_inline(worker_cfg, jobs, finish)
            else:
                _run_pool(worker_cfg, jobs, min(cfg.workers, len(jobs)), finish)
        except PolicyUnreachableError as e:
            raise PolicyUnreachableError(f"{e}; the run stopped after {len(records)} of {len(plan)} episodes, which "
                                         f"are kept in {out} (continue with --resume)") from None

    records = write_sorted_episodes(ep_path, records)
    rows = summarize(records)
    write_summary(out, rows, meta={"policy": cfg.policy, "mode": cfg.mode, "setting": cfg.setting,
                                   "profile": cfg.profile, "latency": cfg.latency})
    return RunResult(out, cfg, records, rows, seeds)


def _run_inline(cfg: WorkerConfig, jobs: list[EpisodeJob], finish: Callable[[EpisodeRecord], None]) -> None:
    # Same thread budget as a pool worker: torch's default (one thread per core) oversubscribes the CPU as soon
    # as anything else runs, and made a tiny-model episode ~20x slower in a measured case.
    limit_threads()
    worker = EpisodeWorker(cfg)
    try:
        for job in jobs:
            finish(worker.run(job)[0])
    finally:
        worker.close()


def _run_pool(cfg: WorkerConfig, jobs: list[EpisodeJob], n: int,
              finish: Callable[[EpisodeRecord], None]) -> None:
    """Episodes spread over ``n`` worker processes (:mod:`ahabench.pool`); one whose worker died is recorded
    as a crash and the others still run."""

    def lost(job: EpisodeJob, _exc: BaseException) -> None:
        finish(crash_record(cfg, job.task, job.seed, RuntimeError("the worker process died during this episode")))

    run_jobs(run_in_pool, jobs, n, lambda _job, rec: finish(rec), on_lost=lost, initializer=init_pool_worker,
             initargs=(cfg,))
