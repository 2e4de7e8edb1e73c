"""Closed-loop success against training steps: what more compute bought a training campaign.

Each point is an eval run directory of one checkpoint (a campaign's snapshot or its final folder). The step and
the data phase come from the checkpoint's ``config.json`` (named in the run's manifest as the policy's
``checkpoint``); success comes from the run's episodes. Runs of one curve should share tasks, seeds and mode:
:func:`success_vs_steps` refuses a mix, since points on different seeds are not comparable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ahabench.rundir import EPISODES, Manifest, read_episodes, read_manifest

COLUMNS = ["step", "phase", "data", "checkpoint", "policy", "mode", "episodes", "successes", "success_rate",
           "tasks", "tasks_above_0"]


def _checkpoint_config(run: Path, manifest: Manifest) -> tuple[str, dict]:
    ckpt = manifest.checkpoint
    if not ckpt:
        raise ValueError(f"run {run} names no checkpoint (policy_kwargs.checkpoint): evaluate with --checkpoint")
    path = Path(ckpt) / "config.json"
    if not path.exists():
        raise FileNotFoundError(f"run {run}: its checkpoint {ckpt} is gone (no {path})")
    return str(ckpt), json.loads(path.read_text())


def success_vs_steps(runs: Sequence[Path]) -> pd.DataFrame:
    """One row per eval run, ordered by training step (columns :data:`COLUMNS`)."""
    rows, plan = [], None
    for run in map(Path, runs):
        manifest = read_manifest(run)
        recs = read_episodes(run / EPISODES)
        this_plan = (manifest.seeds, manifest.get("mode"), manifest.get("profile"), manifest.get("setting"))
        if plan is None:
            plan = this_plan
        elif this_plan != plan:
            raise ValueError(f"run {run} was made on other seeds, mode, profile or setting than {runs[0]}: "
                             "points of one curve must share them")
        ckpt, ck = _checkpoint_config(run, manifest)
        phases = ck.get("data_phases") or [{"data": [ck.get("data")], "from_step": 0}]
        step = int(ck.get("step", 0))
        phase = max(i for i, p in enumerate(phases) if p["from_step"] <= step) if phases else 0
        per_task: dict[str, int] = {}
        for r in recs:
            per_task[r.task] = per_task.get(r.task, 0) + int(r.success_once)
        n, s = len(recs), sum(per_task.values())
        rows.append({"step": step, "phase": phase, "data": "+".join(map(str, phases[phase]["data"])), "checkpoint": ckpt,
                     "policy": manifest.get("policy"), "mode": manifest.get("mode"), "episodes": n, "successes": s,
                     "success_rate": s / n if n else None, "tasks": len(per_task),
                     "tasks_above_0": sum(1 for v in per_task.values() if v > 0)})
    return pd.DataFrame(rows, columns=COLUMNS).sort_values("step", kind="stable").reset_index(drop=True)


def plot_success_vs_steps(df: pd.DataFrame, path: Path, title: str = "") -> Path:
    from ahabench.report.plots import _save, plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for phase, part in df.groupby("phase"):
        ax.plot(part["step"], 100 * part["success_rate"], marker="o", label=f"phase {phase}: {part['data'].iloc[0]}")
    ax.set_xlabel("WAM training step")
    ax.set_ylabel("closed-loop success (%)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)


def write_success_vs_steps(runs: Sequence[Path], out: Path) -> list[Path]:
    """``out/success_vs_steps.csv`` and ``out/success_vs_steps.png``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    df = success_vs_steps(runs)
    csv_path = out / "success_vs_steps.csv"
    df.to_csv(csv_path, index=False, float_format="%.4g")
    n = int(df["episodes"].iloc[0]) if len(df) else 0
    return [csv_path, plot_success_vs_steps(df, out / "success_vs_steps.png", f"{n} episodes per point, same seeds")]


__all__ = ["COLUMNS", "success_vs_steps", "plot_success_vs_steps", "write_success_vs_steps"]
