"""``ahabench collect | train | curves | bench``: the commands that build artefacts (demos, checkpoints, learning
curves, benchmark tables), registered on the main Typer app of :mod:`ahabench.cli`; thin over :mod:`ahabench.api`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ahabench.cli_args import parse_camera, parse_policy_kwargs
from ahabench.cli_common import (
    CameraOpt,
    CkptOpt,
    EpisodesOpt,
    PolicyOpt,
    SettingOpt,
    TasksOpt,
    WorkersOpt,
    _friendly,
    _progress_ctx,
    _show,
    _table,
    app,
    console,
    err_console,
)


@app.command("collect")
@_friendly
def collect_cmd(tasks: TasksOpt = "all", episodes: EpisodesOpt = 50, setting: SettingOpt = "clean",
                out: Annotated[Path, typer.Option("--out", "-o", help="Demo dataset directory.")] = Path("data/demos"),
                workers: WorkersOpt = 1, camera: CameraOpt = None,
                action_noise: Annotated[float, typer.Option(
                    "--action-noise", min=0.0,
                    help="DART: execute the arm targets plus correlated noise of this std (rad); the clean targets "
                         "are recorded.")] = 0.0,
                first_seed: Annotated[int, typer.Option(
                    "--first-seed", min=0,
                    help="Search seeds upward from this one (default 0): a held-out set away from the training "
                         "demos' seeds.")] = 0) -> None:
    """Collect scripted-expert demos (thin wrapper over ahabench.data.collect.collect_demos)."""
    from ahabench import api

    with _progress_ctx() as bar:
        ids: dict[str, Any] = {}

        def on_event(ev: Any) -> None:  # ahabench.data.collect.CollectEvent
            if ev.task not in ids:
                ids[ev.task] = bar.add_task(f"collect {ev.task}", total=ev.total, status="")
            bar.update(ids[ev.task], completed=ev.done, status=f"seed {ev.seed} {'kept' if ev.success else 'skipped'}")

        res = api.collect(tasks, episodes, setting, out, progress=on_event, workers=workers, action_noise=action_noise,
                          first_seed=first_seed, **parse_camera(camera))
    console.print(f"{res.total_kept} demos in {out}")


@app.command("train")
@_friendly
def train_cmd(policy: PolicyOpt, tasks: TasksOpt = "all",
              size: Annotated[str, typer.Option("--size", help="Training size preset (tiny or small).")] = "tiny",
              steps: Annotated[int, typer.Option("--steps", min=1, help="Steps of the main (WAM) stage.")] = 1000,
              out: Annotated[Path, typer.Option("--out", "-o", help="Training directory (checkpoint in OUT/checkpoint).")] = Path("runs/train"),
              data: Annotated[list[Path] | None, typer.Option("--data", help="Demo folder (default: collect into OUT/demos); repeat to mix folders, e.g. clean and DART demos.")] = None,
              episodes: Annotated[int, typer.Option("--episodes", "-n", min=1, help="Demos per task to collect when --data has none.")] = 50,
              resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted training run.")] = False,
              seed: Annotated[int, typer.Option("--seed", help="Training seed (data order, initialisation).")] = 0,
              tokenizer_steps: Annotated[int | None, typer.Option("--tokenizer-steps", min=1, help="VAE steps (default: steps // 4, at least 20).")] = None,
              distill_steps: Annotated[int | None, typer.Option("--distill-steps", min=1, help="Flash distillation steps, aha-wam-flash only (default: steps // 4).")] = None,
              threads: Annotated[int, typer.Option("--threads", min=1, help="torch CPU threads.")] = 2,
              recipe: Annotated[str, typer.Option("--recipe", help="Training recipe (ahabench.train.recipe.RECIPES): v2 or paper.")] = "v2",
              max_minutes: Annotated[float | None, typer.Option("--max-minutes", min=0.1, help="Stop the WAM stage after this long, state saved; --resume continues.")] = None,
              continue_from: Annotated[Path | None, typer.Option("--continue-from", help="Continue the campaign of a checkpoint folder holding train_state.safetensors (e.g. policies/aha_wam/checkpoint).")] = None,
              max_episodes: Annotated[int | None, typer.Option("--max-episodes", min=1, help="Train on each task's first N demos of --data (the rest stay held out).")] = None,
              snapshot_every: Annotated[int | None, typer.Option("--snapshot-every", min=1, help="Keep a copy of the WAM checkpoint every N steps in OUT/wam/snapshots/.")] = None) -> None:
    """Train a policy (thin wrapper over ahabench.train.train_policy)."""
    from ahabench import api

    with _progress_ctx() as bar:
        ids: dict[str, Any] = {}

        def on_step(ev: Any) -> None:  # ahabench.train.TrainEvent
            if ev.stage not in ids:
                ids[ev.stage] = bar.add_task(f"train {policy}: {ev.stage}", total=ev.steps, status="")
            bar.update(ids[ev.stage], completed=ev.step, status=f"loss {ev.loss:.4f}")

        res = api.train(policy, tasks, size, steps, out, data=data, resume=resume, seed=seed, progress=on_step,
                        episodes=episodes, tokenizer_steps=tokenizer_steps, distill_steps=distill_steps, threads=threads,
                        recipe=recipe, max_minutes=max_minutes, continue_from=continue_from,
                        snapshot_every=snapshot_every, max_episodes=max_episodes)
    state = "" if res.finished else f" (stopped at step {res.wam_step} of {steps}: run again with --resume to continue)"
    console.print(f"checkpoint written to {res.checkpoint}{state}")


@app.command("openloop")
@_friendly
def openloop_cmd(policy: PolicyOpt,
                 data: Annotated[Path, typer.Option("--data", help="Demo folder written by ahabench collect.")],
                 tasks: TasksOpt = "all",
                 episodes: Annotated[int | None, typer.Option("--episodes", "-n", min=1, help="Demos per task (default: all).")] = None,
                 skip: Annotated[int, typer.Option("--skip", min=0, help="Leave out each task's first SKIP demos (e.g. the training ones).")] = 0,
                 stride: Annotated[int, typer.Option("--stride", min=4, help="Anchor spacing in control steps (a multiple of 4, the demos' frame grid).")] = 32,
                 out: Annotated[Path | None, typer.Option("--out", "-o", help="Write openloop.csv and openloop.json here.")] = None,
                 checkpoint: CkptOpt = None,
                 policy_args: Annotated[list[str] | None, typer.Option("--policy-arg", "-P", help="KEY=VALUE passed to the policy factory; repeatable.")] = None) -> None:
    """Open-loop action error on recorded demos, beside holding the current joint position (no simulator)."""
    from ahabench import api
    from ahabench.rundir import OVERALL

    with _progress_ctx() as bar:
        ids: dict[str, Any] = {}

        def on_demo(task: str, done: int, total: int) -> None:
            if task not in ids:
                ids[task] = bar.add_task(f"openloop {task}", total=total, status="")
            bar.update(ids[task], completed=done)

        rows = api.open_loop(policy, data, tasks, episodes, skip, stride, parse_policy_kwargs(checkpoint, policy_args), out, on_demo)
    t = _table(f"{policy}: open-loop error on {data} (joints in rad)", ("task", "demos", "anchors", "MAE", "first", "hold MAE", "vs hold", "gripper"))
    for r in rows:
        t.add_row(r.task, str(r.episodes), str(r.anchors), f"{r.mae_rad:.4f}", f"{r.first_mae_rad:.4f}", f"{r.hold_mae_rad:.4f}",
                  f"{r.vs_hold:.2f}", f"{r.gripper_mae:.4f}", style="bold" if r.task == OVERALL else None)
    _show(t)
    if out is not None:
        console.print(f"written: {out / 'openloop.csv'}, {out / 'openloop.json'}")


@app.command("curves")
@_friendly
def curves_cmd(runs: Annotated[list[Path] | None, typer.Argument(help="Training dirs (ahabench train --out) or checkpoint folders.")] = None,
               out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("runs/curves"),
               smooth: Annotated[int, typer.Option("--smooth", min=1, help="Trailing mean over this many logged points (plot only).")] = 5,
               evals: Annotated[list[Path] | None, typer.Option("--eval", help="Eval run dir of a campaign checkpoint (repeatable): success_vs_steps.csv/png.")] = None) -> None:
    """Learning curves: loss tables (csv) and a plot per training stage (png); with --eval, closed-loop success
    against training steps."""
    from ahabench import api
    from ahabench.cli_args import UsageError

    if not runs and not evals:
        raise UsageError("give training dirs or checkpoint folders, or --eval runs")
    files = api.curves(runs or [], out, smooth=smooth, evals=evals or [])
    console.print("written: " + ", ".join(map(str, files)))


@app.command("bench")
@_friendly
def bench_cmd(out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("runs/bench"),
              tasks: Annotated[str | None, typer.Option("--tasks", "-t", help="Tasks to time (default: every suite).")] = None,
              models: Annotated[bool, typer.Option("--models/--no-models", help="Time the model calls.")] = True,
              run_tasks: Annotated[bool, typer.Option("--tasks-bench/--no-tasks-bench", help="Time the tasks.")] = True,
              measured: Annotated[bool, typer.Option("--measured-eval/--no-measured-eval", help="Run aha-wam and fast-wam with measured latency through the clock.")] = True,
              train: Annotated[bool, typer.Option("--train/--no-train", help="Time WAM training steps (paper vs v2 recipe).")] = True,
              serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Time remote (ahabench serve on localhost) against in-process calls.")] = True,
              episode_time: Annotated[bool, typer.Option("--episode-time/--no-episode-time", help="Split one aha-wam episode per task into physics, rendering, model, resets and harness.")] = True,
              throughput: Annotated[bool, typer.Option("--throughput/--no-throughput", help="Episodes/min of --workers 1, --workers 2 and Ray on 2 CPUs.")] = True) -> None:
    """Benchmarks: task steps/s (physics-only, 3 cameras) and expert time; measured model call latency; training samples/s;
    the round trip of a served policy."""
    # The benchmarks are a tool on top of the library API (the measured one runs api.compare), so the command
    # calls them directly: ahabench.api never imports ahabench.bench.
    from ahabench.api import task_names
    from ahabench.bench import run_bench

    res = run_bench(out, None if tasks is None else task_names(tasks), models=models, run_tasks=run_tasks,
                    measured_eval=measured, train=train, serve=serve, episode_time=episode_time, throughput=throughput, progress=lambda msg: err_console.print(msg))
    console.print(f"bench written to {res['out']} in {res['wall_s']:.0f} s: " + ", ".join(res["files"]))


def _parts_text(parts: dict[str, float | None]) -> str:
    return "/".join("-" if parts.get(k) is None else f"{parts[k]:.1f}" for k in ("tokenizer", "prefill", "ovcr", "setup",
                                                                                 "action_steps"))


@app.command("speedup")
@_friendly
def speedup_cmd(a: Annotated[str, typer.Argument(help="The policy whose speedup is asked (e.g. aha-wam).")] = "aha-wam",
                b: Annotated[str, typer.Argument(help="The baseline (e.g. fast-wam).")] = "fast-wam",
                device: Annotated[list[str] | None, typer.Option("--device", help="Roofline device; repeatable (default: every known one).")] = None,
                measure: Annotated[bool, typer.Option("--measure/--no-measure", help="Also time both calls at the shipped size on this CPU.")] = True,
                as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
                out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write OUT/speedup.md and OUT/speedup.json.")] = None) -> None:
    """The speedup of A over B under the paper profile, the roofline model at paper scale per device, and measured here,
    each with its per-call breakdown, and which part of the published ratio the architecture explains."""
    from ahabench.bench.speedup import speedup_json, speedup_markdown, speedup_table

    table = speedup_table(a, b, device, measure)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "speedup.md").write_text(speedup_markdown(table))
        (out / "speedup.json").write_text(speedup_json(table))
    if as_json:
        console.print_json(speedup_json(table))
        return
    t = _table(f"speedup of {a} over {b} (executor call; B ms / A ms)", ("source", "device", f"{a} ms", f"{b} ms", "speedup",
                                                                     "per action", f"{a} parts (tok/prefill/ovcr/setup/act)",
                                                                     f"{b} parts"))
    for r in table["rows"]:
        t.add_row(r["source"], r["device"], f"{r['a_call_ms']:.2f}", f"{r['b_call_ms']:.2f}", f"{r['speedup']:.2f}x",
                  f"{r['speedup_per_action']:.2f}x", _parts_text(r["a_parts_ms"]), _parts_text(r["b_parts_ms"]))
    _show(t)
    console.print(table["line"], highlight=False)


@app.command("seed-table")
@_friendly
def seed_table_cmd(tasks: Annotated[str, typer.Argument(help="'all', a suite name, or comma-separated task names.")] = "all",
                   episodes: Annotated[int, typer.Option("--episodes", "-n", min=1, help="Solved evaluation seeds to cover per task.")] = 20,
                   setting: SettingOpt = "clean", workers: WorkersOpt = 2) -> None:
    """Measure which default evaluation seeds each task's expert solves and merge them into the shipped
    tasks/eval_seed_verdicts.csv (a first eval then plays no expert to pick its seeds)."""
    from ahabench.api import task_names
    from ahabench.seed_table import SHIPPED_TABLE, measure_seed_table

    rows = measure_seed_table(task_names(tasks), episodes, setting, workers=workers,
                              progress=lambda r: err_console.print(f"{r['task']}/{r['setting']}: {r['verdicts'].count('1')} of "
                                                                   f"{len(r['verdicts'])} seeds solved"))
    console.print(f"{len(rows)} rows merged into {SHIPPED_TABLE}")


@app.command("expert-table")
@_friendly
def expert_table_cmd(tasks: Annotated[str, typer.Argument(help="'every' (all suites), 'stale' (rows whose task code changed since they were measured, and missing rows), or a task selector.")] = "every",
                     seeds: Annotated[int, typer.Option("--seeds", min=1, help="Seeds 0..N-1 per task.")] = 100,
                     workers: WorkersOpt = 2, setting: SettingOpt = "clean",
                     out: Annotated[Path | None, typer.Option("--out", "-o", help="Table to merge the rows into (default: the committed tasks/expert_success.csv).")] = None) -> None:
    """Measure each task's scripted-expert success (physics only) and merge the rows into the expert-success table;
    exit 1 when a task is below the 95% bar."""
    from ahabench.experts.success_table import DEFAULT_TABLE, THRESHOLD, below_threshold, measure_table, tasks_to_measure

    table = out or DEFAULT_TABLE
    names = tasks_to_measure(tasks, table, setting)
    if not names:
        console.print(f"{table}: every row matches its task's code")
        return
    with _progress_ctx() as bar:
        bid = bar.add_task("expert episodes", total=len(names) * seeds, status="")

        def on_row(r: Any) -> None:
            flag = "" if r.success_rate >= THRESHOLD else "  [red]below 95%[/red]"
            err_console.print(f"{r.task}: {r.successes}/{r.seeds} ({100 * r.success_rate:.0f}%){flag}")

        df = measure_table(names, seeds, workers, setting, table, lambda r, done, total: bar.update(bid, completed=done,
                           status=f"{r.task} seed {r.seed}"), on_row)
    t = _table(f"expert success ({setting}, seeds 0..{seeds - 1}) -> {table}", ("task", "success", "mean steps", "errors"))
    for r in df.itertuples():
        t.add_row(r.task, f"{r.successes}/{r.seeds} ({100 * r.success_rate:.0f}%)", f"{r.mean_expert_steps:.0f}", str(r.errors))
    _show(t)
    if not below_threshold(df).empty:
        raise typer.Exit(1)
