"""PNG plots of run summaries: success per task with Wilson intervals, chunk rates, success vs latency."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: reports are written on machines without a display
import matplotlib.pyplot as plt  # noqa: E402

from ahabench.rundir import OVERALL, GroupSummary  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_success(rows: Sequence[GroupSummary], path: Path, title: str = "") -> Path:
    """Bars of success rate per task (and overall) with Wilson 95% intervals as error bars."""
    names = [r.task for r in rows]
    rate = [100 * r.success_rate for r in rows]
    err = [[100 * (r.success_rate - r.ci_low) for r in rows], [100 * (r.ci_high - r.success_rate) for r in rows]]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(rows) + 2), 3.6))
    colors = ["#555555" if n == OVERALL else "#3b75af" for n in names]
    ax.bar(range(len(rows)), rate, yerr=err, capsize=3, color=colors)
    ax.set_xticks(range(len(rows)), names, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_ylabel("success (%) with Wilson 95% CI")
    ax.set_title(title or "success per task")
    return _save(fig, path)


def plot_rates(rows: Sequence[GroupSummary], path: Path, title: str = "") -> Path:
    """Chunk Hz (the paper's rate, 1000 / mean chunk latency) next to achieved chunks per simulated second."""
    names = [r.task for r in rows]
    hz = [r.chunk_hz or 0.0 for r in rows]
    ach = [r.achieved_chunk_rate or 0.0 for r in rows]
    x = range(len(rows))
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(rows) + 2), 3.6))
    ax.bar([i - 0.2 for i in x], hz, width=0.4, label="chunk Hz (1000 / latency)")
    ax.bar([i + 0.2 for i in x], ach, width=0.4, label="chunks per sim. second")
    ax.set_xticks(list(x), names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("Hz")
    ax.legend(fontsize=8)
    ax.set_title(title or "chunk rates")
    return _save(fig, path)


def plot_sweep(values: Sequence[float], series: dict[str, Sequence[tuple[float, float, float]]], path: Path,
               xlabel: str) -> Path:
    """Success vs a latency knob: one line per task (plus overall), each point (rate, ci_low, ci_high)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for name, pts in series.items():
        rate = [100 * p[0] for p in pts]
        # clamped at 0: at 0% or 100% success a Wilson bound can sit a rounding error inside the rate
        err = [[max(0.0, 100 * (p[0] - p[1])) for p in pts], [max(0.0, 100 * (p[2] - p[0])) for p in pts]]
        ax.errorbar(values, rate, yerr=err, marker="o", capsize=3, label=name,
                    linewidth=2.5 if name == OVERALL else 1.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("success (%)")
    ax.set_ylim(-2, 105)
    ax.legend(fontsize=7)
    return _save(fig, path)


#: Line colours of the modes in a sweep grid, fixed so that every panel and every figure reads the same.
MODE_COLOURS = {"frozen": "tab:gray", "blocking": "tab:red", "async": "tab:blue"}


def plot_grid(panels: dict[str, dict[str, Sequence[tuple[float, float, float, float]]]], path: Path, xlabel: str,
              title: str = "") -> Path:
    """One panel per setting (e.g. motion level), one line per mode; points (x, rate, ci_low, ci_high)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), sharey=True, squeeze=False)
    for ax, (label, lines) in zip(axes[0], panels.items()):
        for mode, pts in lines.items():
            xs, rate = [p[0] for p in pts], [100 * p[1] for p in pts]
            ax.plot(xs, rate, marker="o", label=mode, color=MODE_COLOURS.get(mode))
            ax.fill_between(xs, [100 * p[2] for p in pts], [100 * p[3] for p in pts], alpha=0.15,
                            color=MODE_COLOURS.get(mode))
        ax.set_title(label, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylim(-2, 105)
    axes[0][0].set_ylabel("success (%)")
    axes[0][0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)
