"""Learning-curve report: reading training dirs and checkpoint folders, the summary, the plot, the CLI."""

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from ahabench.cli import app
from ahabench.report.learning import curve_summary, read_curves, run_labels


def _log(path, stage, losses, **extra):
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"stage": stage, "step": 10 * (i + 1), "loss": v, "wall_s": float(i),
                         **{k: vals[i] for k, vals in extra.items()}}) for i, v in enumerate(losses)]
    path.write_text("\n".join(lines) + "\n")


def test_reads_training_dirs_and_checkpoint_folders(tmp_path):
    _log(tmp_path / "run" / "wam" / "loss.jsonl", "wam", [4.0, 2.0, 1.0], loss_action=[2.0, 1.0, 0.5])
    _log(tmp_path / "pol" / "checkpoint" / "loss_tokenizer.jsonl", "tokenizer", [0.2, 0.1])
    labels = run_labels([tmp_path / "run", tmp_path / "pol" / "checkpoint"])
    assert list(labels) == ["run", "pol"]
    df = read_curves(labels)
    wam = df[(df.run == "run") & (df.term == "loss")]
    assert list(wam.step) == [10, 20, 30] and list(wam.value) == [4.0, 2.0, 1.0]
    assert set(df[df.run == "run"].term) == {"loss", "loss_action"}
    assert set(df[df.run == "pol"].stage) == {"tokenizer"}
    summ = curve_summary(df, tail=2).set_index(["run", "term"])
    assert summ.loc[("run", "loss"), "first"] == 4.0 and summ.loc[("run", "loss"), "last_mean"] == 1.5
    assert summ.loc[("run", "loss"), "last_step"] == 30


def test_a_folder_without_logs_is_named_in_the_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="empty"):
        read_curves({"x": tmp_path / "empty"})


def test_cli_writes_tables_and_plot(tmp_path):
    _log(tmp_path / "a" / "wam" / "loss.jsonl", "wam", [3.0, 1.0], loss_video=[1.0, 0.5])
    _log(tmp_path / "a" / "flash" / "loss.jsonl", "flash", [0.1, 0.05])
    res = CliRunner().invoke(app, ["curves", str(tmp_path / "a"), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "learning_curves.png").stat().st_size > 0
    assert set(pd.read_csv(tmp_path / "out" / "learning_summary.csv").stage) == {"wam", "flash"}
    bad = CliRunner().invoke(app, ["curves", str(tmp_path / "nope")])
    assert bad.exit_code == 2 and "nope" in bad.output


def _eval_run(root: Path, name: str, step: int, successes: list[bool], seeds=(5000, 5001), phases=None) -> Path:
    from ahabench.rundir import write_manifest, write_sorted_episodes
    from test_report import rec

    ck = root / f"ck{step}"
    ck.mkdir()
    cfg = {"step": step, "data": "runs/demos", **({"data_phases": phases} if phases else {})}
    (ck / "config.json").write_text(json.dumps(cfg))
    run = root / name
    run.mkdir()
    write_manifest(run, {"policy": "aha-wam", "mode": "async", "profile": "p", "setting": "clean",
                         "policy_kwargs": {"checkpoint": str(ck)}}, {"t": list(seeds)})
    recs = [rec(t, s, success=ok, policy="aha-wam") for (t, s), ok in zip([("a", seeds[0]), ("b", seeds[1])], successes)]
    write_sorted_episodes(run / "episodes.jsonl", recs)
    return run


def test_success_against_steps_reads_eval_runs_and_their_checkpoints(tmp_path):
    from ahabench.report.success_curve import success_vs_steps

    phases = [{"data": ["runs/demos"], "from_step": 0}, {"data": ["runs/demos", "runs/dart"], "from_step": 100}]
    late = _eval_run(tmp_path, "late", 300, [True, False], phases=phases)
    early = _eval_run(tmp_path, "early", 50, [False, False])
    df = success_vs_steps([late, early])
    assert df["step"].tolist() == [50, 300] and df["successes"].tolist() == [0, 1]
    assert df["phase"].tolist() == [0, 1] and df["data"].tolist() == ["runs/demos", "runs/demos+runs/dart"]
    assert df["tasks_above_0"].tolist() == [0, 1] and df["success_rate"].tolist() == [0.0, 0.5]
    other = _eval_run(tmp_path, "other", 400, [True, True], seeds=(7, 8))
    with pytest.raises(ValueError, match="other seeds"):
        success_vs_steps([late, other])
    res = CliRunner().invoke(app, ["curves", "--eval", str(early), "--eval", str(late), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "success_vs_steps.png").stat().st_size > 1000
