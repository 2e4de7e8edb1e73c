"""Task speed benchmark: physics-only and rendered control steps per second, and expert episode wall time.

Per task, on one env built with the renderer at the default camera size:

* ``physics_steps_per_s``: control steps/s of ``TaskEnv.step`` alone (no rendering). The actions are the
  expert's first ``physics_steps`` actions from seed 0 (a still robot makes no contacts and would flatter
  the physics), pulled before the clock starts and replayed from the same reset.
* ``render_steps_per_s``: control steps/s of ``step`` followed by rendering every camera
  (``render_images``), the cost of an observation every control step.
* ``build_s`` (env construction), ``prepare_s`` (pulling the expert's actions: its motion planning; for
  ManiSkill tasks a full recorded solution) and ``first_render_s`` (the first render builds the
  renderer's resources: the whole render pipeline for the first task, see :func:`render_keepalive`) are
  reported separately and excluded from the rates.
* ``expert_episode_wall_s``: one full expert episode (seed 0, no rendering, ends at first success), with
  its step count and outcome; includes the expert's motion planning.

Wall-clock numbers on a shared machine depend on its load: the output carries :func:`machine_info`, and
each rate also comes as CPU time of this process (``physics_cpu_steps_per_s``, ``render_cpu_ms_per_step``:
``time.process_time``, all its threads), which does not count waiting for a core.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ahabench.bench.machine import machine_info

logger = logging.getLogger(__name__)

TASK_COLUMNS = ["task", "suite", "cameras", "camera_h", "camera_w", "build_s", "prepare_s", "first_render_s",
                "physics_steps", "physics_steps_per_s", "physics_cpu_steps_per_s", "render_steps",
                "render_steps_per_s", "render_ms_per_step", "render_cpu_ms_per_step",
                "expert_success", "expert_steps", "expert_episode_wall_s", "expert_episode_cpu_s",
                "expert_steps_per_s"]


def _expert_actions(env, seed: int, n: int) -> list[np.ndarray]:
    """The first ``n`` expert actions of episode ``seed`` (padded with holds if the expert stops early).
    Leaves the env mid-episode (ManiSkill experts record by playing): callers reset afterwards."""
    env.reset(seed)
    actions: list[np.ndarray] = []
    for a in env.expert():
        actions.append(np.asarray(a, dtype=np.float32))
        if len(actions) == n:
            break
    while len(actions) < n:
        actions.append(actions[-1] if actions else env.hold_action())
    return actions


def render_keepalive():
    """A SAPIEN render system on the CPU Vulkan device, to hold while envs are built and closed one after
    another. The first render in a fresh render context compiles the pipelines (~7 s of CPU with lavapipe);
    the context, and that work, is freed with the last render system using it. Holding one keeps it for
    every task (measured: the next task's first render drops from ~6.6 s to ~0.02 s of CPU). None if the
    device cannot render."""
    import sapien

    try:
        return sapien.render.RenderSystem(sapien.Device("cpu"))
    except RuntimeError as e:
        logger.warning("no CPU render context to keep alive (%s): every task pays the first-render setup", e)
        return None


def bench_task(task: str, physics_steps: int = 60, render_steps: int = 20, seed: int = 0,
               expert_episode: bool = True, camera_hw: tuple[int, int] | None = None) -> dict:
    """One row of :data:`TASK_COLUMNS` for ``task``."""
    from ahabench.experts.evaluate import expert_episode as play_expert
    from ahabench.task_registry import make_task_env, task_spec

    if physics_steps < 1 or render_steps < 1:
        raise ValueError(f"need at least one step, got physics_steps={physics_steps}, render_steps={render_steps}")
    spec = task_spec(task)
    t0 = time.perf_counter()
    env = make_task_env(task, **({"camera_hw": camera_hw} if camera_hw else {}))
    build_s = time.perf_counter() - t0
    try:
        n = max(physics_steps, render_steps)
        t0 = time.perf_counter()
        actions = _expert_actions(env, seed, n)
        prepare_s = time.perf_counter() - t0

        env.reset(seed)
        c0, t0 = time.process_time(), time.perf_counter()
        for a in actions[:physics_steps]:
            env.step(a)
        physics_s, physics_cpu = time.perf_counter() - t0, time.process_time() - c0

        env.reset(seed)
        t0 = time.perf_counter()
        images = env.render_images()  # first render outside the clock: it builds the render resources
        first_render_s = time.perf_counter() - t0
        c0, t0 = time.process_time(), time.perf_counter()
        for a in actions[:render_steps]:
            env.step(a)
            images = env.render_images()
        render_s, render_cpu = time.perf_counter() - t0, time.process_time() - c0
        h, w = next(iter(images.values())).shape[:2]

        row = dict(task=task, suite=spec.suite, cameras=len(images), camera_h=int(h), camera_w=int(w),
                   build_s=build_s, prepare_s=prepare_s, first_render_s=first_render_s, physics_steps=physics_steps,
                   physics_steps_per_s=physics_steps / physics_s, physics_cpu_steps_per_s=physics_steps / max(physics_cpu, 1e-9),
                   render_steps=render_steps, render_steps_per_s=render_steps / render_s,
                   render_ms_per_step=1000 * render_s / render_steps,
                   render_cpu_ms_per_step=1000 * render_cpu / render_steps,
                   expert_success=None, expert_steps=None, expert_episode_wall_s=None, expert_episode_cpu_s=None,
                   expert_steps_per_s=None)
        if expert_episode:
            c0, t0 = time.process_time(), time.perf_counter()
            ok, steps = play_expert(env, seed)
            wall = time.perf_counter() - t0
            row.update(expert_success=bool(ok), expert_steps=int(steps), expert_episode_wall_s=wall,
                       expert_episode_cpu_s=time.process_time() - c0,
                       expert_steps_per_s=steps / wall)
        return row
    finally:
        env.close()


def bench_tasks(tasks: list[str], out: Path | None = None, physics_steps: int = 60, render_steps: int = 20,
                seed: int = 0, expert_episode: bool = True, camera_hw: tuple[int, int] | None = None,
                progress: Callable[[dict], None] | None = None) -> pd.DataFrame:
    """Benchmark each task in this process (one torch thread); write ``out/tasks.csv`` and
    ``out/tasks.json`` (rows + machine info + settings) when ``out`` is given. A task that raises gets a
    row with NaNs and its error in the JSON, so one broken task does not hide the others' numbers."""
    import torch

    if not tasks:
        raise ValueError("bench_tasks needs at least one task")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows, errors = [], {}
    keepalive = render_keepalive()  # noqa: F841 - held for its side effect until the loop ends
    try:
        for task in tasks:
            t0 = time.perf_counter()
            try:
                row = bench_task(task, physics_steps, render_steps, seed, expert_episode, camera_hw)
            except Exception as e:  # noqa: BLE001 - reported per task below
                logger.exception("task bench failed for %s", task)
                errors[task] = f"{type(e).__name__}: {e}"
                row = {"task": task}
            row["bench_wall_s"] = time.perf_counter() - t0
            rows.append(row)
            if progress is not None:
                progress(row)
        info = machine_info()  # after the runs: the load average then reflects the bench period
    finally:
        torch.set_num_threads(threads)
    df = pd.DataFrame(rows).reindex(columns=TASK_COLUMNS + ["bench_wall_s"])
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        df.to_csv(out / "tasks.csv", index=False, float_format="%.4g")
        doc = {"machine": info, "torch_threads_used": 1,
               "settings": dict(physics_steps=physics_steps, render_steps=render_steps, seed=seed,
                                expert_episode=expert_episode, camera_hw=list(camera_hw) if camera_hw else "default"),
               "errors": errors, "tasks": json.loads(df.to_json(orient="records"))}
        (out / "tasks.json").write_text(json.dumps(doc, indent=2))
    return df
