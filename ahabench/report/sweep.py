"""Success vs latency: tabulate and plot the runs of a sweep (one run per latency scale or fixed delay)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ahabench.report.summary import GroupSummary

KNOBS = {"latency_scale": "latency scale (x profile)", "delay_ms": "fixed call latency (ms)"}


@dataclass
class SweepPoint:
    value: float
    run_dir: Path
    summary: list[GroupSummary]


def sweep_csv(knob: str, points: Sequence[SweepPoint]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([knob, "task", "episodes", "successes", "success_rate", "ci_low", "ci_high", "t_success_mean_s",
                "chunk_hz", "hold_ratio", "stale_ratio", "run_dir"])

    def f(x: float | None) -> str:
        return "" if x is None else f"{x:.6g}"

    for p in points:
        for r in p.summary:
            w.writerow([f(p.value), r.task, r.episodes, r.successes, f(r.success_rate), f(r.ci_low), f(r.ci_high),
                        f(r.t_success_mean_s), f(r.chunk_hz), f(r.hold_ratio), f(r.stale_ratio), str(p.run_dir)])
    return buf.getvalue()


def write_sweep(out: Path, knob: str, points: Sequence[SweepPoint]) -> tuple[Path, Path]:
    """Write ``out/sweep.csv`` and ``out/sweep.png``; returns both paths."""
    from ahabench.fileio import atomic_write_text
    from ahabench.report.plots import plot_sweep

    if knob not in KNOBS:
        raise ValueError(f"unknown sweep knob {knob!r}; choices: {', '.join(KNOBS)}")
    out = Path(out)
    csv_path = out / "sweep.csv"
    atomic_write_text(csv_path, sweep_csv(knob, points))
    series: dict[str, list[tuple[float, float, float]]] = {}
    for p in points:
        for r in p.summary:
            series.setdefault(r.task, []).append((r.success_rate, r.ci_low, r.ci_high))
    png = plot_sweep([p.value for p in points], series, out / "sweep.png", KNOBS[knob])
    return csv_path, png
