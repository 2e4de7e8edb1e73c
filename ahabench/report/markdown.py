"""The run report page: RUN/report.md with its PNG plots (success, rates, one episode's timeline)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ahabench.rundir import GroupSummary

if TYPE_CHECKING:  # annotations only: the report reads a run directory through engine.io, imported when it does
    from ahabench.rundir import Manifest


def _f(x: float | None, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def summary_table(rows: Sequence[GroupSummary]) -> str:
    lines = ["| task | success | 95% CI | errors | t_success (s) | chunk Hz | reaction p50 (ms) | stale | held |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.task} | {r.successes}/{r.episodes} ({100 * r.success_rate:.1f}%) | "
                     f"[{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}] | {r.errors} | {_f(r.t_success_mean_s)} | "
                     f"{_f(r.chunk_hz)} | {_f(r.reaction_ms_p50, '.1f')} | {_f(r.stale_ratio, '.3f')} | "
                     f"{_f(r.hold_ratio, '.3f')} |")
    return "\n".join(lines)


def render_report(manifest: Manifest, rows: Sequence[GroupSummary], plots: dict[str, str],
                  timeline_note: str = "", errors: Sequence[str] = ()) -> str:
    cfg, git = manifest.config, manifest.git
    head = [
        f"# ahabench run: `{cfg.get('policy')}` ({cfg.get('mode')}, {cfg.get('setting')})",
        "",
        f"- latency model: `{cfg.get('latency')}`, profile `{cfg.get('profile')}`"
        + (f", device `{cfg.get('device')}`" if cfg.get("device") else "")
        + (f", scale {cfg.get('latency_scale')}" if cfg.get("latency_scale", 1.0) != 1.0 else "")
        + (f", fixed {cfg.get('fixed_ms')} ms" if cfg.get("fixed_ms") is not None else ""),
        f"- tasks: {len(cfg.get('tasks', []))}, episodes per task: "
        f"{manifest.episodes_per_task}, "
        f"seed base {cfg.get('seed')}" + (" (explicit seeds)" if cfg.get("seeds") else ""),
        f"- git `{git.get('commit')}`{' (dirty)' if git.get('dirty') else ''}, created {manifest.created_utc}",
        "",
        "Success is ever-succeeded within the step limit; the rate counts errored episodes as failures "
        "(errors are listed apart). Chunk Hz = 1000 / mean chunk latency (the paper's rate).",
        "",
        "## Results",
        "",
        summary_table(rows),
        "",
    ]
    for title, key in (("Success per task", "success"), ("Chunk rates", "rates"), ("One episode's timeline", "timeline")):
        if key in plots:
            head += [f"## {title}", "", f"![{key}]({plots[key]})", ""]
    if timeline_note:
        head += [timeline_note, ""]
    if errors:
        head += ["## Errors", ""] + [f"- {e}" for e in errors] + [""]
    return "\n".join(head)


def _timeline_for(run: Path, recs: Sequence[Any], timeline: tuple[str, int] | None) -> tuple[Any, str]:
    """The timeline stored at eval time (``timelines/``) of the episode asked for, by default the first successful
    one (else the first): a success shows the whole cycle of prefill, chunks and queue until the task is done."""
    from ahabench.rundir import read_timeline

    if timeline is None:
        pick = next((r for r in recs if r.success_once), recs[0] if recs else None)
        if pick is None:
            return None, "No episodes: no timeline."
        timeline = (pick.task, pick.seed)
    task, seed = timeline
    tl = read_timeline(run, task, seed)
    if tl is None:
        return None, f"No stored timeline for {task} seed {seed} (runs made before timelines were kept have none)."
    return tl, f"Timeline of {task} seed {seed} (stored)."


def write_report(run: Path, timeline: tuple[str, int] | None = None) -> Path:
    """Write RUN/report.md and RUN/plots/*.png from the run directory; returns the report's path."""
    from ahabench.fileio import atomic_write_text
    from ahabench.report.plots import plot_rates, plot_success
    from ahabench.report.timeline import plot_timeline
    from ahabench.rundir import EPISODES, read_episodes, read_manifest, summarize

    run = Path(run)
    manifest = read_manifest(run)
    recs = read_episodes(run / EPISODES)
    if not recs:
        raise ValueError(f"run {run} holds no episodes to report")
    rows = summarize(recs)
    plots = {"success": "plots/success.png", "rates": "plots/rates.png"}
    plot_success(rows, run / plots["success"], f"{manifest.get('policy')} ({manifest.get('mode')})")
    plot_rates(rows, run / plots["rates"])
    tl, note = _timeline_for(run, recs, timeline)
    if tl is not None:
        plots["timeline"] = "plots/timeline.png"
        plot_timeline(tl, run / plots["timeline"], note.split(",")[0].rstrip("."), max_ms=3000.0)
    errors = [f"{r.task} seed {r.seed}: {r.error_kind}: {r.error}" for r in recs if r.error]
    path = run / "report.md"
    atomic_write_text(path, render_report(manifest, rows, plots, note, errors))
    return path
