"""The regression gate on hand-built records: exact mode, refusals, broken episodes, the statistical tests and
their power, Holm changing a verdict, and the CLI's exit codes on real run directories of the fake task."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import test_run  # noqa: F401  (registers the fake task and policies)
from ahabench.cli import app
from ahabench.report.regress import Reference, ReferenceMismatch, load_reference, reference_from_records, regress, write_reference
from ahabench.stats import min_detectable_drop, sign_test_less
from test_report import rec
from test_run import FAKE_TASK


def digest_rec(task: str, seed: int, success: bool = True, digest: str = "d0", **kw):
    r = rec(task, seed, success=success, **kw)
    r.extra = {"action_digest": f"{digest}-{task}-{seed}", "latency_scale": 1.0, "two_devices": False}
    return r


def grid(successes: dict[str, int], n: int = 4, **kw) -> list:
    """n episodes per task, the first ``successes[task]`` of them solved."""
    return [digest_rec(t, s, success=s < k, **kw) for t, k in successes.items() for s in range(n)]


def ref_of(records, tmp_path=None) -> Reference:
    if tmp_path is None:
        doc = reference_from_records(records)
        return Reference(doc["tasks"], {(e["task"], e["seed"]): e for e in doc["episodes"]}, doc["meta"], "ref")
    return load_reference(write_reference(tmp_path / "ref.json", records, {"run": "x"}))


def test_exact_mode_is_the_default_and_passes_an_identical_run(tmp_path):
    ref = ref_of(grid({"a": 1, "b": 4}), tmp_path)
    res = regress(grid({"a": 1, "b": 4}), ref)
    assert res.test == "exact" and res.passed and not res.changed
    assert [r.task for r in res.rows] == ["a", "b", "overall"]


@pytest.mark.parametrize("change, field", [
    (dict(success=False), "success"),  # a lost success
    (dict(t=3.0), "t_success_s"),  # same success, later
    (dict(digest="other"), "action_digest"),  # other actions, same outcome
])
def test_exact_mode_fails_on_any_changed_episode_and_lists_it(change, field):
    ref = ref_of(grid({"a": 2, "b": 4}))
    run = grid({"a": 2, "b": 4})
    run[4] = digest_rec("b", 0, **{"success": True, **change})
    res = regress(run, ref)
    assert res.test == "exact" and not res.passed
    assert [(c.task, c.seed) for c in res.changed] == [("b", 0)] and field in res.changed[0].diff
    assert res.explain()[0].startswith("changed episode: b seed 0: " + field)
    assert [r.changed for r in res.rows] == [0, 1, 1]


def test_exact_mode_fails_on_a_gain_too():
    """A policy that stopped working is caught even when the reference solves 1 of 6; so is an unexplained gain."""
    ref = ref_of(grid({"a": 1, "b": 0, "c": 0}, n=2))
    assert not regress(grid({"a": 0, "b": 0, "c": 0}, n=2), ref).passed
    assert not regress(grid({"a": 1, "b": 1, "c": 0}, n=2), ref).passed


@pytest.mark.parametrize("kw, named", [
    (dict(seeds=[2, 3, 4, 5]), "seeds of a: run 2,3,4,5, reference 0,1,2,3"),
    (dict(mode="blocking"), "mode: run blocking, reference async"),
    (dict(profile="other"), "profile: run other, reference prof"),
    (dict(tasks=["a"]), "reference tasks missing from the run: b"),
    (dict(tasks=["a", "b", "c"]), "run tasks not in the reference: c"),
])
def test_a_run_under_other_conditions_is_refused_naming_the_difference(kw, named):
    ref = ref_of(grid({"a": 4, "b": 4}))
    seeds, tasks = kw.pop("seeds", range(4)), kw.pop("tasks", ["a", "b"])
    run = [digest_rec(t, s, **kw) for t in tasks for s in seeds]
    with pytest.raises(ReferenceMismatch, match="run does not match the reference") as e:
        regress(run, ref)
    assert named in str(e.value)
    res = regress(run, ref, allow_mismatch=True, allow_underpowered=True)
    assert res.test in ("fisher", "paired") and named in res.mismatches


def test_a_run_with_other_task_args_is_refused():
    """A dynamic task's level and speed are run conditions: a level-2 run is not compared with a level-1 reference."""
    ref = ref_of(grid({"a": 4}))
    run = grid({"a": 4})
    for r in run:
        r.extra["task_args"] = {"level": 2}
    with pytest.raises(ReferenceMismatch, match='task_args: run {"level": 2}, reference None'):
        regress(run, ref)


def test_a_counts_only_reference_is_refused_without_seeds():
    run = grid({"a": 4})
    with pytest.raises(ReferenceMismatch, match="records no seeds"):
        regress(run, {"a": {"episodes": 4, "successes": 4}})
    res = regress(run, {"a": {"episodes": 40, "successes": 40}}, allow_mismatch=True)
    assert res.test == "fisher" and res.passed


@pytest.mark.parametrize("kind", ["crash", "bad_action"])
@pytest.mark.parametrize("test", ["exact", "statistical"])
def test_crashed_and_bad_action_episodes_fail_the_gate(kind, test):
    ref = ref_of(grid({"a": 0}, n=20))
    run = grid({"a": 0}, n=20)
    run[3] = digest_rec("a", 3, success=False, error="boom", error_kind=kind)
    if test == "statistical":  # nothing to lose at 0/20: a statistical test alone could never fail here
        with pytest.raises(ValueError, match="underpowered"):
            regress(run, ref, test=test)
    res = regress(run, ref, test=test, allow_underpowered=True)
    assert not res.passed and res.broken == [f"a seed 3: {kind}: boom"]


def test_a_crash_record_is_a_broken_episode_not_a_mismatch():
    """A crashed episode's record knows only the run config (registered policy name, no latency extras)."""
    ref = ref_of(grid({"a": 4}))
    run = grid({"a": 4})
    run[1] = rec("a", 1, success=False, error="RuntimeError: died", policy="registered-name", extra={"where": "x"})
    res = regress(run, ref)
    assert res.test == "exact" and not res.passed and res.broken == ["a seed 1: crash: RuntimeError: died"]


def test_statistical_mode_pairs_the_seeds_and_states_its_power():
    ref = ref_of(grid({"a": 6, "b": 6, "c": 6}, n=6))
    res = regress(grid({"a": 0, "b": 6, "c": 6}, n=6), ref, test="statistical")
    assert res.test == "paired" and res.detects_stop
    a = res.rows[0]
    assert a.p_value == pytest.approx(1 / 64) and a.p_adjusted == pytest.approx(3 / 64) and a.regressed
    assert a.min_drop == 6  # 0.5**k * 3 < 0.05 first at k = 6 (Holm over 3 tasks)
    assert res.rows[-1].min_drop == 5 and not res.passed  # pooled: 0.5**5 < 0.05
    # One task lost entirely is 2 of 6 pooled: below this reference's power, and said so.
    small = ref_of(grid({"a": 2, "b": 2, "c": 2}, n=2))
    res = regress(grid({"a": 0, "b": 2, "c": 2}, n=2), small, test="statistical")
    assert res.passed and res.rows[0].min_drop is None and res.rows[-1].min_drop == 5


def test_statistical_mode_refuses_a_reference_that_cannot_catch_a_stopped_policy():
    """The old CI reference: 1/6. Even 0/6 gives p = 0.5; the gate could only ever fail on a crash."""
    ref = ref_of(grid({"a": 1, "b": 0, "c": 0}, n=2))
    with pytest.raises(ValueError, match="underpowered.*1/6"):
        regress(grid({"a": 0, "b": 0, "c": 0}, n=2), ref, test="statistical")
    res = regress(grid({"a": 0, "b": 0, "c": 0}, n=2), ref, test="statistical", allow_underpowered=True)
    assert res.passed and res.detects_stop is False


def test_holm_changes_the_verdict():
    """Task a loses 5 of its 20 successes, b gains 5, c is unchanged. Paired sign test: a's p = 1/32 = 0.031 < 0.05
    alone, but 3 x 0.031 = 0.094 after Holm over three tasks, and pooled 5 losses vs 5 gains is no drop. Fisher on the
    counts only: 15/20 vs 20/20 gives p = 0.0236 alone, 0.071 after Holm."""
    counts = {"a": 20, "b": 10, "c": 20}
    ref = ref_of(grid(counts, n=20))
    run = grid({"a": 15, "b": 15, "c": 20}, n=20)
    paired = regress(run, ref, test="statistical")
    a = paired.rows[0]
    assert paired.test == "paired" and a.p_value == pytest.approx(1 / 32) and a.p_adjusted == pytest.approx(3 / 32)
    assert not a.regressed and paired.passed
    alone = regress([r for r in run if r.task == "a"], ref_of([r for r in grid(counts, n=20) if r.task == "a"]),
                    test="statistical")
    assert alone.rows[0].regressed and not alone.passed  # the same drop, no family to correct for

    fisher = regress(run, {t: {"episodes": 20, "successes": k} for t, k in counts.items()}, allow_mismatch=True)
    a = fisher.rows[0]
    assert fisher.test == "fisher" and a.p_value == pytest.approx(0.023562, abs=1e-6)
    assert a.p_adjusted == pytest.approx(3 * a.p_value) and not a.regressed and fisher.passed
    alone = regress([r for r in run if r.task == "a"], {"a": {"episodes": 20, "successes": 20}}, allow_mismatch=True)
    assert alone.rows[0].regressed and not alone.passed


def test_power_helpers():
    assert sign_test_less(0, 0) == 1.0 and sign_test_less(2, 0) == 0.25 and sign_test_less(1, 1) == 0.75
    assert min_detectable_drop(1, 6, 0.05, paired=False) is None  # 0/6 vs 1/6: p = 0.5
    assert min_detectable_drop(6, 6, 0.05, paired=False) == 4  # 2/6 vs 6/6: p = 0.03
    assert min_detectable_drop(2, 2, 0.05, paired=False, family=3) is None
    assert min_detectable_drop(40, 40, 0.05, paired=True) == 5


def test_reference_file_round_trip_and_bad_files(tmp_path):
    recs = grid({"a": 2})
    ref = ref_of(recs, tmp_path)
    assert ref.counts == {"a": {"episodes": 4, "successes": 2}} and ref.seeds == {"a": [0, 1, 2, 3]}
    assert ref.meta["mode"] == "async" and ref.meta["profile"] == "prof" and ref.deterministic
    assert ref.episodes[("a", 0)]["action_digest"] == "d0-a-0" and ref.episodes[("a", 3)]["t_success_s"] is None
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        load_reference(bad)
    bad.write_text(json.dumps({"tasks": {}}))
    with pytest.raises(ValueError, match="not an ahabench reference"):
        load_reference(bad)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        load_reference(tmp_path / "missing.json")


def test_cli_exit_codes_on_fake_runs(tmp_path):
    """0: same run; 1: a changed episode; 2: other seeds, or another policy, named in the red line."""
    r = CliRunner()

    def invoke(*args: str):
        return r.invoke(app, list(args))

    fake = ["--tasks", FAKE_TASK, "--import", "test_run"]
    for name, policy, seeds in (("exp", "expert", "0,1,2,3,4,5"), ("exp2", "expert", "0,1,2,3,4,5"),
                                ("other", "expert", "6,7,8,9,10,11"), ("hold", "hold", "0,1,2,3,4,5")):
        assert invoke("eval", "-p", policy, *fake, "--seeds", seeds, "-n", "6", "-o", str(tmp_path / name)).exit_code == 0
    ref = tmp_path / "ref.json"
    assert invoke("regress", str(tmp_path / "exp"), "--write-reference", str(ref)).exit_code == 0
    ok = invoke("regress", str(tmp_path / "exp2"), "--reference", str(ref))
    assert ok.exit_code == 0 and "every episode matches" in ok.output, ok.output
    seeds = invoke("regress", str(tmp_path / "other"), "--reference", str(ref))
    assert seeds.exit_code == 2 and "seeds of h6_fake_reach: run 6,7,8,9,10,11" in seeds.output, seeds.output
    hold = invoke("regress", str(tmp_path / "hold"), "--reference", str(ref))
    assert hold.exit_code == 2 and "policy: run hold, reference expert" in hold.output, hold.output
    stat = invoke("regress", str(tmp_path / "hold"), "--reference", str(ref), "--allow-mismatch")
    assert stat.exit_code == 1 and "sign test" in stat.output and "5 of 6 successes" in stat.output, stat.output
    doc = json.loads(ref.read_text())
    doc["episodes"][0]["success"] = False  # the reference says seed 0 failed: the run now differs there
    doc["tasks"][FAKE_TASK]["successes"] -= 1
    ref.write_text(json.dumps(doc))
    changed = invoke("regress", str(tmp_path / "exp2"), "--reference", str(ref))
    assert changed.exit_code == 1 and "changed episode: h6_fake_reach seed 0: success False -> True" in changed.output
