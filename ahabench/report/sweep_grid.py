"""A grid of latency sweeps: one sweep per (task-arg setting, mode), tabulated together and drawn as one panel per
setting with a line per mode (``ahabench sweep-grid``).

This is the experiment the ``dynamic`` suite exists for: the same policy frozen, blocking and async across call
latencies, for each motion level. Frozen pauses the world while the policy thinks, so its line is the
latency-free reference; blocking lets the world move while the robot waits; async keeps the robot acting.
``grid.csv`` has a row per task and an ``overall`` row (all tasks pooled) per sweep point; the plot draws the
overall rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ahabench.report.sweep import SweepPoint


def setting_label(task_args: dict[str, Any]) -> str:
    """``{"level": 2, "speed": 1.5}`` -> ``level=2,speed=1.5`` (``defaults`` for none): a folder and panel name."""
    return ",".join(f"{k}={v}" for k, v in sorted(task_args.items())) or "defaults"


@dataclass
class GridCell:
    """One sweep of the grid: its task args, its mode and its points (one per delay)."""

    task_args: dict[str, Any]
    mode: str
    points: list[SweepPoint]

    @property
    def label(self) -> str:
        return setting_label(self.task_args)


def grid_csv(cells: Sequence[GridCell]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["setting", "mode", "delay_ms", "task", "episodes", "successes", "success_rate", "ci_low", "ci_high",
                "t_success_mean_s", "hold_ratio", "stale_ratio", "run_dir"])

    def f(x: float | None) -> str:
        return "" if x is None else f"{x:.6g}"

    for c in cells:
        for p in c.points:
            for o in p.summary:  # each task, then the overall row
                w.writerow([c.label, c.mode, f(p.value), o.task, o.episodes, o.successes, f(o.success_rate),
                            f(o.ci_low), f(o.ci_high), f(o.t_success_mean_s), f(o.hold_ratio), f(o.stale_ratio),
                            p.run_dir.as_posix()])
    return buf.getvalue()


def write_grid(out: Path, cells: Sequence[GridCell], title: str = "") -> tuple[Path, Path]:
    """Write ``out/grid.csv`` and ``out/grid.png`` (a panel per setting, a line per mode); return both paths."""
    from ahabench.fileio import atomic_write_text
    from ahabench.report.plots import plot_grid

    out = Path(out)
    csv_path = out / "grid.csv"
    atomic_write_text(csv_path, grid_csv(cells))
    panels: dict[str, dict[str, list[tuple[float, float, float, float]]]] = {}
    for c in cells:
        panels.setdefault(c.label, {})[c.mode] = [
            (p.value, p.summary[-1].success_rate, p.summary[-1].ci_low, p.summary[-1].ci_high) for p in c.points]
    png = plot_grid(panels, out / "grid.png", "fixed call latency (ms)", title)
    return csv_path, png
