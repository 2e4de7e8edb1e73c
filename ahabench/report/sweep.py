"""Success vs latency: tabulate and plot the runs of a sweep (one run per latency scale or fixed delay).

The critical latency (:func:`critical_points`) of a task is the largest swept value up to which success stays at
least ``keep`` times the success at the smallest swept value (0 ms in a delay sweep): every value up to it passes.
The true threshold lies between it and the next swept value, which failed (``first_failing``, the bracket of the
estimate); the success at the critical value comes with its Wilson 95% interval.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ahabench.rundir import GroupSummary

KNOBS = {"latency_scale": "latency scale (x profile)", "delay_ms": "fixed call latency (ms)"}
#: Default fraction of the lowest-latency success that the critical latency keeps.
DEFAULT_KEEP = 0.8


@dataclass(frozen=True)
class CriticalPoint:
    task: str
    keep: float
    reference_value: float
    reference_success: float
    critical_value: float | None  # None: already the first swept value after the reference fails
    critical_success: float | None
    critical_ci_low: float | None
    critical_ci_high: float | None
    first_failing: float | None  # None: no swept value failed (the critical latency is at least the largest)


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


def critical_points(points: Sequence[SweepPoint], keep: float = DEFAULT_KEEP) -> list[CriticalPoint]:
    """Per task (and overall), the largest swept value whose success, and every smaller value's, is at least ``keep``
    times the success at the smallest swept value."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep!r}")
    ordered = sorted(points, key=lambda p: p.value)
    if not ordered:
        return []
    out = []
    for ref in ordered[0].summary:
        rows = [(p.value, next((r for r in p.summary if r.task == ref.task), None)) for p in ordered]
        crit, failing = None, None
        for value, r in rows:
            if r is None or r.success_rate < keep * ref.success_rate:
                failing = value
                break
            crit = (value, r)
        out.append(CriticalPoint(ref.task, keep, ordered[0].value, ref.success_rate,
                                 crit[0] if crit else None, crit[1].success_rate if crit else None,
                                 crit[1].ci_low if crit else None, crit[1].ci_high if crit else None, failing))
    return out


def critical_csv(knob: str, crit: Sequence[CriticalPoint]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["task", "knob", "keep", "reference_value", "reference_success", "critical_value", "critical_success",
                "critical_ci_low", "critical_ci_high", "first_failing"])
    for c in crit:
        w.writerow([c.task, knob, c.keep, *("" if v is None else f"{v:.6g}" for v in (
            c.reference_value, c.reference_success, c.critical_value, c.critical_success, c.critical_ci_low,
            c.critical_ci_high, c.first_failing))])
    return buf.getvalue()


def write_sweep(out: Path, knob: str, points: Sequence[SweepPoint], keep: float = DEFAULT_KEEP) -> tuple[Path, Path]:
    """Write ``out/sweep.csv``, ``out/sweep.png``, ``out/critical.csv`` (:func:`critical_points`) and
    ``out/success_vs_hz.png`` (success against the achieved chunk rate, points with a rate); returns the first two
    paths."""
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
    atomic_write_text(out / "critical.csv", critical_csv(knob, critical_points(points, keep)))
    # a call of 0 ms has no rate (chunk_hz None): those points are left out of the Hz plot
    timed = [i for i, p in enumerate(points) if p.summary[-1].chunk_hz is not None]
    if timed:
        plot_sweep([points[i].summary[-1].chunk_hz for i in timed], {k: [v[i] for i in timed] for k, v in series.items()},
                   out / "success_vs_hz.png", "achieved chunk rate (Hz)")
    return csv_path, png
