"""Aggregate per-episode records into per-task and overall summaries (summary.csv / summary.json).

Conventions (stated once here, used by every report):
- success is ``success_once`` (RoboTwin ends an episode at its first success);
- the success-rate denominator is *every* episode of the task, errors included (a policy that crashes
  did not succeed), but errors are counted in their own column, apart from ordinary failures;
- latencies are pooled over chunks (``chunk_hz`` = 1000 / mean chunk latency over all chunks), ratios are
  pooled over actions / ticks; reaction p50 is the median of the per-episode medians;
- the overall row pools the counts of all tasks and also gives the task average, RoboTwin's headline.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ahabench.records import EpisodeRecord
from ahabench.stats import mean, percentile, wilson_interval

OVERALL = "overall"


@dataclass
class GroupSummary:
    task: str
    episodes: int
    successes: int
    failures: int
    errors: int
    success_rate: float
    ci_low: float
    ci_high: float
    task_mean_success: float
    t_success_mean_s: float | None
    chunk_ms_mean: float | None
    chunk_hz: float | None
    prefill_ms_mean: float | None
    achieved_chunk_rate: float | None
    reaction_ms_p50: float | None
    stale_ratio: float | None
    hold_ratio: float | None
    sim_time_mean_s: float | None
    jerk_rms_mean: float | None = None  # motion quality (ahabench.engine.motion), episodes that have it
    path_length_mean_rad: float | None = None
    idle_ratio_mean: float | None = None
    joint_limit_ticks: int | None = None


def _pooled_ms(recs: Sequence[EpisodeRecord], mean_field: str, count_field: str) -> float | None:
    total, n = 0.0, 0
    for r in recs:
        m, c = getattr(r, mean_field), getattr(r, count_field)
        if m is not None and c:
            total += m * c
            n += c
    return total / n if n else None


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def summarize_group(name: str, recs: Sequence[EpisodeRecord], task_mean: float | None = None) -> GroupSummary:
    n = len(recs)
    succ = sum(1 for r in recs if r.success_once)
    errs = sum(1 for r in recs if r.error is not None)
    lo, hi = wilson_interval(succ, n)
    chunk_ms = _pooled_ms(recs, "chunk_ms_mean", "n_chunks")
    sim_time = sum(r.sim_time_s for r in recs)
    return GroupSummary(
        task=name,
        episodes=n,
        successes=succ,
        failures=n - succ - errs,
        errors=errs,
        success_rate=succ / n if n else 0.0,
        ci_low=lo,
        ci_high=hi,
        task_mean_success=task_mean if task_mean is not None else (succ / n if n else 0.0),
        t_success_mean_s=mean([r.t_success_s for r in recs if r.success_once]),
        chunk_ms_mean=chunk_ms,
        chunk_hz=1000.0 / chunk_ms if chunk_ms else None,
        prefill_ms_mean=_pooled_ms(recs, "prefill_ms_mean", "n_prefills"),
        achieved_chunk_rate=sum(r.n_chunks for r in recs) / sim_time if sim_time > 0 else None,
        reaction_ms_p50=percentile([r.reaction_ms_p50 for r in recs], 50),
        stale_ratio=_ratio(sum(r.actions_stale for r in recs), sum(r.actions_produced for r in recs)),
        hold_ratio=_ratio(sum(r.ticks_held for r in recs), sum(r.ticks for r in recs)),
        sim_time_mean_s=sim_time / n if n else None,
        jerk_rms_mean=mean([r.jerk_rms for r in recs]),
        path_length_mean_rad=mean([r.path_length_rad for r in recs]),
        idle_ratio_mean=mean([r.idle_ratio for r in recs]),
        joint_limit_ticks=sum(r.joint_limit_ticks or 0 for r in recs),
    )


def summarize(records: Iterable[EpisodeRecord]) -> list[GroupSummary]:
    """One row per task (sorted by name), then the ``overall`` row."""
    by_task: dict[str, list[EpisodeRecord]] = {}
    all_recs: list[EpisodeRecord] = []
    for r in records:
        by_task.setdefault(r.task, []).append(r)
        all_recs.append(r)
    rows = [summarize_group(t, by_task[t]) for t in sorted(by_task)]
    task_avg = sum(r.success_rate for r in rows) / len(rows) if rows else 0.0
    rows.append(summarize_group(OVERALL, all_recs, task_mean=task_avg))
    return rows


def summary_to_csv(rows: Sequence[GroupSummary]) -> str:
    buf = io.StringIO()
    names = [f.name for f in fields(GroupSummary)]
    w = csv.DictWriter(buf, fieldnames=names, lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: ("" if v is None else (round(v, 6) if isinstance(v, float) else v)) for k, v in asdict(row).items()})
    return buf.getvalue()


def summary_to_json(rows: Sequence[GroupSummary], meta: dict | None = None) -> str:
    body = {"meta": meta or {}, "tasks": [asdict(r) for r in rows if r.task != OVERALL],
            "overall": next((asdict(r) for r in rows if r.task == OVERALL), None)}
    return json.dumps(body, indent=2, sort_keys=True)


def write_summary(out: Path, rows: Sequence[GroupSummary], meta: dict | None = None) -> None:
    from ahabench.fileio import atomic_write_text

    atomic_write_text(Path(out) / "summary.csv", summary_to_csv(rows))
    atomic_write_text(Path(out) / "summary.json", summary_to_json(rows, meta))


def load_summary(run_dir: Path) -> list[GroupSummary]:
    data = json.loads((Path(run_dir) / "summary.json").read_text())
    rows = [GroupSummary(**d) for d in data["tasks"]]
    if data.get("overall"):
        rows.append(GroupSummary(**data["overall"]))
    return rows
