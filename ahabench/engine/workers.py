"""Episode execution inside one process: build each task's env once, run episodes, isolate crashes.

The same :class:`EpisodeWorker` runs in-process (``workers=1``) and in each pool process
(``workers>1``, forkserver), so both paths produce byte-identical records: every episode starts from
``reset(seed)`` with a fresh latency model and freshly seeded global RNGs, whatever ran before it.
"""

from __future__ import annotations

import importlib
import logging
import random
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ahabench.policy import PolicyUnreachableError
from ahabench.records import EpisodeRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs to run a run's episodes (frozen, picklable: it crosses to pool processes as is).

    mode: resolved (never None); profile_name / latency_kind: the latency model's own names, for records;
    run_dir: where each episode's timeline is kept; video_dir: where MP4s go (None: no video)."""

    policy: str
    mode: str
    setting: str
    profile: str
    latency: str
    profile_name: str
    latency_kind: str
    run_dir: str
    device: str | None = None
    latency_scale: float = 1.0
    fixed_ms: float | None = None
    two_devices: bool = False
    stop_on_success: bool = True
    video_dir: str | None = None
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    task_args: dict[str, Any] = field(default_factory=dict)
    imports: tuple[str, ...] = ()


@dataclass(frozen=True)
class EpisodeJob:
    task: str
    seed: int
    index: int  # position in the run's (task, seed) plan, for progress only


def seed_everything(seed: int) -> None:
    """Seed the global RNGs a policy might use, so an episode's result depends on its seed only."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def crash_record(cfg: WorkerConfig, task: str, seed: int, exc: BaseException, policy: str | None = None) -> EpisodeRecord:
    """The record of an episode that raised: a failure, flagged ``error_kind='crash'``. ``policy``: the name the
    policy's own records carry (a served policy's, for ``remote``), when it was built."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno} in {tb[-1].name}" if tb else ""
    return EpisodeRecord(
        task=task, setting=cfg.setting, seed=seed, policy=policy or cfg.policy, mode=cfg.mode,
        profile=cfg.profile_name, latency=cfg.latency_kind, success_once=False, success_at_end=False,
        t_success_s=None, sim_time_s=0.0, ticks=0, n_chunks=0, n_prefills=0, chunk_ms_mean=None,
        chunk_ms_p50=None, chunk_ms_p95=None, chunk_ms_p99=None, prefill_ms_mean=None, prefill_ms_p50=None,
        prefill_ms_p95=None, chunk_hz=None, achieved_chunk_rate=None, reaction_ms_p50=None,
        reaction_ms_p95=None, stale_ratio=0.0, hold_ratio=0.0, context_age_ms_p50=None,
        context_age_ms_max=None, actions_produced=0, actions_stale=0, ticks_held=0, frames_rendered=0,
        frames_consumed=0, error=f"{type(exc).__name__}: {exc}", error_kind="crash",
        reproducible=cfg.latency != "measured", extra={"where": where},
    )


class EpisodeWorker:
    """Runs episodes of one run configuration."""

    def __init__(self, cfg: WorkerConfig):
        self.cfg = cfg
        for mod in cfg.imports:
            importlib.import_module(mod)  # modules named with --import that register tasks / policies
        self._task: str | None = None
        self._env: Any = None
        self._policy: Any = None

    def _get_env(self, task: str) -> Any:
        if self._task != task:
            self._close_env()
            from ahabench.seeds import task_env_kwargs
            from ahabench.task_registry import make_task_env

            self._env = make_task_env(task, **self.cfg.env_kwargs, **task_env_kwargs(self.cfg.task_args))
            self._task = task
        return self._env

    def _get_policy(self) -> Any:
        if self._policy is None:
            from ahabench.policy_registry import make_policy

            self._policy = make_policy(self.cfg.policy, **self.cfg.policy_kwargs)
        return self._policy

    def _close_env(self) -> None:
        if self._env is not None:
            try:
                self._env.close()
            except Exception:  # a broken env must not hide the error that broke it
                log.exception("closing env of task %s failed", self._task)
        self._env, self._task = None, None

    def _close_policy(self) -> None:
        if self._policy is not None:
            try:
                self._policy.close()
            except Exception:  # a broken policy must not hide the error that broke it
                log.exception("closing policy %s failed", self.cfg.policy)
        self._policy = None

    def close(self) -> None:
        self._close_env()
        self._close_policy()

    def run(self, job: EpisodeJob, record_timeline: bool = False) -> tuple[EpisodeRecord, Any]:
        cfg = self.cfg
        try:
            from ahabench.engine.episode import run_episode
            from ahabench.latency import make_latency_model

            # Latency models are stateless per call (draws keyed on seed, call, index): a fresh one per
            # episode costs nothing and rules out any carry-over between episodes.
            latency = make_latency_model(cfg.latency, cfg.profile, device=cfg.device, scale=cfg.latency_scale,
                                         fixed_ms=cfg.fixed_ms)
            env = self._get_env(job.task)
            policy = self._get_policy()
            recorder = None
            if cfg.video_dir:
                from ahabench.engine.video import FrameRecorder

                env = recorder = FrameRecorder(env)
            seed_everything(job.seed)
            # run_episode binds the env to privileged policies (the expert) and to those only. Every episode's
            # timeline is kept beside its record (cfg.run_dir).
            rec, timeline = run_episode(env, policy, seed=job.seed, setting=cfg.setting, mode=cfg.mode,
                                        latency=latency, two_devices=cfg.two_devices,
                                        stop_on_success=cfg.stop_on_success, task_args=cfg.task_args,
                                        record_timeline=record_timeline or bool(cfg.run_dir))
            if recorder is not None:
                recorder.save(Path(cfg.video_dir) / f"{job.task}_seed{job.seed}.mp4")
            if cfg.run_dir and timeline is not None:
                from ahabench.rundir import write_timeline

                write_timeline(Path(cfg.run_dir), job.task, job.seed, timeline)
            return rec, timeline
        except PolicyUnreachableError:
            raise  # no later episode can run either: the run stops, keeping what it recorded
        except Exception as e:  # crash isolation: record it, rebuild env and policy, keep going
            log.warning("episode %s seed %d crashed: %s", job.task, job.seed, e, exc_info=True)
            name = self._policy.spec.name if self._policy is not None else None
            self._close_env()
            self._close_policy()
            return crash_record(cfg, job.task, job.seed, e, policy=name), None


# ---- process-pool plumbing: one worker object per pool process ----
_WORKER: EpisodeWorker | None = None


def init_pool_worker(cfg: WorkerConfig) -> None:
    global _WORKER
    _WORKER = EpisodeWorker(cfg)  # ahabench.pool has limited the threads already


def run_in_pool(job: EpisodeJob) -> EpisodeRecord:
    assert _WORKER is not None, "init_pool_worker was not run in this process"
    return _WORKER.run(job)[0]
