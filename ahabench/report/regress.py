"""Regression gate: a run against a stored reference, episode by episode when it can, statistically when not.

**Same conditions or a refusal.** The run must have been made on the reference's tasks and seeds, with its
policy, setting, mode, latency model, profile and latency scale; any difference raises :class:`ReferenceMismatch`
naming it (the CLI exits 2), unless ``allow_mismatch`` (then only the common tasks are tested, statistically).

**Exact mode** (the default when both sides used a deterministic latency model: ``profile``, ``roofline`` or
``fixed``, never ``measured``). Such runs are byte-deterministic, so every episode of the run is compared with the
same (task, seed) episode of the reference: success, ``t_success_s``, ``error_kind`` and the trajectory
fingerprint ``extra["action_digest"]`` (a hash of every executed action, see :mod:`ahabench.engine.episode`). Any
change fails the gate and is listed, a gain included: a changed episode means the policy or the harness changed,
and the reference has to be made again on purpose (``make ci-reference``).

**Statistical mode** (a ``measured`` run, ``test="statistical"``, or a mismatch let through). Per task a one-sided
test of H1 "the run succeeds less often": the exact **sign test** (McNemar) on the paired episodes when the seeds
match, else **Fisher's exact test** on the 2x2 counts (small counts, rates near 0 or 1: no normal approximation).
The per-task p-values are **Holm-corrected**; the pooled counts get one more test at ``alpha``. Every row states
its power: :func:`ahabench.stats.min_detectable_drop`, the fewest lost successes the test can flag at the
reference's size. A reference whose pooled test cannot flag even a run that solves nothing (a policy that
stopped working) is refused as underpowered unless ``allow_underpowered``.

In both modes a crashed episode (``error_kind="crash"``) or a refused action (``"bad_action"``: NaN, out of
range) fails the gate outright: a broken policy or harness is not a statistical question.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ahabench.records import EpisodeRecord
from ahabench.rundir import OVERALL
from ahabench.stats import fisher_exact_less, holm_adjust, min_detectable_drop, sign_test_less

REFERENCE_KIND = "ahabench-reference"
REFERENCE_VERSION = 2
TESTS: tuple[str, ...] = ("auto", "exact", "statistical")
#: Run conditions that must match the reference's (record fields, or keys of ``record.extra``).
CONDITION_KEYS: tuple[str, ...] = ("policy", "setting", "mode", "profile", "latency", "latency_scale", "two_devices",
                                   "task_args")
#: Per-episode fields compared in exact mode.
OUTCOME_KEYS: tuple[str, ...] = ("success", "t_success_s", "error_kind", "action_digest")
BROKEN_KINDS: tuple[str, ...] = ("crash", "bad_action")


class ReferenceMismatch(ValueError):
    """The run was not made under the reference's conditions (tasks, seeds, mode, profile, ...)."""


@dataclass
class Reference:
    """What a run is tested against. episodes: (task, seed) -> outcome (see :func:`outcome`); None for a
    reference file that holds only counts (written before per-episode references)."""

    counts: dict[str, dict[str, int]]
    episodes: dict[tuple[str, int], dict[str, Any]] | None
    meta: dict[str, Any]
    source: str = ""

    @property
    def seeds(self) -> dict[str, list[int]] | None:
        if self.episodes is None:
            return None
        out: dict[str, list[int]] = {}
        for task, seed in sorted(self.episodes):
            out.setdefault(task, []).append(seed)
        return out

    @property
    def deterministic(self) -> bool:
        return bool(self.meta.get("deterministic", self.meta.get("latency") not in (None, "measured")))


@dataclass
class RegressRow:
    task: str
    ref_successes: int
    ref_episodes: int
    run_successes: int
    run_episodes: int
    p_value: float | None  # None in exact mode
    p_adjusted: float | None
    regressed: bool
    min_drop: int | None = None  # statistical mode: fewest lost successes the test can flag (None: none)
    changed: int = 0  # exact mode: episodes that differ from the reference


@dataclass
class EpisodeChange:
    task: str
    seed: int
    diff: dict[str, tuple[Any, Any]]  # field -> (reference, run)

    def describe(self) -> str:
        parts = ", ".join(f"{k} {_show(a)} -> {_show(b)}" for k, a, b in ((k, *v) for k, v in self.diff.items()))
        return f"{self.task} seed {self.seed}: {parts}"


@dataclass
class RegressResult:
    alpha: float
    test: str  # "exact", "paired" (sign test) or "fisher"
    description: str
    rows: list[RegressRow]
    missing: list[str] = field(default_factory=list)  # reference tasks the run did not evaluate (mismatch allowed)
    broken: list[str] = field(default_factory=list)  # "task seed N: kind: message" of crashed / bad-action episodes
    changed: list[EpisodeChange] = field(default_factory=list)  # exact mode
    mismatches: list[str] = field(default_factory=list)  # differences let through with allow_mismatch

    @property
    def passed(self) -> bool:
        return not self.broken and not self.changed and not any(r.regressed for r in self.rows)

    @property
    def detects_stop(self) -> bool | None:
        """Statistical mode: whether the pooled test would flag a run that solves nothing."""
        if self.test == "exact":
            return None
        return any(r.task == OVERALL and r.min_drop is not None for r in self.rows)

    def explain(self) -> list[str]:
        out = [f"broken episode: {b}" for b in self.broken]
        out += [f"changed episode: {c.describe()}" for c in self.changed]
        for r in self.rows:
            if r.regressed and self.test != "exact":
                out.append(f"{r.task}: {r.run_successes}/{r.run_episodes} vs reference "
                           f"{r.ref_successes}/{r.ref_episodes} (one-sided p={r.p_value:.4g}, "
                           f"adjusted {r.p_adjusted:.4g} < alpha {self.alpha})")
        return out


def _show(v: Any) -> str:
    return "-" if v is None else str(v)


def _round(v: Any) -> Any:
    return round(v, 6) if isinstance(v, float) else v


def outcome(r: EpisodeRecord) -> dict[str, Any]:
    """The per-episode fields exact mode compares (:data:`OUTCOME_KEYS`)."""
    return {"success": bool(r.success_once), "t_success_s": _round(r.t_success_s), "error_kind": r.error_kind,
            "action_digest": (r.extra or {}).get("action_digest")}


def counts(records: Sequence[EpisodeRecord]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in records:
        c = out.setdefault(r.task, {"episodes": 0, "successes": 0})
        c["episodes"] += 1
        c["successes"] += int(r.success_once)
    return dict(sorted(out.items()))


def _condition_value(v: Any) -> Any:
    return json.dumps(v, sort_keys=True) if isinstance(v, dict) else v  # task_args: a dict, compared as text


def conditions(records: Sequence[EpisodeRecord]) -> dict[str, str]:
    """The run's :data:`CONDITION_KEYS`, each as its distinct values joined by ',' (a mixed run shows all).
    Crashed episodes are left out when others exist: their records hold only what the run config knew."""
    records = [r for r in records if r.error_kind != "crash"] or list(records)
    out = {}
    for key in CONDITION_KEYS:
        vals = {_condition_value(getattr(r, key) if hasattr(r, key) else (r.extra or {}).get(key)) for r in records}
        out[key] = ",".join(sorted(str(v) for v in vals))
    return out


def seeds_of(records: Sequence[EpisodeRecord]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for r in sorted(records, key=lambda r: (r.task, r.seed)):
        out.setdefault(r.task, []).append(int(r.seed))
    return out


def broken_episodes(records: Sequence[EpisodeRecord]) -> list[str]:
    return [f"{r.task} seed {r.seed}: {r.error_kind}: {r.error}" for r in records if r.error_kind in BROKEN_KINDS]


def reference_from_records(records: Sequence[EpisodeRecord], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    full = {**conditions(records), "deterministic": all(r.reproducible for r in records), **(meta or {})}
    eps = [{"task": r.task, "seed": int(r.seed), **outcome(r)} for r in sorted(records, key=lambda r: (r.task, r.seed))]
    return {"kind": REFERENCE_KIND, "version": REFERENCE_VERSION, "meta": full, "tasks": counts(records),
            "episodes": eps}


def write_reference(path: Path, records: Sequence[EpisodeRecord], meta: dict[str, Any] | None = None) -> Path:
    from ahabench.fileio import atomic_write_text

    atomic_write_text(Path(path), json.dumps(reference_from_records(records, meta), indent=2, sort_keys=True) + "\n")
    return Path(path)


def _from_records(records: Sequence[EpisodeRecord], source: str) -> Reference:
    doc = reference_from_records(records)
    return Reference(doc["tasks"], {(r.task, int(r.seed)): outcome(r) for r in records}, doc["meta"], source)


def load_reference(path: Path) -> Reference:
    """A reference file (``--write-reference``), or a run directory used as one (its episodes.jsonl)."""
    path = Path(path)
    if path.is_dir():
        from ahabench.rundir import EPISODES, read_episodes

        recs = read_episodes(path / EPISODES)
        if not recs:
            raise ValueError(f"reference run {path} has no episodes")
        return _from_records(recs, str(path))
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
    tasks = {t: {"episodes": int(c["episodes"]), "successes": int(c["successes"])} for t, c in data["tasks"].items()}
    episodes = None
    if "episodes" in data:
        try:
            episodes = {(str(e["task"]), int(e["seed"])): {k: e.get(k) for k in OUTCOME_KEYS} for e in data["episodes"]}
        except (TypeError, KeyError, ValueError) as e:
            raise ValueError(f"{path}: malformed 'episodes' entry ({e!r}); each needs task and seed") from e
    return Reference(tasks, episodes, dict(data.get("meta") or {}), str(path))


def mismatches(records: Sequence[EpisodeRecord], ref: Reference) -> list[str]:
    """Every way the run's tasks, seeds and conditions differ from the reference's, one phrase each."""
    out = []
    run_seeds = seeds_of(records)
    extra, absent = sorted(set(run_seeds) - set(ref.counts)), sorted(set(ref.counts) - set(run_seeds))
    if absent:
        out.append(f"reference tasks missing from the run: {', '.join(absent)}")
    if extra:
        out.append(f"run tasks not in the reference: {', '.join(extra)}")
    if ref.seeds is None:
        out.append("the reference records no seeds (a counts-only file: write it again with --write-reference)")
    else:
        for task in sorted(set(run_seeds) & set(ref.seeds)):
            if run_seeds[task] != ref.seeds[task]:
                out.append(f"seeds of {task}: run {_seed_list(run_seeds[task])}, "
                           f"reference {_seed_list(ref.seeds[task])}")
    run_cond = conditions(records)
    for key in CONDITION_KEYS:
        if key in ref.meta and ref.meta[key] is not None and str(ref.meta[key]) != run_cond[key]:
            out.append(f"{key}: run {run_cond[key]}, reference {ref.meta[key]}")
    return out


def _seed_list(seeds: list[int]) -> str:
    return ",".join(map(str, seeds)) if len(seeds) <= 6 else f"{seeds[0]}..{seeds[-1]} ({len(seeds)} seeds)"


def exact_changes(records: Sequence[EpisodeRecord], ref: Reference) -> list[EpisodeChange]:
    """Episodes of the run whose outcome differs from the reference's same (task, seed) episode. The action
    digest is compared only when both sides record one (runs from before it have none)."""
    assert ref.episodes is not None
    out = []
    for r in sorted(records, key=lambda r: (r.task, r.seed)):
        want, got = ref.episodes.get((r.task, int(r.seed))), outcome(r)
        if want is None:
            continue
        diff = {}
        for k in OUTCOME_KEYS:
            a, b = want.get(k), got[k]
            if a != b and not (k == "action_digest" and (a is None or b is None)):
                diff[k] = (a, b)
        if diff:
            out.append(EpisodeChange(r.task, int(r.seed), diff))
    return out


def _exact(records: Sequence[EpisodeRecord], ref: Reference, alpha: float) -> RegressResult:
    changed = exact_changes(records, ref)
    run = counts(records)
    n_changed = {t: sum(c.task == t for c in changed) for t in run}
    rows = [RegressRow(t, ref.counts[t]["successes"], ref.counts[t]["episodes"], run[t]["successes"],
                       run[t]["episodes"], None, None, n_changed[t] > 0, changed=n_changed[t]) for t in run]
    tot = [sum(getattr(r, a) for r in rows) for a in ("ref_successes", "ref_episodes", "run_successes", "run_episodes")]
    rows.append(RegressRow(OVERALL, *tot, None, None, bool(changed), changed=len(changed)))
    return RegressResult(alpha, "exact", "exact: every episode against the same seed's reference episode "
                         "(success, t_success, error, action digest)", rows, changed=changed)


def _statistical(records: Sequence[EpisodeRecord], ref: Reference, alpha: float) -> RegressResult:
    run = counts(records)
    tasks = [t for t in sorted(ref.counts) if t in run]
    paired = ref.episodes is not None and all(seeds_of(records)[t] == (ref.seeds or {}).get(t) for t in tasks)
    mine = {(r.task, int(r.seed)): bool(r.success_once) for r in records}

    def test(ts: list[str]) -> float:
        if paired:
            pairs = [(bool(ref.episodes[k]["success"]), mine[k]) for k in ref.episodes if k[0] in ts]  # type: ignore[index]
            return sign_test_less(sum(a and not b for a, b in pairs), sum(b and not a for a, b in pairs))
        return fisher_exact_less(sum(run[t]["successes"] for t in ts), sum(run[t]["episodes"] for t in ts),
                                 sum(ref.counts[t]["successes"] for t in ts), sum(ref.counts[t]["episodes"] for t in ts))

    pvals = [test([t]) for t in tasks]
    adj = holm_adjust(pvals)
    rows = [RegressRow(t, ref.counts[t]["successes"], ref.counts[t]["episodes"], run[t]["successes"],
                       run[t]["episodes"], p, pa, pa < alpha,
                       min_detectable_drop(ref.counts[t]["successes"], ref.counts[t]["episodes"], alpha, paired,
                                           len(tasks)))
            for t, p, pa in zip(tasks, pvals, adj)]
    if tasks:
        p = test(tasks)
        fs, fn = sum(r.ref_successes for r in rows), sum(r.ref_episodes for r in rows)
        rows.append(RegressRow(OVERALL, fs, fn, sum(r.run_successes for r in rows), sum(r.run_episodes for r in rows),
                               p, p, p < alpha, min_detectable_drop(fs, fn, alpha, paired)))
    name = ("one-sided exact sign test (McNemar) on the paired seeds" if paired
            else "one-sided Fisher exact") + " per task, Holm-corrected; pooled overall"
    return RegressResult(alpha, "paired" if paired else "fisher", name, rows,
                         missing=[t for t in sorted(ref.counts) if t not in run])


def regress(records: Sequence[EpisodeRecord], reference: Reference | dict[str, dict[str, int]], alpha: float = 0.05,
            test: str = "auto", allow_mismatch: bool = False, allow_underpowered: bool = False) -> RegressResult:
    """Test ``records`` against ``reference`` (a :class:`Reference`, or bare per-task counts).

    test: ``auto`` (exact when possible, see the module docstring), ``exact`` or ``statistical``.
    Raises :class:`ReferenceMismatch` for a run not made under the reference's conditions (unless
    ``allow_mismatch``), ValueError for an impossible ``test="exact"`` or an underpowered statistical test.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; choices: {', '.join(TESTS)}")
    ref = reference if isinstance(reference, Reference) else Reference(dict(reference), None, {})
    diff = mismatches(records, ref)
    if diff and not allow_mismatch:
        raise ReferenceMismatch(f"run does not match the reference {ref.source}: {'; '.join(diff)} "
                                "(--allow-mismatch tests it anyway, statistically)")
    deterministic = ref.deterministic and all(r.reproducible for r in records)
    exact_ok = not diff and ref.episodes is not None and deterministic
    if test == "exact" and not exact_ok:
        why = ("the runs differ: " + "; ".join(diff) if diff else "the reference has no per-episode outcomes"
               if ref.episodes is None else "a side used the measured latency model (not deterministic)")
        raise ValueError(f"exact mode needs the same seeds and conditions on deterministic runs: {why}")
    if test == "exact" or (test == "auto" and exact_ok):
        res = _exact(records, ref, alpha)
    else:
        res = _statistical(records, ref, alpha)
        if not res.detects_stop and not allow_underpowered:
            tot = next((r for r in res.rows if r.task == OVERALL), None)
            size = f"{tot.ref_successes}/{tot.ref_episodes}" if tot else "no common task"
            raise ValueError(f"underpowered: against reference {ref.source} ({size}) the {res.test} test cannot "
                             f"flag even a run that solves nothing at alpha {alpha}; use more episodes, exact "
                             "mode, or --allow-underpowered")
    res.broken = broken_episodes(records)
    res.mismatches = diff
    return res


def result_json(res: RegressResult) -> str:
    return json.dumps({"passed": res.passed, "alpha": res.alpha, "test": res.test, "description": res.description,
                       "missing": res.missing, "broken": res.broken, "mismatches": res.mismatches,
                       "detects_stop": res.detects_stop, "changed": [asdict(c) for c in res.changed],
                       "rows": [asdict(r) for r in res.rows]}, indent=2, sort_keys=True, default=str)
