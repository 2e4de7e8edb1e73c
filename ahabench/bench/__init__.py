"""Benchmarks (``make bench`` / ``ahabench bench``): task simulation speed, model call latency, training throughput.

:func:`run_bench` writes ``OUT/tasks.csv|json`` (:mod:`ahabench.bench.tasks_bench`),
``OUT/models.csv|json`` (:mod:`ahabench.bench.models_bench`), ``OUT/train.csv|json``
(:mod:`ahabench.bench.train_bench`), ``OUT/episode_time.csv|json`` (:mod:`ahabench.bench.episode_bench`) and
``OUT/serve.csv|json`` (:mod:`ahabench.bench.serve_bench`) and returns a
summary dict.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ahabench.bench.machine import machine_info
from ahabench.bench.measured_bench import bench_measured_eval
from ahabench.bench.models_bench import bench_models
from ahabench.bench.tasks_bench import bench_tasks

logger = logging.getLogger(__name__)

__all__ = ["bench_measured_eval", "bench_models", "bench_tasks", "machine_info", "run_bench"]


def _bench(module: str, function: str) -> Callable[..., Any]:
    """``ahabench.bench.<module>.<function>``, imported on first use (Ray, websockets, training stay unloaded)."""
    import importlib

    return getattr(importlib.import_module(f"ahabench.bench.{module}"), function)


def _episode_line(rows: list[dict]) -> str:
    t = rows[-1]  # the overall row
    return (f"episode time: harness {100 * t['harness_frac']:.1f}% of {t['episode_s']:.0f} s (physics "
            f"{t['physics_s']:.0f} s, render {t['render_s']:.0f} s, model {t['model_s']:.0f} s, "
            f"resets {t['reset_s']:.0f} s)")


def run_bench(out: Path, tasks: list[str] | None = None, models: bool = True, run_tasks: bool = True,
              physics_steps: int = 60, render_steps: int = 20, expert_episode: bool = True,
              repetitions: int = 20, warmup: int = 3, steps_list: tuple[int, ...] = (1, 2, 4, 10),
              measured_eval: bool = True, train: bool = True, serve: bool = True, episode_time: bool = True,
              throughput: bool = True,
              progress: Callable[[str], None] | None = None) -> dict:
    """Run the task and/or model benchmarks into ``out``.

    tasks: task names (None: every task of every suite). measured_eval: also run aha-wam and fast-wam through
    the clock with measured latency (``measured_eval.csv``, :mod:`ahabench.bench.measured_bench`). train: WAM
    training samples/s per policy, paper recipe beside v2, with the step's breakdown (``train.csv``).
    episode_time: one aha-wam episode per task split into reset, physics, rendering, model calls and harness overhead
    (``episode_time.csv``, :mod:`ahabench.bench.episode_bench`).
    throughput: episodes/min of --workers 1, --workers 2 and Ray on 2 CPUs on the same episodes (``throughput.csv``).
    serve: ``remote`` against in-process call times on localhost (``serve.csv``, :mod:`ahabench.bench.serve_bench`).
    progress(message): called once per finished task and per finished model stage.
    Returns {"out", "wall_s", "tasks": [rows] | None, "models": [aha vs fast summary] | None, "files": [...]}.
    """
    from ahabench.bench.models_bench import call_summary
    from ahabench.task_registry import suites

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    result: dict = {"out": str(out), "tasks": None, "models": None, "files": []}
    every = list(tasks) if tasks is not None else [t for s in suites().values() for t in s]
    if run_tasks:

        def on_row(row: dict) -> None:
            if progress is not None:
                sps = row.get("physics_steps_per_s")
                progress(f"task {row['task']}: " + (f"{sps:.0f} physics steps/s, "
                                                    f"{row['render_steps_per_s']:.1f} rendered steps/s"
                                                    if sps is not None else "FAILED"))

        df = bench_tasks(every, out, physics_steps, render_steps, expert_episode=expert_episode, progress=on_row)
        result["tasks"] = df.to_dict(orient="records")
        result["files"] += [str(out / "tasks.csv"), str(out / "tasks.json")]
    if models:
        mdf = bench_models(out, steps_list=steps_list, repetitions=repetitions, warmup=warmup)
        result["models"] = call_summary(mdf)
        result["files"] += [str(out / "models.csv"), str(out / "models.json"), str(out / "latency_breakdown.csv")]
        if progress is not None:
            progress("models: " + ", ".join(f"{r['steps']} steps: aha chunk {r['aha_chunk_call_ms']:.1f} ms, "
                                            f"fast call {r['fast_call_ms']:.1f} ms (CPU {r['aha_chunk_call_cpu_ms']:.1f} vs "
                                            f"{r['fast_call_cpu_ms']:.1f} ms)" for r in result["models"]))
    def stage(key: str, df: Any, stem: str, message: Callable[[list[dict]], str]) -> None:
        """Record one benchmark's rows and files in ``result`` and report it."""
        result[key] = df.to_dict(orient="records")
        result["files"] += [str(out / f"{stem}.csv"), str(out / f"{stem}.json")]
        if progress is not None and len(df):
            progress(message(result[key]))

    # The later stages, each imported only when it runs: (enabled, key in result, file stem, run, summary line).
    later: list[tuple[bool, str, str, Callable[[], Any], Callable[[list[dict]], str]]] = [
        (measured_eval, "measured", "measured_eval", lambda: bench_measured_eval(out), lambda rows: "measured eval: " + ", ".join(
            f"{r['policy']} call {r['chunk_ms_mean']:.1f} ms" for r in rows)),
        (train, "train", "train", lambda: _bench("train_bench", "bench_training")(out), lambda rows: "training: " + ", ".join(
            f"{r['policy']} {r['recipe']} {r['samples_per_s']:.1f} samples/s ({r['x_paper']:.2f}x)" for r in rows)),
        (episode_time, "episode_time", "episode_time", lambda: _bench("episode_bench", "bench_episodes")(out, every),
         _episode_line),
        (throughput, "throughput", "throughput", lambda: _bench("throughput_bench", "bench_throughput")(out),
         lambda rows: "throughput: " + ", ".join(
             f"{r['executor']} x{r['workers']} {r['episodes_per_min']:.1f} episodes/min" for r in rows)),
        (serve, "serve", "serve", lambda: _bench("serve_bench", "bench_serving")(out), lambda rows: "serving: " + ", ".join(
            f"{r['policy']} {r['call']} +{r['overhead_ms_p50']:.2f} ms" for r in rows)),
    ]
    for enabled, key, stem, run, line in later:
        if enabled:
            stage(key, run(), stem, line)
    result["wall_s"] = time.perf_counter() - t0
    logger.info("bench written to %s in %.0f s", out, result["wall_s"])
    return result
