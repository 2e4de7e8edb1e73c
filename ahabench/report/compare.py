"""Compare policies run on the same seeds: success with intervals, rates and two kinds of speedup.

- ``speedup_hz``: the paper's speedup, a latency ratio: policy chunk Hz / baseline chunk Hz
  (= baseline chunk latency / policy chunk latency), excluding the planner prefill.
- ``speedup_task``: the task-level one: baseline mean ``t_success`` / policy mean ``t_success``, both over
  the episodes (same task and seed) that *both* policies solved, so an easy subset cannot flatter either.

Paired tests on the shared (task, seed) episodes: McNemar's exact test on success (``gains``: solved by the
policy only, ``losses``: by the baseline only, ``mcnemar_p``: two-sided), and a paired bootstrap interval
(:data:`ahabench.stats.BOOTSTRAP_RESAMPLES` resamples, fixed seed) of the mean ``t_success`` difference
(policy minus baseline) over the episodes both solved.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ahabench.records import EpisodeRecord
from ahabench.rundir import OVERALL, summarize_group
from ahabench.stats import mcnemar_exact, paired_bootstrap_mean


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
    gains: int = 0
    losses: int = 0
    mcnemar_p: float | None = None
    dt_success_mean_s: float | None = None
    dt_success_ci_low: float | None = None
    dt_success_ci_high: float | None = None


def paired_tests(base: Sequence[EpisodeRecord], pol: Sequence[EpisodeRecord]) -> dict[str, float | int | None]:
    """McNemar on the shared episodes' success, and the bootstrap interval of the mean t_success difference."""
    b = {(r.task, r.seed): r for r in base}
    p = {(r.task, r.seed): r for r in pol}
    keys = sorted(b.keys() & p.keys())
    gains = sum(1 for k in keys if p[k].success_once and not b[k].success_once)
    losses = sum(1 for k in keys if b[k].success_once and not p[k].success_once)
    diffs = [p[k].t_success_s - b[k].t_success_s for k in keys
             if p[k].success_once and b[k].success_once and None not in (p[k].t_success_s, b[k].t_success_s)]
    ci = paired_bootstrap_mean(diffs)
    return {"gains": gains, "losses": losses, "mcnemar_p": mcnemar_exact(gains, losses) if keys else None,
            "dt_success_mean_s": sum(diffs) / len(diffs) if diffs else None,
            "dt_success_ci_low": ci[0] if ci else None, "dt_success_ci_high": ci[1] if ci else None}


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
                                   g.chunk_hz, sp_hz, sp_task, both, **paired_tests(sel[baseline], recs)))
    return rows


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def compare_markdown(rows: Sequence[CompareRow], baseline: str) -> str:
    lines = [f"Speedups against `{baseline}`: `x Hz` is the paper's chunk-latency ratio; `x task` is the ratio "
             "of mean time-to-success over episodes both policies solved. Paired on the same seeds: McNemar's exact "
             "test on success (+gains / -losses against the baseline) and a bootstrap 95% interval of the mean "
             "t_success difference over episodes both solved.", "",
             "| task | policy | mode | success | 95% CI | t_success (s) | chunk Hz | x Hz | x task (n) | +/- | "
             "McNemar p | dt_success s [95% CI] |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r.task} | {r.policy} | {r.mode} | {r.successes}/{r.episodes} ({100 * r.success_rate:.1f}%) | "
            f"[{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}] | {_fmt(r.t_success_mean_s, '.2f')} | "
            f"{_fmt(r.chunk_hz, '.2f')} | {_fmt(r.speedup_hz, '.2f')} | "
            f"{_fmt(r.speedup_task, '.2f')} ({r.both_solved}) | +{r.gains}/-{r.losses} | {_fmt(r.mcnemar_p, '.3g')} | "
            f"{compare_dt(r)} |")
    return "\n".join(lines) + "\n"


def compare_dt(r: CompareRow) -> str:
    """The mean t_success difference with its bootstrap interval, as text ('-' without a pair both solved)."""
    if r.dt_success_mean_s is None:
        return "-"
    return f"{r.dt_success_mean_s:+.2f} [{r.dt_success_ci_low:+.2f}, {r.dt_success_ci_high:+.2f}]"


def compare_json(rows: Sequence[CompareRow], baseline: str) -> str:
    return json.dumps({"baseline": baseline, "rows": [asdict(r) for r in rows]}, indent=2, sort_keys=True)
