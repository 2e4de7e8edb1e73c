"""Success-rate regression test of a run against a stored reference.

The test: per task, a **one-sided Fisher exact test** of H1 "the run's success rate is lower than the
reference's", on the 2x2 table of (successes, failures) x (run, reference). Fisher rather than the
two-proportion z-test because benchmark counts are small (10-100 episodes per task) and rates sit near
0 or 1, where the normal approximation is poor; the exact test is valid at any count. The per-task
p-values form a family, so they are **Holm-corrected** (controls the family-wise error at ``alpha`` under
any dependence, and is uniformly more powerful than Bonferroni). The overall pooled counts get one more
one-sided Fisher test at ``alpha``, a single pre-planned test outside the per-task family. The run
regresses when any Holm-adjusted task p-value or the overall p-value is below ``alpha``.

A crashed episode (``error_kind == "crash"``) fails the gate outright, whatever the counts: a crash is a broken
harness or policy, not a statistical question, and a reference near 0% success could otherwise never fail.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ahabench.records import EpisodeRecord
from ahabench.report.stats import fisher_exact_less, holm_adjust
from ahabench.report.summary import OVERALL

REFERENCE_KIND = "ahabench-reference"


@dataclass
class RegressRow:
    task: str
    ref_successes: int
    ref_episodes: int
    run_successes: int
    run_episodes: int
    p_value: float
    p_adjusted: float
    regressed: bool


@dataclass
class RegressResult:
    alpha: float
    test: str
    rows: list[RegressRow]
    missing: list[str] = field(default_factory=list)  # reference tasks the run did not evaluate
    crashed: list[str] = field(default_factory=list)  # "task seed N: message" of each crashed episode

    @property
    def passed(self) -> bool:
        return not self.crashed and not any(r.regressed for r in self.rows)

    def explain(self) -> list[str]:
        out = [f"crashed episode: {c}" for c in self.crashed]
        for r in self.rows:
            if r.regressed:
                out.append(f"{r.task}: {r.run_successes}/{r.run_episodes} vs reference "
                           f"{r.ref_successes}/{r.ref_episodes} (one-sided p={r.p_value:.4g}, "
                           f"adjusted {r.p_adjusted:.4g} < alpha {self.alpha})")
        return out


def counts(records: Sequence[EpisodeRecord]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in records:
        c = out.setdefault(r.task, {"episodes": 0, "successes": 0})
        c["episodes"] += 1
        c["successes"] += int(r.success_once)
    return dict(sorted(out.items()))


def reference_from_records(records: Sequence[EpisodeRecord], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"kind": REFERENCE_KIND, "meta": meta or {}, "tasks": counts(records)}


def write_reference(path: Path, records: Sequence[EpisodeRecord], meta: dict[str, Any] | None = None) -> Path:
    from ahabench.engine.io import atomic_write_text

    atomic_write_text(Path(path), json.dumps(reference_from_records(records, meta), indent=2, sort_keys=True) + "\n")
    return Path(path)


def load_reference(path: Path) -> dict[str, dict[str, int]]:
    """Per-task counts from a reference file, or from a run directory (its episodes.jsonl)."""
    path = Path(path)
    if path.is_dir():
        from ahabench.engine.io import EPISODES, read_episodes

        recs = read_episodes(path / EPISODES)
        if not recs:
            raise ValueError(f"reference run {path} has no episodes")
        return counts(recs)
    if not path.exists():
        raise FileNotFoundError(f"reference file {path} does not exist")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"reference file {path} is not JSON: {e}") from e
    if not isinstance(data, dict) or data.get("kind") != REFERENCE_KIND or not isinstance(data.get("tasks"), dict):
        raise ValueError(f"{path} is not an ahabench reference file (write one with --write-reference)")
    for task, c in data["tasks"].items():
        if not isinstance(c, dict) or {"episodes", "successes"} - c.keys():
            raise ValueError(f"{path}: task {task!r} needs 'episodes' and 'successes' counts, got {c!r}")
    return {t: {"episodes": int(c["episodes"]), "successes": int(c["successes"])} for t, c in data["tasks"].items()}


def regress(records: Sequence[EpisodeRecord], reference: dict[str, dict[str, int]], alpha: float = 0.05) -> RegressResult:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    run = counts(records)
    tasks = [t for t in sorted(reference) if t in run]
    missing = [t for t in sorted(reference) if t not in run]
    pvals = [fisher_exact_less(run[t]["successes"], run[t]["episodes"],
                               reference[t]["successes"], reference[t]["episodes"]) for t in tasks]
    adj = holm_adjust(pvals)
    rows = [RegressRow(t, reference[t]["successes"], reference[t]["episodes"], run[t]["successes"],
                       run[t]["episodes"], p, pa, pa < alpha) for t, p, pa in zip(tasks, pvals, adj)]
    if tasks:
        rs = sum(run[t]["successes"] for t in tasks)
        rn = sum(run[t]["episodes"] for t in tasks)
        fs = sum(reference[t]["successes"] for t in tasks)
        fn = sum(reference[t]["episodes"] for t in tasks)
        p = fisher_exact_less(rs, rn, fs, fn)
        rows.append(RegressRow(OVERALL, fs, fn, rs, rn, p, p, p < alpha))
    crashed = [f"{r.task} seed {r.seed}: {r.error}" for r in records if r.error_kind == "crash"]
    return RegressResult(alpha, "one-sided Fisher exact per task, Holm-corrected; overall pooled Fisher",
                         rows, missing, crashed)


def result_json(res: RegressResult) -> str:
    return json.dumps({"passed": res.passed, "alpha": res.alpha, "test": res.test, "missing": res.missing, "crashed": res.crashed,
                       "rows": [asdict(r) for r in res.rows]}, indent=2, sort_keys=True)
