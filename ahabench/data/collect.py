"""Expert demo collection, following RoboTwin's protocol.

For each task: search seeds upward from 0, or from ``first_seed`` (continuing after the last seed a previous run tried), run the
task's scripted expert closed-loop (one action pulled, one step taken), and keep the episode only if the
expert succeeds. Each step records the joint state and the action; the cameras are rendered only every
``frame_every`` steps (see :mod:`ahabench.data.format` for why and for the file layout). The episode ends
at the first success, as RoboTwin's evaluation does.

``action_noise`` > 0 collects DART-style demos (Laskey et al., 2017): the arm joints execute the expert's
target plus temporally correlated (Ornstein-Uhlenbeck) noise, while the recorded action stays the expert's
clean target. The experts re-plan from the simulated state, so the demos visit states a little off the clean
path and their labels say how to get back: the recoveries a learned policy needs once its own small errors
compound in closed loop. Grippers are never perturbed (a half-closed gripper drops the object, which is a
failed demo, not a recovery). The noise depends only on the seed, so noisy collection is reproducible.

Collection is resumable: the demo files record every tried seed, so a rerun continues where the last one
stopped and never duplicates an episode. Tasks can be spread over worker processes (forkserver, one
thread each: on 2 cores two workers scale ~1.8x for rendering, more are slower).
"""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ahabench.data.format import DemoWriter, EpisodeData, load_meta
from ahabench.envs.camera import DEFAULT_CAMERA_HW

log = logging.getLogger(__name__)

#: Correlation time of the DART noise: long enough that the PD controller cannot filter it out within a
#: step or two (white noise at 25 Hz barely moves the arm), short enough to vary within a grasp approach.
NOISE_TAU_S = 0.4

#: Give up on a task after this many consecutive expert failures: the expert is broken, not unlucky.
MAX_CONSECUTIVE_FAILURES = 25


@dataclass(frozen=True)
class CollectEvent:
    """One progress report: a seed was tried (kept when ``success``)."""

    task: str
    seed: int
    success: bool
    done: int  # episodes kept so far for this task
    total: int  # episodes wanted for this task
    steps: int
    wall_s: float


@dataclass
class TaskCollectStats:
    task: str
    kept: int = 0  # episodes in the file after this run
    new: int = 0  # episodes written by this run
    tried: int = 0  # seeds tried by this run
    failed: int = 0
    steps: int = 0
    frames: int = 0
    wall_s: float = 0.0
    episode_s: list[float] = field(default_factory=list)  # wall time of each kept episode of this run
    error: str | None = None

    @property
    def episode_s_mean(self) -> float | None:
        return float(np.mean(self.episode_s)) if self.episode_s else None


@dataclass
class CollectSummary:
    out: Path
    setting: str
    tasks: dict[str, TaskCollectStats]
    wall_s: float

    @property
    def total_kept(self) -> int:
        return sum(s.kept for s in self.tasks.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "setting": self.setting,
            "wall_s": round(self.wall_s, 3),
            "tasks": {k: {**asdict(v), "episode_s_mean": v.episode_s_mean} for k, v in self.tasks.items()},
        }


def _read_qpos(env: Any) -> np.ndarray:
    """Joint state without rendering (the TaskEnv ABC's observe() renders; collection needs qpos every step)."""
    for name in ("qpos", "get_qpos", "proprio"):
        attr = getattr(env, name, None)
        if attr is not None:
            val = attr() if callable(attr) else attr
            return np.asarray(val, dtype=np.float32).reshape(-1)
    # ahabench.envs.adapter.ManiSkillTaskEnv: the same reader its observe() uses, minus the rendering.
    qpos_fn, inner = getattr(env, "_qpos_fn", None), getattr(env, "env", None)
    if qpos_fn is not None and inner is not None:
        return np.asarray(qpos_fn(inner), dtype=np.float32).reshape(-1)
    raise AttributeError(f"task env {type(env).__name__} exposes no qpos()/get_qpos() to read joint state without rendering")


def _gym_kwargs(env: Any) -> dict[str, Any] | None:
    """gym.make kwargs of the ManiSkill env behind a TaskEnv (None when it has none), JSON-safe."""
    gym_spec = getattr(getattr(env, "env", None), "spec", None)
    if gym_spec is None or not isinstance(getattr(gym_spec, "kwargs", None), dict):
        return None
    return json.loads(json.dumps(gym_spec.kwargs, default=lambda v: list(v) if isinstance(v, tuple) else str(v)))


class JointNoise:
    """Ornstein-Uhlenbeck noise on the arm joints of an action (stationary std ``sigma`` rad), seeded.

    The finger dimension of each arm (index 7 of every 8: ``[7 joints, finger]`` per arm) stays zero.
    """

    def __init__(self, sigma: float, action_dim: int, control_hz: float, seed: int) -> None:
        if sigma < 0:
            raise ValueError(f"action_noise must be >= 0 rad, got {sigma}")
        self.sigma = float(sigma)
        self.rho = float(np.exp(-1.0 / (control_hz * NOISE_TAU_S)))
        self.mask = (np.arange(action_dim) % 8 != 7).astype(np.float32)
        self.rng = np.random.default_rng([int(seed), 0xDA27])
        self.state = self.rng.normal(0.0, self.sigma, action_dim).astype(np.float32) * self.mask

    def __call__(self, action: np.ndarray) -> np.ndarray:
        """The action to execute: ``action`` plus this step's noise (grippers untouched)."""
        out = action + self.state
        eps = self.rng.normal(0.0, self.sigma, self.state.shape).astype(np.float32)
        self.state = (self.rho * self.state + np.sqrt(1.0 - self.rho**2) * eps) * self.mask
        return out.astype(np.float32)


def run_expert_episode(env: Any, seed: int, setting: str, frame_every: int = 4, action_noise: float = 0.0) -> EpisodeData:
    """Run the expert closed-loop on ``seed``; returns the recorded episode (successful or not).

    ``action_noise`` > 0: execute the expert's arm targets plus DART noise (module docstring); the episode
    still records the expert's clean targets as its actions.
    """
    if frame_every < 1:
        raise ValueError(f"frame_every must be >= 1, got {frame_every}")
    t0 = time.perf_counter()
    info = env.reset(seed=seed, setting=setting, unseen_instructions=False)
    dt_us = int(round(1e6 / info.control_hz))
    noise = JointNoise(action_noise, info.action_dim, info.control_hz, seed) if action_noise > 0 else None
    expert = env.expert()
    actions: list[np.ndarray] = []
    qpos: list[np.ndarray] = []
    success: list[bool] = []
    frames: dict[str, list[np.ndarray]] = {}
    frame_steps: list[int] = []

    def observe(t: int) -> None:
        if t % frame_every == 0:
            obs = env.observe(t, t * dt_us)
            for cam, im in obs.images.items():
                frames.setdefault(cam, []).append(np.asarray(im, dtype=np.uint8))
            frame_steps.append(t)
            qpos.append(np.asarray(obs.qpos, dtype=np.float32).reshape(-1))
        else:
            qpos.append(_read_qpos(env))

    t = 0
    while t < info.max_steps:
        observe(t)
        try:
            action = next(expert)
        except StopIteration:
            qpos.pop()  # no action follows this state; re-observed below as the final state
            if frame_steps and frame_steps[-1] == t:
                frame_steps.pop()
                for cam in frames:
                    frames[cam].pop()
            break
        action = np.asarray(action, dtype=np.float32).reshape(-1)
        cond = env.step(noise(action) if noise is not None else action)
        actions.append(action)
        success.append(bool(cond.get("success", False)))
        t += 1
        if success[-1]:
            break
    observe(t)
    a_dim = info.action_dim
    return EpisodeData(
        seed=seed,
        instruction=info.instruction,
        setting=setting,
        actions=np.stack(actions) if actions else np.zeros((0, a_dim), np.float32),
        qpos=np.stack(qpos),
        images={cam: np.stack(v) for cam, v in frames.items()},
        frame_steps=np.asarray(frame_steps, dtype=np.int64),
        success=np.asarray(success, dtype=bool),
        wall_s=time.perf_counter() - t0,
    )


def collect_task(
    task: str,
    episodes: int,
    setting: str,
    out: Path,
    frame_every: int = 4,
    camera_hw: tuple[int, int] = DEFAULT_CAMERA_HW,
    progress: Callable[[CollectEvent], None] | None = None,
    action_noise: float = 0.0,
    first_seed: int = 0,
) -> TaskCollectStats:
    """Collect demos of one task until ``episodes`` successful ones are on disk (``action_noise``: DART, rad)."""
    from ahabench.task_registry import make_task_env, task_spec

    spec = task_spec(task)
    stats = TaskCollectStats(task=task)
    t_start = time.perf_counter()
    header = {
        "env_info": {"env_id": spec.env_id, "env_kwargs": {"camera_hw": list(camera_hw)}, "max_episode_steps": spec.max_steps},
        "source_type": "motionplanning",
        "source_desc": f"ahabench scripted expert, seeds searched upward from {first_seed}, successes only"
        + (f"; arm joints executed with DART noise (OU, std {action_noise} rad), clean targets recorded" if action_noise else ""),
        "action_noise": float(action_noise),
        "first_seed": int(first_seed),
        "task": task,
        "setting": setting,
        "control_mode": "pd_joint_pos",
        "control_hz": spec.control_hz,
        "frame_every": frame_every,
        "camera_hw": list(camera_hw),
    }
    with DemoWriter(out, task, header) as writer:
        stats.kept = writer.n_episodes
        if writer.n_episodes >= episodes:
            stats.wall_s = time.perf_counter() - t_start
            return stats
        env = make_task_env(task, camera_hw=tuple(camera_hw))
        kwargs = _gym_kwargs(env)
        if kwargs is not None:  # the exact gym.make kwargs, so ManiSkill's replay tooling rebuilds this env
            writer.meta["env_info"]["env_kwargs"] = kwargs
        try:
            seed = writer.next_seed
            streak = 0
            while writer.n_episodes < episodes:
                stats.tried += 1
                try:
                    ep = run_expert_episode(env, seed, setting, frame_every, action_noise)
                    ok = bool(ep.success.any())
                except Exception as exc:  # a planner failure is an expert failure on this seed, not a crash
                    log.warning("%s seed %d: expert raised %s: %s", task, seed, type(exc).__name__, exc)
                    ep, ok = None, False
                if ok:
                    writer.write(ep)
                    stats.new += 1
                    stats.steps += ep.length
                    stats.frames += len(ep.frame_steps)
                    stats.episode_s.append(ep.wall_s)
                    streak = 0
                else:
                    writer.record_failure(seed)
                    stats.failed += 1
                    streak += 1
                if progress is not None:
                    length, wall_s = (ep.length, ep.wall_s) if ep else (0, 0.0)
                    progress(CollectEvent(task, seed, ok, writer.n_episodes, episodes, length, wall_s))
                if streak >= MAX_CONSECUTIVE_FAILURES:
                    stats.error = f"expert failed {streak} seeds in a row (last seed {seed}); stopped"
                    log.error("%s: %s", task, stats.error)
                    break
                seed += 1
        finally:
            env.close()
        stats.kept = writer.n_episodes
    stats.wall_s = time.perf_counter() - t_start
    return stats


# ---- worker processes ------------------------------------------------------------------------------

_EVENTS: Any = None


def _worker_init(events: Any) -> None:
    global _EVENTS
    _EVENTS = events


def _worker_task(kwargs: dict[str, Any]) -> TaskCollectStats:
    return collect_task(**kwargs, progress=_EVENTS.put if _EVENTS is not None else None)


def collect_demos(
    tasks: list[str],
    episodes: int,
    setting: str,
    out: Path,
    frame_every: int = 4,
    camera_hw: tuple[int, int] = DEFAULT_CAMERA_HW,
    workers: int = 1,
    progress: Callable[[CollectEvent], None] | None = None,
    action_noise: float = 0.0,
    first_seed: int = 0,
) -> CollectSummary:
    """Collect ``episodes`` successful expert demos per task into ``out`` (resumable; see module docstring)."""
    if setting not in ("clean", "randomized"):
        raise ValueError(f"unknown setting {setting!r}; expected 'clean' or 'randomized'")
    if episodes < 0:
        raise ValueError(f"episodes must be >= 0, got {episodes}")
    if first_seed < 0:
        raise ValueError(f"first_seed must be >= 0, got {first_seed}")
    if action_noise < 0:  # run_expert_episode treats <= 0 as clean: a negative value must not pass for one
        raise ValueError(f"action_noise must be >= 0 rad, got {action_noise}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    jobs = [
        dict(task=t, episodes=episodes, setting=setting, out=out, frame_every=frame_every, camera_hw=tuple(camera_hw),
             action_noise=action_noise, first_seed=first_seed)
        for t in tasks
    ]
    results: dict[str, TaskCollectStats] = {}
    n_workers = max(1, min(int(workers), len(tasks)))
    if n_workers == 1:
        for job in jobs:
            results[job["task"]] = collect_task(**job, progress=progress)
    else:
        from ahabench.pool import pool_context, run_jobs

        events = pool_context().Queue()

        def drain() -> None:
            while True:
                try:
                    ev = events.get_nowait()
                except queue.Empty:
                    return
                if progress is not None:
                    progress(ev)

        def done(job: dict[str, Any], stats: TaskCollectStats) -> None:
            drain()  # the task's last events arrive before its result
            results[job["task"]] = stats

        run_jobs(_worker_task, jobs, n_workers, done, initializer=_worker_init, initargs=(events,), poll=drain)
        drain()
    summary = CollectSummary(out=out, setting=setting, tasks={t: results[t] for t in tasks}, wall_s=time.perf_counter() - t0)
    log.info("collected %d episodes over %d tasks in %.1f s", summary.total_kept, len(tasks), summary.wall_s)
    return summary


def demos_present(out: Path, tasks: list[str], episodes: int) -> bool:
    """True when ``out`` already holds at least ``episodes`` demos of every task."""
    for t in tasks:
        meta = load_meta(out, t)
        if meta is None or len(meta["episodes"]) < episodes:
            return False
    return True
