"""Smoke tests of the benchmarks (ahabench.bench) and the expert-success table (ahabench.experts.success_table)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pandas as pd
import pytest

os.environ.setdefault("LP_NUM_THREADS", "1")

from ahabench.bench import run_bench  # noqa: E402
from ahabench.bench.models_bench import BREAKDOWN_COLUMNS, MODEL_COLUMNS, bench_models, call_breakdown  # noqa: E402
from ahabench.bench.tasks_bench import TASK_COLUMNS  # noqa: E402
from ahabench.experts.success_table import COLUMNS, THRESHOLD, SeedResult, measure_expert_success, summarize, write_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# ManiSkill's PickCube: the cheapest task to build, render and solve (its expert is ~70 actions).
TASK = "PickCube"


def test_run_bench_writes_task_and_model_tables(tmp_path):
    res = run_bench(tmp_path, tasks=[TASK], physics_steps=4, render_steps=2, expert_episode=True,
                    repetitions=1, warmup=0, steps_list=(1, 2), measured_eval=False, train=False, serve=False,
                    episode_time=False, throughput=False)
    assert set(res["files"]) == {str(tmp_path / f) for f in ("tasks.csv", "tasks.json", "models.csv", "models.json",
                                                                    "latency_breakdown.csv")}

    tasks = pd.read_csv(tmp_path / "tasks.csv")
    assert list(tasks.columns) == TASK_COLUMNS + ["bench_wall_s"]
    row = tasks.iloc[0]
    assert row.task == TASK and row.suite == "maniskill" and row.cameras == 2
    assert (row.camera_h, row.camera_w) == (64, 80)
    assert row.physics_steps == 4 and row.physics_steps_per_s > 0 and row.render_steps_per_s > 0
    assert row.physics_cpu_steps_per_s > 0 and row.render_cpu_ms_per_step > 0 and row.expert_episode_cpu_s > 0
    assert bool(row.expert_success) and 0 < row.expert_steps <= 200 and row.expert_episode_wall_s > 0
    doc = json.loads((tmp_path / "tasks.json").read_text())
    assert doc["machine"]["cpu_count"] >= 1 and doc["machine"]["versions"]["sapien"]
    assert doc["errors"] == {} and doc["tasks"][0]["task"] == TASK

    models = pd.read_csv(tmp_path / "models.csv")
    assert list(models.columns) == MODEL_COLUMNS
    assert set(models.model) == {"aha-wam", "fast-wam"} and (models.threads == 1).all()
    assert (models.median_ms > 0).all() and (models.repetitions == 1).all()
    aha = set(models[models.model == "aha-wam"].component)
    assert {"tokenizer_encode", "planner_prefill", "ovcr", "denoise_step", "denoise_total", "chunk_call",
            "prefill_call"} <= aha
    fast = models[models.model == "fast-wam"]
    assert "ovcr" not in set(fast.component) and sorted(fast[fast.component == "fast_call"].steps) == [1, 2]
    mdoc = json.loads((tmp_path / "models.json").read_text())
    assert mdoc["torch_threads_used"] == 1 and mdoc["parameters"]["aha-wam"]["ovcr"] > 0
    assert [r["steps"] for r in mdoc["summary"]] == [1, 2]
    assert all(r["aha_chunk_call_ms"] > 0 and r["fast_call_ms"] > 0 for r in mdoc["summary"])
    assert res["models"] == mdoc["summary"]
    brk = pd.read_csv(tmp_path / "latency_breakdown.csv")
    assert list(brk.columns) == BREAKDOWN_COLUMNS and len(brk) == 4  # 2 models x 2 step counts
    assert (brk[brk.model == "aha-wam"].prefill_ms == 0).all() and (brk[brk.model == "fast-wam"].prefill_ms > 0).all()
    assert (brk[brk.model == "fast-wam"].ovcr_ms == 0).all() and (brk[brk.model == "aha-wam"].ovcr_ms > 0).all()


def test_call_breakdown_adds_the_parts_of_each_call():
    rows = [("aha-wam", "tokenizer_encode", None, 2.0), ("aha-wam", "ovcr", None, 1.0), ("aha-wam", "executor_setup", None, 1.5),
            ("aha-wam", "denoise_total", 10, 20.0), ("aha-wam", "chunk_call", 10, 24.0),
            ("aha-wam", "prefill_call", None, 8.0),
            ("fast-wam", "tokenizer_encode", None, 2.0), ("fast-wam", "planner_prefill_empty", None, 5.0),
            ("fast-wam", "executor_setup", None, 0.5), ("fast-wam", "denoise_total", 10, 30.0),
            ("fast-wam", "fast_call", 10, 36.0)]
    df = pd.DataFrame([dict(model=m, component=c, steps=k, cpu_median_ms=v) for m, c, k, v in rows])
    brk = call_breakdown(df).set_index("model")
    aha, fast = brk.loc["aha-wam"], brk.loc["fast-wam"]
    assert (aha.ovcr_ms, aha.executor_setup_ms, aha.parts_sum_ms, aha.planner_ms_per_chunk) == (1.0, 0.5, 23.5, 4.0)
    assert aha.call_ms_per_action == 24.0 / 16
    assert (fast.prefill_ms, fast.parts_sum_ms, fast.call_ms_per_action) == (5.0, 37.5, 36.0 / 24)


def test_models_bench_denoising_cost_grows_with_steps():
    # CPU time of the calling thread (one torch thread) does not count waiting for a core: 10 Euler steps
    # must cost clearly more than 1 even on a loaded machine.
    df = bench_models(None, models=("aha-wam",), steps_list=(1, 10), repetitions=3, warmup=1)
    tot = df[df.component == "denoise_total"].set_index("steps").cpu_median_ms
    assert tot[10] > 3 * tot[1]
    assert df.weights.iloc[0] == "random-init" or df.weights.iloc[0].startswith("checkpoint:")


def test_models_bench_rejects_bad_settings():
    with pytest.raises(ValueError, match="repetitions"):
        bench_models(None, repetitions=0)


def test_summarize_counts_successes_and_failed_seeds():
    rs = [SeedResult(TASK, 2, True, 60, 1.0), SeedResult(TASK, 0, True, 80, 2.0),
          SeedResult(TASK, 1, False, 200, 3.0, "RuntimeError: boom")]
    row = summarize(rs).iloc[0]
    assert (row.seeds, row.successes, row.errors, row.failed_seeds) == (3, 2, 1, "1")
    assert math.isclose(row.success_rate, 2 / 3) and row.mean_expert_steps == 70  # successes only
    assert math.isclose(row.mean_episode_wall_s, 2.0) and row.suite == "maniskill"


def test_measure_expert_success_one_task_in_process():
    df = measure_expert_success([TASK], range(2), workers=1)
    assert list(df.columns) == COLUMNS
    row = df.iloc[0]
    assert (row.task, row.seeds, row.setting) == (TASK, 2, "clean")
    assert row.successes == 2 and row.success_rate == 1.0 and row.mean_expert_steps > 0 and row.errors == 0
    with pytest.raises(KeyError, match="no_such_task"):
        measure_expert_success(["no_such_task"], range(1))


def test_write_table_replaces_measured_rows_and_keeps_others(tmp_path):
    path = tmp_path / "t.csv"
    a = summarize([SeedResult("PushCube", 0, True, 50, 1.0)])
    b = summarize([SeedResult("stack_blocks_two", 0, False, 400, 3.0)])
    write_table(a, path)
    write_table(b, path)
    t = pd.read_csv(path, keep_default_na=False)
    assert list(t.task) == ["stack_blocks_two", "PushCube"]  # suite order: robotwin before maniskill
    write_table(summarize([SeedResult("stack_blocks_two", 0, True, 300, 3.0)]), path)
    t = pd.read_csv(path, keep_default_na=False)
    assert len(t) == 2 and t.set_index("task").loc["stack_blocks_two", "successes"] == 1
    with pytest.raises(ValueError, match="missing columns"):
        write_table(a.drop(columns="failed_seeds"), path)


def _committed_table():
    from ahabench.task_registry import suites

    table = pd.read_csv(ROOT / "tasks" / "expert_success.csv", keep_default_na=False)
    assert list(table.columns) == COLUMNS
    clean = table[table.setting == "clean"].set_index("task")
    assert (clean.successes / clean.seeds - clean.success_rate).abs().max() < 1e-3
    return clean, [t for s in suites().values() for t in s]


def test_committed_expert_table_covers_every_task():
    """Every registered task has a row measured over seeds 0-99 (regenerate missing rows with
    ``ahabench expert-table TASKS``)."""
    clean, registered = _committed_table()
    missing = [t for t in registered if t not in clean.index]
    assert not missing, f"tasks without a measured expert success: {missing}"
    short = [t for t in registered if clean.loc[t, "seeds"] < 100]
    assert not short, f"measured on fewer than 100 seeds: {short}"


# Every task's expert meets the bar. ManiSkill's own solutions stayed under it on LiftPegUpright,
# PegInsertionSide and PlugCharger (88 / 72 / 40 %); tasks/maniskill/experts.py replaced them (measured
# 100 / 100 / 96 %). The set must match the table exactly, so a regression or a newly fixed task both break it.
KNOWN_BELOW_BAR: set[str] = set()


def test_committed_expert_table_meets_the_bar():
    """The benchmark's requirement: expert success >= 95 % per task over seeds 0-99."""
    clean, registered = _committed_table()
    rates = clean.loc[[t for t in registered if t in clean.index], "success_rate"]
    low = rates[rates < THRESHOLD]
    assert set(low.index) == KNOWN_BELOW_BAR, f"expert success under {THRESHOLD:.0%}: {low.to_dict()}"


def test_measured_eval_charges_each_policy_its_own_call_time(tmp_path):
    """The fake-task policies of test_run sleep nothing: measured latencies are tiny but real and per policy."""
    from ahabench.bench.measured_bench import MEASURED_COLUMNS, bench_measured_eval
    from test_run import FAKE_TASK

    df = bench_measured_eval(tmp_path, task=FAKE_TASK, policies=("h6-aha", "h6-fast"), seeds=(0,), imports=["test_run"])
    assert list(df.columns) == MEASURED_COLUMNS and list(df.policy) == ["h6-aha", "h6-fast"]
    assert (df.chunk_ms_mean > 0).all() and list(df["mode"]) == ["async", "blocking"]
    doc = json.loads((tmp_path / "measured_eval.json").read_text())
    assert doc["latency"] == "measured" and doc["rows"][0]["policy"] == "h6-aha"
    recs = [json.loads(ln) for ln in (tmp_path / "measured_runs" / "h6-aha" / "episodes.jsonl").read_text().splitlines()]
    assert recs and not recs[0]["reproducible"]


def test_serving_bench_times_remote_against_in_process(tmp_path):
    from ahabench.bench.serve_bench import bench_serving

    df = bench_serving(tmp_path, policies=("hold",), calls=5)
    assert (tmp_path / "serve.csv").exists() and (tmp_path / "serve.json").exists()
    row = df.iloc[0]
    assert row["policy"] == "hold" and row["call"] == "call" and row["calls"] == 5
    # a round trip through another process cannot be faster than copying a chunk in this one
    assert row["remote_ms_p50"] > row["local_ms_p50"] and row["overhead_ms_p50"] > 0


def test_episode_time_is_split_into_its_parts(tmp_path):
    from ahabench.bench.episode_bench import PARTS, bench_episodes
    from test_run import FAKE_TASK

    df = bench_episodes(tmp_path, [FAKE_TASK], policy="hold")
    assert (tmp_path / "episode_time.csv").exists() and list(df["task"]) == [FAKE_TASK, "overall"]
    row = df.iloc[0]
    assert row["ticks"] == 40 and row["physics_s"] > 0 and row["render_s"] > 0 and row["model_s"] > 0
    parts = sum(row[f"{p}_s"] for p in PARTS)
    assert abs(parts + row["harness_s"] - row["episode_s"]) < 1e-9 and 0 <= row["harness_frac"] < 1
