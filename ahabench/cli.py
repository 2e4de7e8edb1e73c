"""The ``ahabench`` command: a thin Typer layer over :mod:`ahabench.api` (rich output lives only here).

This module holds the commands that run and report (eval, compare, sweep, regress, report, tasks, profiles);
the app, the shared options and the error mapping are in :mod:`ahabench.cli_common`, the commands that build
artefacts in :mod:`ahabench.cli_build` (imported at the end, so ``ahabench.cli:app`` has every command).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ahabench.cli_args import (
    UsageError,
    import_all,
    parse_camera,
    parse_floats,
    parse_policy_kwargs,
    parse_seeds,
    parse_task_args,
    parse_vary,
)
from ahabench.cli_common import (
    CameraOpt,
    CkptOpt,
    DeviceOpt,
    EpisodesOpt,
    ExecutorOpt,
    FixedOpt,
    ImportOpt,
    LatencyOpt,
    ModeOpt,
    OutOpt,
    PolicyOpt,
    ProfileOpt,
    RayAddressOpt,
    ScaleOpt,
    SeedOpt,
    SeedsOpt,
    SettingOpt,
    TaskArgOpt,
    TasksOpt,
    WorkersOpt,
    _fmt,
    _friendly,
    _progress_ctx,
    _show,
    _table,
    app,
    console,
    err_console,
)
from ahabench.latency import DEFAULT_LATENCY, DEFAULT_PROFILE
from ahabench.report.sweep import DEFAULT_KEEP


class _RunProgress:
    """Adapts the engine's per-episode callback to rich progress bars: one bar per run (compare and sweep
    make several runs; a run starts when the done count goes back down)."""

    def __init__(self, bar: Any, label: str):
        self.bar, self.label, self.id, self.last = bar, label, None, 0
        self.successes = self.seen = 0

    def __call__(self, ev: Any) -> None:
        r = ev.record
        if self.id is None or ev.done <= self.last:
            self.id = self.bar.add_task(f"{self.label} {r.policy} ({r.mode})", total=ev.total, status="")
            self.successes = self.seen = 0
        self.last = ev.done
        self.seen += 1
        self.successes += int(r.success_once)
        mark = "[red]error[/red]" if r.error else "[green]ok[/green]" if r.success_once else "fail"
        self.bar.update(self.id, completed=ev.done, status=f"{r.task} seed {r.seed} {mark}  "
                        f"{r.task}: {ev.task_successes}/{ev.task_done} of {ev.task_total}  "
                        f"success so far {self.successes}/{self.seen}")



def _ci(r: Any) -> str:
    return f"[{100 * r.ci_low:.0f}, {100 * r.ci_high:.0f}]"


def summary_table(rows: list[Any], title: str) -> Table:
    from ahabench.rundir import OVERALL

    t = _table(title, ("task", "success", "95% CI", "err", "t_succ s", "Hz", "react ms", "stale", "held"))
    for r in rows:
        t.add_row(r.task, f"{r.successes}/{r.episodes} ({100 * r.success_rate:.0f}%)",
                  _ci(r), str(r.errors), _fmt(r.t_success_mean_s),
                  _fmt(r.chunk_hz), _fmt(r.reaction_ms_p50, ".1f"), _fmt(r.stale_ratio, ".3f"), _fmt(r.hold_ratio, ".3f"),
                  style="bold" if r.task == OVERALL else None)
    return t


# ---- commands ---------------------------------------------------------------------------------------
@app.command("eval")
@_friendly
def eval_cmd(policy: PolicyOpt, tasks: TasksOpt = "all", episodes: EpisodesOpt = 10, setting: SettingOpt = "clean",
             mode: ModeOpt = None, profile: ProfileOpt = DEFAULT_PROFILE, latency: LatencyOpt = DEFAULT_LATENCY,
             device: DeviceOpt = None, latency_scale: ScaleOpt = 1.0, fixed_ms: FixedOpt = None, seed: SeedOpt = 0,
             seeds: SeedsOpt = None, workers: WorkersOpt = 1, out: OutOpt = None,
             video: Annotated[bool, typer.Option("--video", help="Save each episode's policy-view frames as MP4 under OUT/videos.")] = False,
             resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run in OUT, skipping recorded episodes.")] = False,
             two_devices: Annotated[bool, typer.Option("--two-devices", help="Run the planner on its own simulated GPU.")] = False,
             checkpoint: CkptOpt = None, imports: ImportOpt = None, camera: CameraOpt = None,
             executor: ExecutorOpt = "local", ray_address: RayAddressOpt = None, task_args: TaskArgOpt = None,
             policy_args: Annotated[list[str] | None, typer.Option("--policy-arg", "-P", help="KEY=VALUE passed to the policy factory; repeatable (e.g. cost_size=paper for paper-scale roofline costs, sample_steps=2).")] = None) -> None:
    """Evaluate a policy; writes OUT/manifest.json, episodes.jsonl, summary.csv and summary.json."""
    from ahabench import api

    import_all(imports)
    with _progress_ctx() as bar:
        res = api.eval_run(policy, tasks, episodes, setting, mode, profile, latency, seed, workers, out, video, resume,
                           device=device, latency_scale=latency_scale, fixed_ms=fixed_ms, seeds=parse_seeds(seeds, tasks),
                           two_devices=two_devices, policy_kwargs=parse_policy_kwargs(checkpoint, policy_args),
                           env_kwargs=parse_camera(camera), task_args=parse_task_args(task_args), imports=imports or (), progress=_RunProgress(bar, "eval"),
                           executor=executor, ray_address=ray_address)
    _show(summary_table(res.summary, f"{policy} ({res.config.mode}, {setting}, {latency}: {profile})"))
    console.print(f"run written to {res.out}")


@app.command("compare")
@_friendly
def compare_cmd(policies: Annotated[list[str], typer.Argument(help="Policies to compare; the last is the default baseline.")],
                baseline: Annotated[str | None, typer.Option("--baseline", "-b", help="Policy the speedups are measured against.")] = None,
                runs: Annotated[list[Path] | None, typer.Option("--runs", "-r", help="Existing run dirs, one per policy in order, instead of evaluating.")] = None,
                tasks: TasksOpt = "all", episodes: EpisodesOpt = 10, setting: SettingOpt = "clean",
                profile: ProfileOpt = DEFAULT_PROFILE, latency: LatencyOpt = DEFAULT_LATENCY, device: DeviceOpt = None,
                seed: SeedOpt = 0, seeds: SeedsOpt = None, workers: WorkersOpt = 1, out: OutOpt = None,
                checkpoint: Annotated[list[str] | None, typer.Option("--checkpoint", "-c", help="POLICY=PATH: checkpoint of one compared policy; repeatable.")] = None,
                markdown: Annotated[bool, typer.Option("--markdown", help="Print a markdown table.")] = False,
                as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
                imports: ImportOpt = None, executor: ExecutorOpt = "local", ray_address: RayAddressOpt = None,
                task_args: TaskArgOpt = None) -> None:
    """Compare policies on the same seeds: success, t_success, chunk Hz and speedups against a baseline."""
    from ahabench import api
    from ahabench.report.compare import compare_dt, compare_json, compare_markdown

    import_all(imports)
    run_map: dict[str, Path] = {}
    if runs:
        if len(runs) != len(policies):
            raise UsageError(f"--runs gives {len(runs)} dirs for {len(policies)} policies; give one per policy")
        run_map = dict(zip(policies, runs))
    ckpts: dict[str, dict[str, Any]] = {}
    for item in checkpoint or ():
        name, sep, path = item.partition("=")
        if not sep or name not in policies:
            raise UsageError(f"bad --checkpoint {item!r}: expected POLICY=PATH with POLICY one of {', '.join(policies)}")
        ckpts[name] = {"checkpoint": path}
    with _progress_ctx() as bar:
        res = api.compare(policies, tasks, episodes, baseline=baseline, runs=run_map, out=out,
                          progress=_RunProgress(bar, "compare"), policy_kwargs=ckpts, setting=setting, profile=profile, latency=latency,
                          device=device, seed=seed, seeds=parse_seeds(seeds, tasks), workers=workers, imports=imports or (),
                          executor=executor, ray_address=ray_address, task_args=parse_task_args(task_args))
    if as_json:
        console.print_json(compare_json(res.rows, res.baseline))
    elif markdown:
        console.print(compare_markdown(res.rows, res.baseline), markup=False, highlight=False, soft_wrap=True)
    else:
        t = _table(f"speedups against {res.baseline} (paired on the same seeds: McNemar's exact test, bootstrap 95% CI of dt_succ)",
                   ("task", "policy", "mode", "success", "95% CI", "t_succ s", "Hz", "x Hz", "x task (n)", "+/-", "McNemar p",
                    "dt_succ s [95% CI]"))
        for r in res.rows:
            t.add_row(r.task, r.policy, r.mode, f"{r.successes}/{r.episodes}", _ci(r),
                      _fmt(r.t_success_mean_s), _fmt(r.chunk_hz), _fmt(r.speedup_hz), f"{_fmt(r.speedup_task)} ({r.both_solved})",
                      f"+{r.gains}/-{r.losses}", _fmt(r.mcnemar_p, ".3g"), compare_dt(r))
        _show(t)


@app.command("sweep")
@_friendly
def sweep_cmd(policy: PolicyOpt, tasks: TasksOpt = "all", episodes: EpisodesOpt = 10,
              latency_scale: Annotated[str | None, typer.Option("--latency-scale", help="Comma-separated latency scales, e.g. 0.5,1,2,4.")] = None,
              delays_ms: Annotated[str | None, typer.Option("--delays-ms", help="Comma-separated fixed call latencies in ms, e.g. 0,50,100,200.")] = None,
              setting: SettingOpt = "clean", mode: ModeOpt = None, profile: ProfileOpt = DEFAULT_PROFILE,
              latency: LatencyOpt = DEFAULT_LATENCY, seed: SeedOpt = 0, seeds: SeedsOpt = None, workers: WorkersOpt = 1,
              out: OutOpt = None, checkpoint: CkptOpt = None, imports: ImportOpt = None,
              executor: ExecutorOpt = "local", ray_address: RayAddressOpt = None, task_args: TaskArgOpt = None,
              policy_args: Annotated[list[str] | None, typer.Option("--policy-arg", "-P", help="KEY=VALUE passed to the policy factory; repeatable (e.g. execute_len=8).")] = None,
              keep: Annotated[float, typer.Option("--keep", min=0.01, max=1.0, help="Critical latency: the largest value keeping this fraction of the lowest-latency success.")] = DEFAULT_KEEP) -> None:
    """Success vs latency: one run per value; writes OUT/sweep.csv, sweep.png, critical.csv and success_vs_hz.png."""
    from ahabench import api

    if (latency_scale is None) == (delays_ms is None):
        raise UsageError("give exactly one of --latency-scale or --delays-ms")
    import_all(imports)
    scales = parse_floats(latency_scale, "--latency-scale") if latency_scale else None
    delays = parse_floats(delays_ms, "--delays-ms") if delays_ms else None
    with _progress_ctx() as bar:
        res = api.sweep(policy, tasks, episodes, latency_scales=scales, delays_ms=delays, out=out, keep=keep,
                        progress=_RunProgress(bar, "sweep"), setting=setting, mode=mode, profile=profile, latency=latency,
                        seed=seed, seeds=parse_seeds(seeds, tasks), workers=workers,
                        policy_kwargs=parse_policy_kwargs(checkpoint, policy_args), imports=imports or (), executor=executor,
                        ray_address=ray_address, task_args=parse_task_args(task_args))
    t = _table(f"{policy}: success vs {res.knob}", (res.knob, "success", "95% CI", "t_succ s", "held"))
    for p in res.points:
        o = p.summary[-1]
        t.add_row(f"{p.value:g}", f"{o.successes}/{o.episodes}", _ci(o),
                  _fmt(o.t_success_mean_s), _fmt(o.hold_ratio, ".3f"))
    _show(t)
    c = res.critical[-1]  # overall
    bracket = f"below {c.first_failing:g}" if c.first_failing is not None else "at least the largest swept value"
    console.print(f"critical {res.knob} (success >= {c.keep:g} x {100 * c.reference_success:.0f}% at {c.reference_value:g}): "
                  + (f"{c.critical_value:g} ({100 * c.critical_success:.0f}% [{100 * c.critical_ci_low:.0f}, "
                     f"{100 * c.critical_ci_high:.0f}]), {bracket}" if c.critical_value is not None else f"none, {bracket}"))
    console.print(f"wrote {res.csv_path}, {res.png_path}, critical.csv and success_vs_hz.png beside them")


@app.command("sweep-grid")
@_friendly
def sweep_grid_cmd(policy: PolicyOpt, tasks: TasksOpt = "all", episodes: EpisodesOpt = 10,
                   delays_ms: Annotated[str, typer.Option("--delays-ms", help="Comma-separated fixed call latencies in ms.")] = "0,100,200,300,400",
                   modes: Annotated[str, typer.Option("--modes", help="Comma-separated modes, one sweep each.")] = "frozen,blocking,async",
                   vary: Annotated[list[str] | None, typer.Option("--vary", help="KEY=V1,V2,...: task-arg values, one sweep per mode for each (repeatable: the cartesian product), e.g. level=1,2,3.")] = None,
                   setting: SettingOpt = "clean", seed: SeedOpt = 0, seeds: SeedsOpt = None, workers: WorkersOpt = 1,
                   out: OutOpt = None, checkpoint: CkptOpt = None, imports: ImportOpt = None, task_args: TaskArgOpt = None,
                   executor: ExecutorOpt = "local", ray_address: RayAddressOpt = None,
                   policy_args: Annotated[list[str] | None, typer.Option("--policy-arg", "-P", help="KEY=VALUE passed to the policy factory; repeatable (e.g. execute_len=8).")] = None) -> None:
    """Success vs call latency for several modes and task settings on the same seeds; writes OUT/grid.csv, grid.png
    and one sweep per (setting, mode) under OUT/<setting>/<mode>/."""
    from ahabench import api

    import_all(imports)
    with _progress_ctx() as bar:
        res = api.sweep_grid(policy, tasks, episodes, delays_ms=parse_floats(delays_ms, "--delays-ms"),
                             modes=[m.strip() for m in modes.split(",") if m.strip()], vary=parse_vary(vary), out=out,
                             progress=_RunProgress(bar, "grid"), setting=setting, seed=seed, seeds=parse_seeds(seeds, tasks),
                             workers=workers, policy_kwargs=parse_policy_kwargs(checkpoint, policy_args),
                             imports=imports or (), executor=executor, ray_address=ray_address,
                             task_args=parse_task_args(task_args))
    t = _table(f"{policy}: success vs call latency", ("setting", "mode", *(f"{p.value:g} ms" for p in res.cells[0].points)))
    for c in res.cells:
        t.add_row(c.label, c.mode, *(f"{p.summary[-1].successes}/{p.summary[-1].episodes}" for p in c.points))
    _show(t)
    console.print(f"wrote {res.csv_path} and {res.png_path}")


@app.command("regress")
@_friendly
def regress_cmd(run: Annotated[Path, typer.Argument(help="Run directory to test.")],
                reference: Annotated[Path | None, typer.Option("--reference", help="Reference file (or reference run dir) to test against.")] = None,
                alpha: Annotated[float, typer.Option("--alpha", help="Family-wise significance level (statistical mode).")] = 0.05,
                test: Annotated[str, typer.Option("--test", help="auto (exact when both runs are deterministic on the same seeds and conditions), exact or statistical.")] = "auto",
                allow_mismatch: Annotated[bool, typer.Option("--allow-mismatch", help="Test a run whose tasks, seeds, mode, profile, ... differ from the reference's (statistically).")] = False,
                allow_underpowered: Annotated[bool, typer.Option("--allow-underpowered", help="Run a statistical test that could not flag even a policy that stopped working.")] = False,
                write_ref: Annotated[Path | None, typer.Option("--write-reference", help="Write RUN's conditions and episode outcomes as a reference file here and exit.")] = None,
                as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False) -> None:
    """Exit 1 when RUN regresses against the reference: any changed episode (exact mode), a significant
    success drop (statistical mode), or a crashed / bad-action episode. Exit 2 when RUN was not made under the
    reference's tasks, seeds and conditions."""
    from ahabench import api
    from ahabench.report.regress import result_json

    if write_ref is not None:
        path = api.make_reference(run, write_ref)
        console.print(f"reference written to {path}")
        return
    if reference is None:
        raise UsageError("give --reference FILE to test against, or --write-reference FILE to make one")
    res = api.regress(run, reference, alpha, test, allow_mismatch, allow_underpowered)
    if as_json:
        console.print_json(result_json(res))
    elif res.test == "exact":
        t = _table(res.description, ("task", "reference", "run", "changed episodes"))
        for r in res.rows:
            t.add_row(r.task, f"{r.ref_successes}/{r.ref_episodes}", f"{r.run_successes}/{r.run_episodes}",
                      f"[red]{r.changed}[/red]" if r.changed else "0")
        _show(t)
    else:
        t = _table(f"{res.description}, alpha {alpha}",
                   ("task", "reference", "run", "p", "p (Holm)", "smallest drop it can flag", "regressed"))
        for r in res.rows:
            drop = "none" if r.min_drop is None else f"{r.min_drop} of {r.ref_successes} successes"
            t.add_row(r.task, f"{r.ref_successes}/{r.ref_episodes}", f"{r.run_successes}/{r.run_episodes}",
                      f"{r.p_value:.4g}", f"{r.p_adjusted:.4g}", drop, "[red]YES[/red]" if r.regressed else "no")
        _show(t)
        console.print(f"power: a task row is flagged at alpha/{max(1, len(res.rows) - 1)} (Holm's first step), the "
                      f"overall row at alpha; a run that solves nothing {'is' if res.detects_stop else 'is NOT'} caught")
    for m in res.mismatches:
        err_console.print(f"[yellow]warning:[/yellow] run differs from the reference: {m}", highlight=False)
    if not res.passed:
        for line in res.explain():
            err_console.print(f"[red]regression:[/red] {line}", highlight=False)
        if res.changed:
            err_console.print("if the change is intended, write the reference again (make ci-reference for the CI gate)")
        raise typer.Exit(1)
    if res.test == "exact":
        console.print(f"[green]every episode matches the reference ({res.rows[-1].run_episodes} episodes, exact)[/green]")
    else:
        console.print("[green]no significant success drop[/green]")


@app.command("report")
@_friendly
def report_cmd(run: Annotated[Path, typer.Argument(help="Run directory.")],
               task: Annotated[str | None, typer.Option("--task", help="Task of the episode whose timeline is plotted.")] = None,
               seed: Annotated[int | None, typer.Option("--seed", help="Seed of the episode whose timeline is plotted.")] = None) -> None:
    """Write RUN/report.md with plots: success per task, rates, and one episode's timeline."""
    from ahabench import api

    if (task is None) != (seed is None):
        raise UsageError("give both --task and --seed to pick the timeline episode, or neither")
    path = api.report(run, timeline=(task, seed) if task is not None else None)
    console.print(f"report written to {path}")


@app.command("tasks")
@_friendly
def tasks_cmd(suite: Annotated[str | None, typer.Option("--suite", help="Only this suite.")] = None,
              as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List tasks: name, suite, description, arms, limits, expert success."""
    from ahabench import api

    rows = api.list_tasks(suite)
    if as_json:
        console.print_json(json.dumps(rows))
        return
    t = _table("tasks", ("name", "suite", "arms", "steps", "limit s", "expert", "description"))
    for r in rows:
        exp = "-" if r["expert_success"] is None else f"{100 * r['expert_success']:.0f}%"
        if r["expert_success_stale"]:
            exp += " [yellow](stale: code changed since)[/yellow]"
        t.add_row(r["name"], r["suite"], str(r["arms"]), str(r["max_steps"]), f"{r['time_limit_s']:.1f}", exp, r["description"])
    _show(t)


@app.command("profiles")
@_friendly
def profiles_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the shipped latency profiles."""
    from ahabench import api

    rows = api.list_profiles()
    if as_json:
        console.print_json(json.dumps(rows, default=str))
        return
    t = Table(title="latency profiles")
    keys = [k for k in (rows[0] if rows else {"name": 0}) if k != "path"]
    for k in keys:
        t.add_column(k)
    for r in rows:
        t.add_row(*[", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v) for v in (r.get(k) for k in keys)])
    _show(t)


# The commands that build artefacts (collect, train, curves, bench) live in ahabench/cli_build.py; importing it
# registers them on ``app`` (it imports cli_common, never this module).
from ahabench import cli_build, cli_serve  # noqa: E402,F401

if __name__ == "__main__":
    app()
