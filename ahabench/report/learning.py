"""Learning curves of training runs: one long table of logged losses, and a PNG with a panel per stage.

A run is either a training directory (``ahabench train --out DIR``: ``DIR/<stage>/loss.jsonl``) or a shipped
checkpoint folder (``policies/<name>/checkpoint``: ``loss_<stage>.jsonl`` copies of the same logs). Stages:
``tokenizer`` (VAE reconstruction + KL), ``wam`` (flow-matching loss = action + video terms) and ``flash``
(distillation). Curves are smoothed with a trailing mean over ``smooth`` logged points for the plot only; the
table keeps the raw values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

STAGES: tuple[str, ...] = ("tokenizer", "wam", "flash")
#: Per stage, the logged terms that are plotted (the first is the stage's total loss).
STAGE_TERMS: dict[str, tuple[str, ...]] = {
    "tokenizer": ("loss", "vae_rec"),
    "wam": ("loss", "loss_action", "loss_video"),
    "flash": ("loss",),
}


def _stage_log(run: Path, stage: str) -> Path | None:
    for path in (run / stage / "loss.jsonl", run / f"loss_{stage}.jsonl"):
        if path.exists():
            return path
    return None


def read_curves(runs: dict[str, Path]) -> pd.DataFrame:
    """Long table (run, stage, step, term, value, wall_s) of every logged loss term of ``runs`` (label -> dir).

    Raises FileNotFoundError naming the run when a directory holds no loss log at all."""
    rows: list[dict] = []
    for label, run in runs.items():
        run = Path(run)
        found = False
        for stage in STAGES:
            path = _stage_log(run, stage)
            if path is None:
                continue
            found = True
            for line in path.read_text().splitlines():
                if not line.strip():
                    continue
                rec = json.loads(line)
                for term in STAGE_TERMS[stage]:
                    if term in rec:
                        rows.append(dict(run=label, stage=stage, step=int(rec["step"]), term=term,
                                         value=float(rec[term]), wall_s=float(rec.get("wall_s", float("nan")))))
        if not found:
            raise FileNotFoundError(f"no loss log (<stage>/loss.jsonl or loss_<stage>.jsonl) under {run}")
    return pd.DataFrame(rows, columns=["run", "stage", "step", "term", "value", "wall_s"])


def curve_summary(df: pd.DataFrame, tail: int = 5) -> pd.DataFrame:
    """Per run, stage and term: steps logged, first value, mean of the last ``tail`` logged values."""
    out = []
    for (run, stage, term), g in df.groupby(["run", "stage", "term"], sort=False):
        g = g.sort_values("step")
        out.append(dict(run=run, stage=stage, term=term, last_step=int(g.step.iloc[-1]), first=float(g.value.iloc[0]),
                        last_mean=float(g.value.tail(tail).mean()), wall_s=float(g.wall_s.iloc[-1])))
    return pd.DataFrame(out)


def plot_curves(df: pd.DataFrame, path: Path, smooth: int = 5, title: str = "") -> Path:
    """One panel per stage present in ``df``; a line per (run, term), log-scale losses."""
    from ahabench.report.plots import _save, plt

    stages = [s for s in STAGES if (df.stage == s).any()]
    if not stages:
        raise ValueError("no loss values to plot")
    fig, axes = plt.subplots(1, len(stages), figsize=(4.6 * len(stages), 3.6), squeeze=False)
    for ax, stage in zip(axes[0], stages):
        sub = df[df.stage == stage]
        for (run, term), g in sub.groupby(["run", "term"], sort=False):
            g = g.sort_values("step")
            style = "-" if term == "loss" else ":"
            ax.plot(g.step, g.value.rolling(max(1, smooth), min_periods=1).mean(), style, label=f"{run} {term}", lw=1.2)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(stage)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel(f"loss (trailing mean of {smooth} logs)")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def write_curves(runs: dict[str, Path], out: Path, smooth: int = 5) -> list[Path]:
    """``out/learning_curves.csv`` (raw), ``out/learning_summary.csv`` and ``out/learning_curves.png``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    df = read_curves(runs)
    files = [out / "learning_curves.csv", out / "learning_summary.csv", out / "learning_curves.png"]
    df.to_csv(files[0], index=False, float_format="%.6g")
    curve_summary(df).to_csv(files[1], index=False, float_format="%.6g")
    plot_curves(df, files[2], smooth)
    return files


def run_labels(paths: Sequence[Path]) -> dict[str, Path]:
    """Labels for run paths: the folder name, or the policy folder for ``.../<policy>/checkpoint``."""
    labels: dict[str, Path] = {}
    for p in map(Path, paths):
        name = p.parent.name if p.name == "checkpoint" else p.name
        label, i = name, 2
        while label in labels:
            label, i = f"{name}-{i}", i + 1
        labels[label] = p
    return labels
