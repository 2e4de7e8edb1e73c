"""Compare policies run on the same seeds: success with intervals, rates and two kinds of speedup.

- ``speedup_hz``: the paper's speedup, a latency ratio: policy chunk Hz / baseline chunk Hz
  (= baseline chunk latency / policy chunk latency), excluding the planner prefill.
- ``speedup_task``: the task-level one: baseline mean ``t_success`` / policy mean ``t_success``, both over
  the episodes (same task and seed) that *both* policies solved, so an easy subset cannot flatter either.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ahabench.records import EpisodeRecord
from ahabench.report.summary import OVERALL, summarize_group


@dataclass
class CompareRow:
    task: str
    policy: str
    mode: str
    episodes: int
    successes: int
    success_rate: float
    ci_low: float
    ci_high: float
    t_success_mean_s: float | None
    chunk_ms_mean: float | None
    chunk_hz: float | None
    speedup_hz: float | None
    speedup_task: float | None
    both_solved: int


def _speedup_task(base: Sequence[EpisodeRecord], pol: Sequence[EpisodeRecord]) -> tuple[float | None, int]:
    b = {(r.task, r.seed): r.t_success_s for r in base if r.success_once and r.t_success_s is not None}
    p = {(r.task, r.seed): r.t_success_s for r in pol if r.success_once and r.t_success_s is not None}
    keys = sorted(b.keys() & p.keys())
    if not keys:
        return None, 0
    tb = sum(b[k] for k in keys) / len(keys)
    tp = sum(p[k] for k in keys) / len(keys)
    return (tb / tp if tp > 0 else None), len(keys)


def compare_records(runs: dict[str, list[EpisodeRecord]], baseline: str) -> list[CompareRow]:
    """Rows per task (sorted) then overall, one per policy in the order given."""
    if baseline not in runs:
        raise KeyError(f"baseline {baseline!r} is not among the compared policies: {', '.join(runs)}")
    tasks = sorted({r.task for recs in runs.values() for r in recs})
    rows: list[CompareRow] = []
    for task in [*tasks, OVERALL]:
        sel = {name: [r for r in recs if task == OVERALL or r.task == task] for name, recs in runs.items()}
        base_g = summarize_group(task, sel[baseline])
        for name, recs in sel.items():
            g = summarize_group(task, recs)
            sp_task, both = _speedup_task(sel[baseline], recs)
            sp_hz = g.chunk_hz / base_g.chunk_hz if g.chunk_hz and base_g.chunk_hz else None
            rows.append(CompareRow(task, name, recs[0].mode if recs else "", g.episodes, g.successes,
                                   g.success_rate, g.ci_low, g.ci_high, g.t_success_mean_s, g.chunk_ms_mean,
                                   g.chunk_hz, sp_hz, sp_task, both))
    return rows


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def compare_markdown(rows: Sequence[CompareRow], baseline: str) -> str:
    lines = [f"Speedups against `{baseline}`: `x Hz` is the paper's chunk-latency ratio; `x task` is the ratio "
             "of mean time-to-success over episodes both policies solved.", "",
             "| task | policy | mode | success | 95% CI | t_success (s) | chunk Hz | x Hz | x task (n) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r.task} | {r.policy} | {r.mode} | {r.successes}/{r.episodes} ({100 * r.success_rate:.1f}%) | "
            f"[{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}] | {_fmt(r.t_success_mean_s, '.2f')} | "
            f"{_fmt(r.chunk_hz, '.2f')} | {_fmt(r.speedup_hz, '.2f')} | "
            f"{_fmt(r.speedup_task, '.2f')} ({r.both_solved}) |")
    return "\n".join(lines) + "\n"


def compare_json(rows: Sequence[CompareRow], baseline: str) -> str:
    return json.dumps({"baseline": baseline, "rows": [asdict(r) for r in rows]}, indent=2, sort_keys=True)
