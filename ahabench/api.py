"""The ahabench library API: typed functions, no printing (the ``ahabench`` CLI is a thin layer over them).

Running is separate from reporting: :func:`eval_run` writes a run directory; :func:`report`,
:func:`regress` and :func:`compare` (given run dirs) only read run directories.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ahabench.catalog import list_profiles, list_tasks
from ahabench.engine.run import Progress, RunConfig, RunResult, run_eval
from ahabench.latency import DEFAULT_LATENCY, DEFAULT_PROFILE
from ahabench.records import EpisodeRecord
from ahabench.report.compare import CompareRow, compare_records
from ahabench.report.regress import RegressResult, load_reference, write_reference
from ahabench.report.regress import regress as _regress
from ahabench.report.sweep import DEFAULT_KEEP, CriticalPoint, SweepPoint, critical_points, write_sweep
from ahabench.report.sweep_grid import GridCell, setting_label, write_grid
from ahabench.rundir import EPISODES, Manifest, read_episodes, read_manifest

log = logging.getLogger(__name__)

#: Default parent of run directories: ./runs under the current directory (ignored by git).
RUNS_DIR = Path("runs")


def task_names(tasks: str | Sequence[str]) -> list[str]:
    """``'all'``, a suite name, comma-separated names or a list -> task names (``KeyError`` naming an unknown one)."""
    from ahabench.task_registry import resolve_tasks, task_spec

    if isinstance(tasks, str):
        return resolve_tasks(tasks)
    for t in tasks:
        task_spec(t)  # raises KeyError naming an unknown task
    return list(tasks)


def default_out(policy: str, mode: str | None, setting: str, tag: str = "") -> Path:
    return RUNS_DIR / "_".join(x for x in (policy, mode or "default", setting, tag) if x)


def eval_run(
    policy: str,
    tasks: str | Sequence[str] = "all",
    episodes: int = 10,
    setting: str = "clean",
    mode: str | None = None,
    profile: str = DEFAULT_PROFILE,
    latency: str = DEFAULT_LATENCY,
    seed: int = 0,
    workers: int = 1,
    out: str | Path | None = None,
    video: bool = False,
    resume: bool = False,
    device: str | None = None,
    latency_scale: float = 1.0,
    fixed_ms: float | None = None,
    seeds: dict[str, list[int]] | None = None,
    two_devices: bool = False,
    stop_on_success: bool = True,
    policy_kwargs: dict[str, Any] | None = None,
    env_kwargs: dict[str, Any] | None = None,
    task_args: dict[str, Any] | None = None,
    imports: Sequence[str] = (),
    progress: Callable[[Progress], None] | None = None,
    executor: str = "local",
    ray_address: str | None = None,
) -> RunResult:
    """Evaluate ``policy`` on ``tasks`` (``all``, a suite, or names) and write the run directory ``out``.
    ``task_args`` go to every task's env class (a dynamic task's ``level`` and ``speed``) and into the manifest.
    ``executor="ray"`` runs the episodes as Ray tasks (a local Ray on ``workers`` CPUs, or the cluster at
    ``ray_address``); the records are the same as with the local executor."""
    cfg = RunConfig(policy=policy, tasks=task_names(tasks), episodes=episodes, setting=setting, mode=mode,
                    profile=str(profile), latency=latency, device=device, latency_scale=latency_scale,
                    fixed_ms=fixed_ms, seed=seed, seeds=seeds, workers=workers, two_devices=two_devices,
                    stop_on_success=stop_on_success, video=video, policy_kwargs=dict(policy_kwargs or {}),
                    env_kwargs=dict(env_kwargs or {}), task_args=dict(task_args or {}), imports=list(imports),
                    executor=executor,
                    ray_address=ray_address)
    out_dir = Path(out) if out is not None else default_out(policy, mode, setting)
    return run_eval(cfg, out_dir, resume=resume, progress=progress)


def _executor_session(eval_kwargs: dict[str, Any]) -> Any:
    """A Ray session spanning several runs when they use ``executor="ray"`` (else nothing)."""
    if eval_kwargs.get("executor", "local") != "ray":
        return contextlib.nullcontext()
    from ahabench.engine.ray_executor import ray_session

    return ray_session(eval_kwargs.get("ray_address"), int(eval_kwargs.get("workers", 1)))



@dataclass
class GridResult:
    cells: list[GridCell]
    csv_path: Path
    png_path: Path


def sweep_grid(
    policy: str,
    tasks: str | Sequence[str] = "all",
    episodes: int = 10,
    delays_ms: Sequence[float] = (0, 100, 200, 300, 400),
    modes: Sequence[str] = ("frozen", "blocking", "async"),
    vary: dict[str, Sequence[Any]] | None = None,
    out: str | Path | None = None,
    resume: bool = True,
    progress: Callable[[Progress], None] | None = None,
    task_args: dict[str, Any] | None = None,
    **eval_kwargs: Any,
) -> GridResult:
    """One delay sweep (:func:`sweep`) per mode and per setting of the task args in ``vary`` (their cartesian
    product, on top of ``task_args``), all on the same seeds; writes ``out/<setting>/<mode>/`` for each sweep and
    ``out/grid.csv`` + ``out/grid.png`` over all of them (:mod:`ahabench.report.sweep_grid`)."""
    import itertools



    if not modes:
        raise ValueError("sweep_grid needs at least one mode")
    keys = sorted(vary or {})
    settings = [dict(zip(keys, combo)) for combo in itertools.product(*(list((vary or {})[k]) for k in keys))]
    out_root = Path(out) if out is not None else RUNS_DIR / f"grid_{policy}"
    cells = []
    with _executor_session(eval_kwargs):  # one Ray instance for the whole grid
        for setting in settings:
            args = {**(task_args or {}), **setting}
            for mode in modes:
                res = sweep(policy, tasks, episodes, delays_ms=delays_ms, out=out_root / setting_label(setting) / mode,
                            resume=resume, progress=progress, mode=mode, task_args=args, **eval_kwargs)
                cells.append(GridCell(setting, mode, res.points))
    csv_path, png = write_grid(out_root, cells, title=f"{policy}: success vs call latency")
    return GridResult(cells, csv_path, png)


def load_run(run_dir: str | Path) -> tuple[Manifest, list[EpisodeRecord]]:
    """The manifest and the episode records of a run directory."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    return manifest, read_episodes(run_dir / EPISODES)


@dataclass
class Comparison:
    baseline: str
    rows: list[CompareRow]
    runs: dict[str, Path]


def compare(
    policies: Sequence[str],
    tasks: str | Sequence[str] = "all",
    episodes: int = 10,
    baseline: str | None = None,
    runs: dict[str, str | Path] | None = None,
    out: str | Path | None = None,
    resume: bool = True,
    progress: Callable[[Progress], None] | None = None,
    policy_kwargs: dict[str, dict[str, Any]] | None = None,
    **eval_kwargs: Any,
) -> Comparison:
    """Compare policies on the same seeds, each in its default mode. ``runs`` maps a policy name to an
    existing run dir to read instead of evaluating; the others are evaluated into ``out/<policy>``
    (resumed when already there). The baseline defaults to the last policy named. ``policy_kwargs`` maps a
    policy name to its factory kwargs (e.g. ``{"aha-wam": {"checkpoint": "runs/a/checkpoint"}}``).
    When ``out`` is given the table is also written there as ``compare.md`` and ``compare.json``."""
    runs = {k: Path(v) for k, v in (runs or {}).items()}
    names = list(policies) or list(runs)
    if len(names) < 2:
        raise ValueError(f"compare needs at least two policies, got {names!r}")
    baseline = baseline or names[-1]
    if baseline not in names:
        raise KeyError(f"baseline {baseline!r} is not among the compared policies: {', '.join(names)}")
    out_root = Path(out) if out is not None else RUNS_DIR / "compare"
    recs: dict[str, list[EpisodeRecord]] = {}
    with _executor_session(eval_kwargs):  # one Ray instance for every run of the comparison
        for name in names:
            if name not in runs:
                res = eval_run(name, tasks, episodes, out=out_root / name, resume=resume, progress=progress,
                               policy_kwargs=(policy_kwargs or {}).get(name), **eval_kwargs)
                runs[name] = res.out
            recs[name] = load_run(runs[name])[1]
            if not recs[name]:
                raise ValueError(f"run {runs[name]} of policy {name!r} holds no episodes")
    result = Comparison(baseline, compare_records(recs, baseline), runs)
    if out is not None:
        from ahabench.report.compare import compare_json, compare_markdown

        out_root.mkdir(parents=True, exist_ok=True)
        (out_root / "compare.md").write_text(compare_markdown(result.rows, baseline) + "\n")
        (out_root / "compare.json").write_text(compare_json(result.rows, baseline) + "\n")
    return result


@dataclass
class SweepResult:
    knob: str
    points: list[SweepPoint]
    csv_path: Path
    png_path: Path
    critical: list[CriticalPoint]


def sweep(
    policy: str,
    tasks: str | Sequence[str] = "all",
    episodes: int = 10,
    latency_scales: Sequence[float] | None = None,
    delays_ms: Sequence[float] | None = None,
    out: str | Path | None = None,
    resume: bool = True,
    progress: Callable[[Progress], None] | None = None,
    keep: float = DEFAULT_KEEP,
    **eval_kwargs: Any,
) -> SweepResult:
    """Success vs latency: one run per latency scale (``latency_scales``) or per fixed call latency in ms
    (``delays_ms``), same seeds; writes ``out/sweep.csv``, ``out/sweep.png``, ``out/critical.csv`` (the largest
    latency keeping ``keep`` x the lowest-latency success) and ``out/success_vs_hz.png``."""
    if (latency_scales is None) == (delays_ms is None):
        raise ValueError("give exactly one of latency_scales or delays_ms")
    knob, values = ("latency_scale", latency_scales) if latency_scales is not None else ("delay_ms", delays_ms)
    values = [float(v) for v in values]  # type: ignore[union-attr]
    if not values:
        raise ValueError(f"no {knob} values to sweep")
    bad = [v for v in values if v < 0 or (knob == "latency_scale" and v == 0)]
    if bad:
        raise ValueError(f"bad {knob} values {bad}: scales must be > 0, delays >= 0")
    out_root = Path(out) if out is not None else RUNS_DIR / f"sweep_{policy}"
    points = []
    with _executor_session(eval_kwargs):  # one Ray instance for every run of the sweep
        for v in values:
            kw = dict(eval_kwargs)
            if knob == "latency_scale":
                kw["latency_scale"] = v
            else:
                kw["fixed_ms"] = v
            res = eval_run(policy, tasks, episodes, out=out_root / f"{knob}_{v:g}", resume=resume, progress=progress, **kw)
            points.append(SweepPoint(v, res.out, res.summary))
    csv_path, png = write_sweep(out_root, knob, points, keep)
    return SweepResult(knob, points, csv_path, png, critical_points(points, keep))


def regress(run: str | Path, reference: str | Path, alpha: float = 0.05, test: str = "auto",
            allow_mismatch: bool = False, allow_underpowered: bool = False) -> RegressResult:
    """Test the run against a reference file (or reference run dir): exact per episode when both are deterministic
    runs under the same conditions, else statistically; see ahabench.report.regress."""
    _, recs = load_run(run)
    if not recs:
        raise ValueError(f"run {run} holds no episodes")
    return _regress(recs, load_reference(Path(reference)), alpha, test, allow_mismatch, allow_underpowered)


def make_reference(run: str | Path, path: str | Path) -> Path:
    """Write ``run``'s conditions, per-task counts and per-episode outcomes as a reference file for
    :func:`regress`. A run with a crashed or bad-action episode cannot be a reference (the gate fails on those)."""
    from ahabench.report.regress import broken_episodes

    manifest, recs = load_run(run)
    if not recs:
        raise ValueError(f"run {run} holds no episodes")
    broken = broken_episodes(recs)
    if broken:
        raise ValueError(f"run {run} has {len(broken)} broken episode(s), e.g. {broken[0]}; a reference must not")
    meta = {"run": str(run), "git": manifest.git.get("commit"), "git_dirty": manifest.git.get("dirty"),
            "policy_kwargs": manifest.get("policy_kwargs") or {}}
    return write_reference(Path(path), recs, meta)


def report(run: str | Path, timeline: tuple[str, int] | None = None) -> Path:
    """Write ``RUN/report.md`` with PNG plots from what the run wrote (it runs nothing); returns its path.
    See :mod:`ahabench.report.markdown`."""
    from ahabench.report.markdown import write_report

    return write_report(Path(run), timeline=timeline)


def collect(tasks: str | Sequence[str], episodes: int, setting: str = "clean", out: str | Path = "data/demos",
            progress: Callable[[Any], None] | None = None, **kwargs: Any) -> Any:
    """Collect expert demos (delegates to ahabench.data.collect.collect_demos)."""
    from ahabench.data.collect import collect_demos

    return collect_demos(task_names(tasks), episodes, setting, Path(out), progress=progress, **kwargs)


def train(policy: str, tasks: str | Sequence[str], size: str = "tiny", steps: int = 1000,
          out: str | Path = "runs/train", data: str | Path | Sequence[str | Path] | None = None, resume: bool = False,
          seed: int = 0, progress: Callable[[Any], None] | None = None, **kwargs: Any) -> Any:
    """Train a policy (delegates to ahabench.train.train_policy; kwargs: episodes, tokenizer_steps, ...).

    ``data``: one demo folder or several to mix (None: collect into ``out/demos``)."""
    from ahabench.train import train_policy

    folders = None if not data else [Path(data)] if isinstance(data, (str, Path)) else [Path(d) for d in data]
    return train_policy(policy, task_names(tasks), size, steps, Path(out), folders, resume, seed, progress, **kwargs)


def open_loop(policy: str, data: str | Path, tasks: str | Sequence[str] = "all", episodes: int | None = None,
              skip: int = 0, stride: int = 32, policy_kwargs: dict[str, Any] | None = None, out: str | Path | None = None,
              progress: Callable[[str, int, int], None] | None = None) -> list[Any]:
    """Open-loop action error of ``policy`` on recorded demos, beside the hold-position reference
    (delegates to ahabench.engine.openloop); writes openloop.csv/json into ``out`` when given."""
    from ahabench.engine.openloop import open_loop as _open_loop
    from ahabench.engine.openloop import write_open_loop

    names = task_names(tasks)
    rows = _open_loop(policy, Path(data), names, episodes, skip, stride, policy_kwargs, progress)
    if out is not None:
        meta = {"policy": policy, "data": str(data), "tasks": names, "episodes": episodes, "skip": skip, "stride": stride,
                "policy_kwargs": dict(policy_kwargs or {})}
        write_open_loop(rows, Path(out), meta)
    return rows


def curves(runs: Sequence[str | Path], out: str | Path = "runs/curves", smooth: int = 5,
           evals: Sequence[str | Path] = ()) -> list[Path]:
    """Learning curves of training dirs / checkpoint folders (delegates to ahabench.report.learning); with
    ``evals`` (eval run dirs of a campaign's checkpoints), also closed-loop success against training steps
    (ahabench.report.success_curve)."""
    from ahabench.report.learning import run_labels, write_curves

    files = write_curves(run_labels([Path(r) for r in runs]), Path(out), smooth) if runs else []
    if evals:
        from ahabench.report.success_curve import write_success_vs_steps

        files += write_success_vs_steps([Path(e) for e in evals], Path(out))
    return files


def policy_server(policy: str, policy_kwargs: dict[str, Any] | None = None, host: str = "127.0.0.1", port: int = 8765,
                  api_key: str | None = None) -> Any:
    """A :class:`ahabench.serve.server.PolicyServer` bound to ``host:port`` (``port=0``: a free one), ready for
    ``serve_forever()``; one compute thread, as an in-process evaluation has, so served actions match it."""
    from ahabench.pool import limit_threads
    from ahabench.serve.server import PolicyServer

    limit_threads()
    return PolicyServer(policy, policy_kwargs, host=host, port=port, api_key=api_key)


__all__ = ["policy_server",
           "task_names", "eval_run", "compare", "sweep", "regress", "make_reference", "report", "list_tasks", "list_profiles",
           "collect", "train", "open_loop", "curves", "load_run", "default_out", "Comparison", "SweepResult", "RunResult",
           "RunConfig", "Progress", "sweep_grid", "GridResult"]
