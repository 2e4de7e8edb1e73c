"""Reporting on hand-built records: summaries, compare speedups, sweep files, report page (regress: test_regress)."""

import json

import pytest

from ahabench.records import EpisodeRecord
from ahabench.report.compare import compare_markdown, compare_records
from ahabench.report.sweep import SweepPoint, write_sweep
from ahabench.rundir import load_summary, summarize, summary_to_csv, write_manifest, write_sorted_episodes, write_summary


def rec(task="a", seed=0, success=True, t=2.0, chunk_ms=41.37, n_chunks=10, policy="p", error=None, **kw):
    base = dict(task=task, setting="clean", seed=seed, policy=policy, mode="async", profile="prof", latency="profile",
                success_once=success, success_at_end=success, t_success_s=t if success else None, sim_time_s=4.0,
                ticks=100, n_chunks=n_chunks, n_prefills=5, chunk_ms_mean=chunk_ms, chunk_ms_p50=chunk_ms,
                chunk_ms_p95=chunk_ms, chunk_ms_p99=chunk_ms, prefill_ms_mean=34.59, prefill_ms_p50=34.59,
                prefill_ms_p95=34.59, chunk_hz=1000 / chunk_ms if chunk_ms else None, achieved_chunk_rate=2.5,
                reaction_ms_p50=80.0, reaction_ms_p95=120.0, stale_ratio=0.1, hold_ratio=0.05,
                context_age_ms_p50=40.0, context_age_ms_max=90.0, actions_produced=100, actions_stale=10,
                ticks_held=5, frames_rendered=20, frames_consumed=20, error=error,
                error_kind="crash" if error else None)
    base.update(kw)
    return EpisodeRecord(**base)


def test_summary_counts_errors_apart_and_pools():
    recs = [rec("a", 0), rec("a", 1, success=False), rec("a", 2, success=False, error="boom", n_chunks=0, chunk_ms=None),
            rec("b", 0, t=4.0, chunk_ms=20.0, n_chunks=30), rec("b", 1, t=6.0, chunk_ms=20.0, n_chunks=10)]
    rows = summarize(recs)
    assert [r.task for r in rows] == ["a", "b", "overall"]
    a, b, o = rows
    assert (a.episodes, a.successes, a.failures, a.errors) == (3, 1, 1, 1)
    assert a.success_rate == pytest.approx(1 / 3)
    assert b.t_success_mean_s == pytest.approx(5.0)
    assert b.chunk_hz == pytest.approx(50.0)
    # overall chunk latency is pooled over chunks: (10*41.37*2 + 40*20) / 60
    assert o.chunk_ms_mean == pytest.approx((20 * 41.37 + 40 * 20.0) / 60)
    assert (o.episodes, o.successes, o.errors) == (5, 3, 1)
    assert o.task_mean_success == pytest.approx((1 / 3 + 1.0) / 2)
    assert o.stale_ratio == pytest.approx(50 / 500)
    csv_text = summary_to_csv(rows)
    assert csv_text.splitlines()[0].startswith("task,episodes,successes,failures,errors,success_rate,ci_low")


def test_summary_roundtrip(tmp_path):
    rows = summarize([rec("a", 0), rec("a", 1, success=False)])
    write_summary(tmp_path, rows, meta={"policy": "p"})
    back = load_summary(tmp_path)
    assert [r.task for r in back] == ["a", "overall"] and back[0].successes == 1


def test_compare_paper_and_task_speedups():
    # The paper's figures: AHA-WAM 41.37 ms vs Fast-WAM 190 ms per chunk -> 24.17 Hz vs 5.26 Hz = 4.59x.
    aha = [rec("a", s, t=2.0, chunk_ms=41.37, policy="aha-wam") for s in range(3)]
    fast = ([rec("a", s, t=3.0, chunk_ms=190.0, policy="fast-wam") for s in range(2)]
            + [rec("a", 2, success=False, chunk_ms=190.0, policy="fast-wam")])
    rows = compare_records({"aha-wam": aha, "fast-wam": fast}, baseline="fast-wam")
    by = {(r.task, r.policy): r for r in rows}
    r = by[("overall", "aha-wam")]
    assert r.chunk_hz == pytest.approx(24.17, abs=0.005)
    assert by[("overall", "fast-wam")].chunk_hz == pytest.approx(5.26, abs=0.005)
    assert r.speedup_hz == pytest.approx(190 / 41.37) and round(r.speedup_hz, 2) == 4.59
    assert r.speedup_task == pytest.approx(1.5) and r.both_solved == 2  # seed 2 only aha solved
    assert by[("a", "fast-wam")].speedup_hz == pytest.approx(1.0)
    md = compare_markdown(rows, "fast-wam")
    assert "| overall | aha-wam | async | 3/3 (100.0%)" in md and "4.59" in md
    with pytest.raises(KeyError, match="nope"):
        compare_records({"x": aha}, baseline="nope")


def test_sweep_files(tmp_path):
    pts = [SweepPoint(v, tmp_path / f"r{v}", summarize([rec("a", s, success=s < 4 - i) for s in range(4)]))
           for i, v in enumerate([0.5, 1.0, 2.0])]
    csv_path, png = write_sweep(tmp_path, "latency_scale", pts)
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("latency_scale,task,episodes,successes,success_rate")
    assert len(lines) == 1 + 3 * 2  # task a + overall per point
    assert png.stat().st_size > 1000
    with pytest.raises(ValueError, match="knob 'speed'"):
        write_sweep(tmp_path, "speed", pts)


def test_report_page_with_stored_timeline(tmp_path):
    from ahabench.clock.timeline import JobRecord, TickRecord, Timeline
    from ahabench.report.markdown import write_report

    recs = [rec("a", 0), rec("a", 1, success=False, error="RuntimeError: x")]
    write_manifest(tmp_path, {"policy": "p", "mode": "async", "setting": "clean", "tasks": ["a"], "episodes": 2,
                              "latency": "profile", "profile": "prof", "seed": 0}, {"a": [0, 1]})
    write_sorted_episodes(tmp_path / "episodes.jsonl", recs)
    tl = Timeline(dt_us=40000, mode="async", max_steps=10, devices=["gpu0"],
                  jobs=[JobRecord(0, "prefill", "gpu0", 0, 0, "done", 0, 34590, 34590),
                        JobRecord(1, "chunk", "gpu0", 34590, 0, "done", 34590, 75960, 41370)],
                  ticks=[TickRecord(k, None if k < 2 else 1, max(0, 14 - k)) for k in range(10)])
    (tmp_path / "timelines").mkdir()
    (tmp_path / "timelines" / "a_seed0.json").write_text(json.dumps(tl.to_dict()))  # as older reports left it
    path = write_report(tmp_path)
    text = path.read_text()
    assert "| a | 1/2 (50.0%)" in text and "![timeline](plots/timeline.png)" in text
    assert "a seed 1: crash: RuntimeError: x" in text
    for name in ("success", "rates", "timeline"):
        assert (tmp_path / "plots" / f"{name}.png").stat().st_size > 1000


def test_compare_pairs_episodes_by_seed_for_mcnemar_and_the_t_success_interval():
    base = [rec(seed=s, success=s < 4, t=3.0, policy="b") for s in range(8)]
    fast = [rec(seed=s, success=s >= 2, t=2.0 + 0.1 * s, policy="f") for s in range(8)]
    rows = {(r.task, r.policy): r for r in compare_records({"f": fast, "b": base}, baseline="b")}
    r = rows[("a", "f")]
    assert (r.gains, r.losses) == (4, 2) and r.mcnemar_p == pytest.approx(2 * (1 + 6 + 15) / 64)
    # both solved seeds 2 and 3: differences -0.8 and -0.7
    assert r.dt_success_mean_s == pytest.approx(-0.75) and -0.8 <= r.dt_success_ci_low <= r.dt_success_ci_high <= -0.7
    assert rows[("a", "b")].mcnemar_p == 1.0 and "McNemar" in compare_markdown(list(rows.values()), "b")


def test_critical_latency_is_the_last_value_keeping_the_fraction_with_its_bracket(tmp_path):
    from pathlib import Path

    from ahabench.report.sweep import SweepPoint, critical_points

    def point(ms, wins):  # 10 episodes of task a, ``wins`` solved
        return SweepPoint(ms, Path("."), summarize([rec(seed=s, success=s < wins) for s in range(10)]))

    pts = [point(200, 7), point(0, 10), point(100, 9), point(400, 2), point(300, 9)]  # any order
    a = {c.task: c for c in critical_points(pts, keep=0.8)}["a"]
    # 0 ms: 100%; keep 80%: 100 ms (90%) passes, 200 ms (70%) fails; 300 ms passing again does not count
    assert (a.reference_value, a.critical_value, a.first_failing) == (0, 100, 200)
    assert a.critical_success == 0.9 and a.critical_ci_low < 0.9 < a.critical_ci_high
    none = critical_points([point(0, 10), point(50, 1)], keep=0.5)[0]
    assert none.critical_value == 0 and none.first_failing == 50
    allpass = critical_points([point(0, 10), point(50, 10)])[0]
    assert allpass.critical_value == 50 and allpass.first_failing is None


def test_manifest_is_typed_written_and_read_in_one_place(tmp_path):
    import json

    from ahabench.rundir import Manifest, read_manifest

    m = write_manifest(tmp_path, {"policy": "p", "mode": "async", "policy_kwargs": {"checkpoint": "ck"}}, {"a": [1, 2, 3]},
                       extra={"note": "x"})
    back = read_manifest(tmp_path)
    assert back == m and back.get("mode") == "async" and back.checkpoint == "ck" and back.episodes_per_task == 3
    assert back.extra == {"note": "x"} and back.git == m.git and back.created_utc
    # a manifest from an older ahabench (fewer keys) still reads
    (tmp_path / "manifest.json").write_text(json.dumps({"config": {"policy": "p", "episodes": 4}, "seeds": {}}))
    old = read_manifest(tmp_path)
    assert old.checkpoint is None and old.episodes_per_task == 4 and old.versions == {} and isinstance(old, Manifest)


def test_sweep_plot_takes_wilson_bounds_a_rounding_error_inside_the_rate(tmp_path):
    """60/60 has a Wilson upper bound of 0.9999999999999998: matplotlib refuses negative error bars."""
    from ahabench.report.plots import plot_sweep
    from ahabench.stats import wilson_interval

    lo, hi = wilson_interval(60, 60)
    assert plot_sweep([0.0, 100.0], {"overall": [(1.0, lo, hi), (0.0, *wilson_interval(0, 60))]}, tmp_path / "s.png",
                      "delay (ms)").stat().st_size > 1000
