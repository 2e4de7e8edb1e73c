"""The ``ahabench`` command through Typer's CliRunner: help, friendly errors (exit 2), eval files, regress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import test_run  # noqa: F401  (registers the fake task and policies)
from ahabench.cli import app
from test_run import FAKE_TASK

runner = CliRunner()
FAKE = ["--tasks", FAKE_TASK, "--seeds", "0,1,2,3", "--import", "test_run"]


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.mark.parametrize("cmd", ["eval", "compare", "sweep", "regress", "report", "tasks", "profiles", "collect", "train",
                                 "openloop", "curves", "bench", "serve", "speedup", "seed-table"])
def test_help_for_every_command(cmd):
    res = invoke(cmd, "--help")
    assert res.exit_code == 0, res.output
    assert "Usage" in res.output


def test_top_level_help_lists_commands():
    res = invoke("--help")
    assert res.exit_code == 0
    for cmd in ("eval", "compare", "sweep", "regress", "report", "tasks", "profiles"):
        assert cmd in res.output


@pytest.mark.parametrize("args,needle", [
    (["eval", "-p", "expert", "-t", "no_such_task"], "no_such_task"),
    (["eval", "-p", "no-such-policy", *FAKE], "no-such-policy"),
    (["eval", "-p", "expert", "--profile", "no-such-profile", *FAKE], "no-such-profile"),
    (["eval", "-p", "expert", "--setting", "dusty", *FAKE], "dusty"),
    (["eval", "-p", "expert", "--mode", "warp", *FAKE], "warp"),
    (["eval", "-p", "expert", "--latency", "psychic", *FAKE], "psychic"),
    (["eval", "-p", "expert", "-t", FAKE_TASK, "--seeds", "1,x"], "1,x"),
    (["tasks", "--suite", "no_such_suite"], "no_such_suite"),
    (["sweep", "-p", "expert", "--latency-scale", "1,fast", *FAKE], "1,fast"),
    (["eval", "-p", "hold", "-t", "click_bell", "--seeds", "1", "--task-arg", "level"], "'level'"),
    (["eval", "-p", "hold", "-t", "click_bell", "--seeds", "1", "--task-arg", "no_such_arg=2"], "no_such_arg"),
])
def test_unknown_names_exit_2_naming_the_value(args, needle, tmp_path):
    res = invoke(*args, "--out", str(tmp_path / "o")) if args[0] in ("eval", "sweep") else invoke(*args)
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert "Traceback" not in res.output


def test_bad_option_value_exit_2(tmp_path):
    res = invoke("eval", "-p", "expert", *FAKE, "--episodes", "0", "--out", str(tmp_path))
    assert res.exit_code == 2
    assert "episodes" in res.output.lower()


def test_malformed_profile_yaml_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\nlatency_ms: {")
    res = invoke("eval", "-p", "expert", *FAKE, "--profile", str(bad), "--out", str(tmp_path / "o"))
    assert res.exit_code == 2, res.output
    assert "bad.yaml" in res.output


def test_eval_writes_all_files_then_regress_and_report(tmp_path):
    out = tmp_path / "run"
    res = invoke("eval", "-p", "expert", *FAKE, "-n", "4", "-o", str(out))
    assert res.exit_code == 0, res.output
    for f in ("manifest.json", "episodes.jsonl", "summary.csv", "summary.json"):
        assert (out / f).exists()
    assert "overall" in res.output and "4/4" in res.output
    assert len((out / "episodes.jsonl").read_text().splitlines()) == 4

    ref = tmp_path / "ref.json"
    assert invoke("regress", str(out), "--write-reference", str(ref)).exit_code == 0
    assert json.loads(ref.read_text())["tasks"][FAKE_TASK] == {"episodes": 4, "successes": 4}
    ok = invoke("regress", str(out), "--reference", str(ref))
    assert ok.exit_code == 0, ok.output
    assert invoke("regress", str(out)).exit_code == 2  # neither --reference nor --write-reference
    # (exact mode, refusals and the statistical tests through the CLI: tests/test_regress.py)
    held = tmp_path / "held"
    assert invoke("eval", "-p", "hold", *FAKE, "-o", str(held)).exit_code == 0

    rep = invoke("report", str(out))
    assert rep.exit_code == 0, rep.output
    text = (out / "report.md").read_text()
    assert "![timeline](plots/timeline.png)" in text and (out / "plots" / "timeline.png").exists()
    assert (out / "timelines").is_dir()

    cmp = invoke("compare", "expert", "hold", "--runs", str(out), "--runs", str(held), "--markdown")
    assert cmp.exit_code == 0, cmp.output
    assert "| overall | expert |" in cmp.output
    js = invoke("compare", "expert", "hold", "-r", str(out), "-r", str(held), "--json")
    rows = json.loads(js.stdout)["rows"]
    over = {r["policy"]: r for r in rows if r["task"] == "overall"}
    assert over["expert"]["speedup_hz"] == pytest.approx(1.0 / 41.37)  # hold is charged 1 ms per call


def test_sweep_delays_writes_csv_and_png(tmp_path):
    res = invoke("sweep", "-p", "expert", *FAKE, "-n", "2", "--delays-ms", "0,400", "-o", str(tmp_path / "sw"))
    assert res.exit_code == 0, res.output
    lines = (tmp_path / "sw" / "sweep.csv").read_text().splitlines()
    assert lines[0].startswith("delay_ms,task") and len(lines) == 1 + 2 * 2
    assert (tmp_path / "sw" / "sweep.png").exists() and (tmp_path / "sw" / "success_vs_hz.png").exists()
    crit = (tmp_path / "sw" / "critical.csv").read_text().splitlines()
    assert crit[0].startswith("task,knob,keep,reference_value") and len(crit) == 1 + 2 and "critical delay_ms" in res.output


def test_sweep_grid_runs_a_sweep_per_setting_and_mode(tmp_path):
    import csv

    res = invoke("sweep-grid", "-p", "expert", *FAKE, "-n", "4", "--delays-ms", "0,400", "--modes", "frozen,blocking",
                 "--vary", "max_speed=0.1,0.02", "-o", str(tmp_path / "g"))
    assert res.exit_code == 0, res.output
    rows = [r for r in csv.DictReader((tmp_path / "g" / "grid.csv").open()) if r["task"] == "overall"]
    assert [(r["setting"], r["mode"], r["delay_ms"]) for r in rows] == [
        (s, m, d) for s in ("max_speed=0.1", "max_speed=0.02") for m in ("frozen", "blocking") for d in ("0", "400")]
    rate = {(r["setting"], r["mode"], r["delay_ms"]): float(r["success_rate"]) for r in rows}
    assert rate[("max_speed=0.02", "frozen", "0")] < rate[("max_speed=0.1", "frozen", "0")]  # the arg reached the env
    manifest = json.loads((tmp_path / "g" / "max_speed=0.02" / "blocking" / "delay_ms_400" / "manifest.json").read_text())
    assert manifest["config"]["task_args"] == {"max_speed": 0.02} and manifest["config"]["mode"] == "blocking"
    assert (tmp_path / "g" / "grid.png").stat().st_size > 1000
    bad = invoke("sweep-grid", "-p", "expert", *FAKE, "--vary", "max_speed", "-o", str(tmp_path / "b"))
    assert bad.exit_code == 2 and "max_speed" in bad.output


def test_tasks_and_profiles_json():
    res = invoke("tasks", "--json")
    assert res.exit_code == 0, res.output
    names = [r["name"] for r in json.loads(res.stdout)]
    assert names  # the shipped suites
    prof = invoke("profiles", "--json")
    assert prof.exit_code == 0
    assert "rtx5090d-paper" in [p["name"] for p in json.loads(prof.stdout)]


def test_collect_and_train_are_thin_wrappers(tmp_path, monkeypatch):
    """The commands pass their options through and drive the progress callbacks (library calls faked)."""
    import types

    import ahabench.data.collect as collect_mod
    import ahabench.train as train_mod
    from ahabench.data.collect import CollectEvent
    from ahabench.train.loop import TrainEvent

    seen = {}

    def fake_collect(tasks, episodes, setting, out, progress=None, workers=1, **kw):
        seen["collect"] = (tasks, episodes, setting, str(out), workers)
        progress(CollectEvent(tasks[0], 0, True, 1, episodes, 10, 0.1))
        return types.SimpleNamespace(total_kept=1)

    def fake_train(policy, tasks, size, steps, out, data, resume, seed, progress=None, **kw):
        seen["train"] = (policy, tasks, size, steps, str(out), data, resume, seed, kw)
        progress(TrainEvent("wam", 1, steps, 0.5, 1e-4))
        return types.SimpleNamespace(checkpoint=out / "checkpoint", finished=True, wam_step=steps)

    monkeypatch.setattr(collect_mod, "collect_demos", fake_collect)
    monkeypatch.setattr(train_mod, "train_policy", fake_train)
    res = invoke("collect", "-t", FAKE_TASK, "-n", "3", "-o", str(tmp_path / "d"))
    assert res.exit_code == 0, res.output
    assert seen["collect"] == ([FAKE_TASK], 3, "clean", str(tmp_path / "d"), 1)
    res = invoke("train", "-p", "aha-wam", "-t", FAKE_TASK, "--steps", "5", "-o", str(tmp_path / "t"), "--resume")
    assert res.exit_code == 0, res.output
    assert seen["train"][:4] == ("aha-wam", [FAKE_TASK], "tiny", 5) and seen["train"][6] is True
    assert "checkpoint written to" in res.output


def test_policy_arg_parsing_and_bad_value():
    from ahabench.cli_args import UsageError, parse_policy_kwargs

    assert parse_policy_kwargs(None, ["cost_size=paper", "sample_steps=2", "scale=0.5"]) == {
        "cost_size": "paper", "sample_steps": 2, "scale": 0.5}
    assert parse_policy_kwargs(Path("ck"), None) == {"checkpoint": "ck"}
    with pytest.raises(UsageError, match="nonsense"):
        parse_policy_kwargs(None, ["nonsense"])


def test_camera_option_parsing():
    from ahabench.cli_args import UsageError, parse_camera

    assert parse_camera(None) == {}
    assert parse_camera("240x320") == {"camera_hw": (240, 320)}
    assert parse_camera("64X80") == {"camera_hw": (64, 80)}
    for bad in ("240", "240x", "ax320", "4x4"):
        with pytest.raises(UsageError, match=bad):
            parse_camera(bad)


def test_expert_table_command_measures_and_merges_rows(tmp_path):
    import csv

    out = tmp_path / "table.csv"
    res = runner.invoke(app, ["expert-table", "click_bell", "--seeds", "2", "-w", "1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    assert [(r["task"], r["seeds"], r["successes"]) for r in rows] == [("click_bell", "2", "2")] and rows[0]["code_hash"]
    from ahabench.experts.success_table import tasks_to_measure
    from ahabench.task_registry import suites

    stale = tasks_to_measure("stale", out)  # click_bell's row is current; every other task has none yet
    assert "click_bell" not in stale and len(stale) == sum(len(s) for s in suites().values()) - 1
    bad = runner.invoke(app, ["expert-table", "no_such_task", "-o", str(out)])
    assert bad.exit_code == 2 and "no_such_task" in bad.output
