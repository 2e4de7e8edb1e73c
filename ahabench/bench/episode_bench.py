"""Where an evaluation episode's wall time goes: physics, rendering, model calls, the reset, and the harness.

Per task, one episode of a policy through the clock (``run_episode``, the code every evaluation runs), with the
env and the policy behind timing proxies: ``reset_s`` (``TaskEnv.reset``, which rebuilds the scene),
``physics_s`` (``step``), ``render_s`` (``observe``: rendering the cameras the policy is shown), ``model_s`` (the
policy's ``reset``/``prefill``/``act``), and ``harness_s``: everything else of the episode's wall time (the clock's
scheduler, action checks, the latency model, the record). ``harness_frac`` = harness_s / episode_s. Each task's
env is built and rendered once before the timed episode, so the per-process warm-up (the render pipeline, the
policy's first call) is reported apart (``build_s``, ``warmup_s``), not charged to the episode.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ahabench.bench.machine import machine_info

logger = logging.getLogger(__name__)

EPISODE_COLUMNS = ["task", "policy", "mode", "seed", "ticks", "success", "build_s", "warmup_s", "episode_s", "reset_s",
                   "physics_s", "render_s", "model_s", "harness_s", "harness_frac"]
PARTS = ("reset", "physics", "render", "model")


class _Timer:
    def __init__(self) -> None:
        self.s = dict.fromkeys(PARTS, 0.0)

    def timed(self, part: str, fn: Any, *args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.s[part] += time.perf_counter() - t0


class TimedEnv:
    """A transparent TaskEnv proxy that adds the time of reset / step / observe to a :class:`_Timer`."""

    def __init__(self, env: Any, timer: _Timer) -> None:
        self._env, self._t = env, timer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)

    def reset(self, *args: Any, **kwargs: Any) -> Any:
        return self._t.timed("reset", lambda: self._env.reset(*args, **kwargs))

    def step(self, action: Any) -> Any:
        return self._t.timed("physics", self._env.step, action)

    def observe(self, tick: int, time_us: int) -> Any:
        return self._t.timed("render", self._env.observe, tick, time_us)


class TimedPolicy:
    """A transparent Policy proxy that adds the time of the policy's own work to a :class:`_Timer`."""

    def __init__(self, policy: Any, timer: _Timer) -> None:
        self._p, self._t = policy, timer
        self.spec = policy.spec

    def __getattr__(self, name: str) -> Any:
        return getattr(self._p, name)

    def reset(self, episode: Any) -> None:
        self._t.timed("model", self._p.reset, episode)

    def prefill(self, obs: Any) -> Any:
        return self._t.timed("model", self._p.prefill, obs)

    def act(self, obs: Any, context: Any = None, phase_offset: int = 0) -> Any:
        return self._t.timed("model", self._p.act, obs, context, phase_offset)


def time_episode(task: str, policy_name: str = "aha-wam", seed: int = 100000, mode: str | None = None) -> dict[str, Any]:
    """One row of :data:`EPISODE_COLUMNS` for ``task``."""
    from ahabench.engine.episode import run_episode
    from ahabench.engine.workers import seed_everything
    from ahabench.latency import make_latency_model
    from ahabench.policy_registry import make_policy
    from ahabench.task_registry import make_task_env

    t0 = time.perf_counter()
    env = make_task_env(task)
    build_s = time.perf_counter() - t0
    try:
        policy = make_policy(policy_name)
        t0 = time.perf_counter()  # warm-up: the render pipeline and the policy's first call, once per process
        info = env.reset(seed)
        policy.reset(info)
        obs = env.observe(0, 0)
        ctx = policy.prefill(obs) if policy.spec.has_planner else None
        policy.act(obs, ctx, 0)
        warmup_s = time.perf_counter() - t0
        timer = _Timer()
        seed_everything(seed)
        t0 = time.perf_counter()
        rec, _ = run_episode(TimedEnv(env, timer), TimedPolicy(policy, timer), seed=seed, setting="clean", mode=mode,
                             latency=make_latency_model("profile", "rtx5090d-paper"))
        episode_s = time.perf_counter() - t0
    finally:
        env.close()
    harness_s = episode_s - sum(timer.s.values())
    return dict(task=task, policy=policy_name, mode=rec.mode, seed=seed, ticks=rec.ticks, success=rec.success_once,
                build_s=build_s, warmup_s=warmup_s, episode_s=episode_s, **{f"{k}_s": v for k, v in timer.s.items()},
                harness_s=harness_s, harness_frac=harness_s / episode_s if episode_s > 0 else None)


def bench_episodes(out: Path | None, tasks: Sequence[str], policy: str = "aha-wam", seed: int = 100000) -> pd.DataFrame:
    """:func:`time_episode` for every task, one process, one compute thread; writes ``out/episode_time.csv|json``
    with an ``overall`` row (sums over tasks)."""
    from ahabench.pool import limit_threads

    limit_threads()  # as evaluation workers run
    rows = []
    for task in tasks:
        try:
            rows.append(time_episode(task, policy, seed))
        except Exception:  # noqa: BLE001 - one broken task must not cost the others' numbers
            logger.exception("episode timing of %s failed", task)
    df = pd.DataFrame(rows, columns=EPISODE_COLUMNS)
    if len(df):
        total = {c: df[c].sum() for c in ("ticks", "build_s", "warmup_s", "episode_s", "reset_s", "physics_s", "render_s",
                                          "model_s", "harness_s")}
        total.update(task="overall", policy=policy, mode="", seed=seed, success=int(df["success"].sum()),
                     harness_frac=total["harness_s"] / total["episode_s"])
        df = pd.concat([df, pd.DataFrame([total], columns=EPISODE_COLUMNS)], ignore_index=True)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        df.to_csv(out / "episode_time.csv", index=False, float_format="%.4g")
        doc = {"machine": machine_info(), "policy": policy, "seed": seed, "rows": json.loads(df.to_json(orient="records"))}
        (out / "episode_time.json").write_text(json.dumps(doc, indent=2))
    return df
