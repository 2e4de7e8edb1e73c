"""Model card of a trained checkpoint: ``checkpoint/README.md`` plus the stages' learning curves beside it.

Written at the end of :func:`ahabench.train.train_policy` (and callable on a finished training directory), so a
shipped ``policies/<name>/checkpoint/`` always says what it was trained on, how long, what the losses did, and
the command that reproduces it. The loss logs are copied as ``loss_<stage>.jsonl`` so that ``ahabench curves``
works on the shipped folder alone.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ahabench.train.loop import read_loss_log

STAGE_ORDER = ("tokenizer", "wam", "flash")


def _loss_line(stage: str, log: list[dict[str, Any]], terms: tuple[str, ...]) -> str:
    if not log:
        return "not logged"
    first, last = log[0], log[-1]
    parts = [f"loss {first['loss']:.4g} -> {last['loss']:.4g}"]
    for t in terms:
        if t in first and t in last:
            parts.append(f"{t} {first[t]:.4g} -> {last[t]:.4g}")
    return f"{last['step']} steps, " + ", ".join(parts) + f", {last.get('wall_s', 0.0) / 60:.1f} min (`loss_{stage}.jsonl`)"


def task_selector(tasks: list[str]) -> str:
    """The shortest ``--tasks`` value naming exactly ``tasks``: a suite's name when they are that suite."""
    from ahabench.task_registry import suites

    for name, members in suites().items():
        if list(members) == list(tasks):
            return name
    return ",".join(tasks)


def data_phases(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The checkpoint's data phases (:mod:`ahabench.train.data_phases`); older checkpoints: one, ``runs/demos``."""
    return config.get("data_phases") or [{"data": ["runs/demos"], "from_step": 0, "action_noise": {}}]


def collect_commands(summary: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """One ``ahabench collect`` line per demo folder the run trained on (DART folders with their noise)."""
    tasks = summary["tasks"]
    per_task = summary.get("max_episodes") or max(1, summary["n_episodes"] // max(1, len(tasks)))
    lines, seen = [], set()
    for phase in data_phases(config):
        for folder in phase["data"]:
            if folder in seen:
                continue
            seen.add(folder)
            noise = float(phase.get("action_noise", {}).get(folder, 0.0))
            n = phase.get("episodes", {}).get(folder, per_task)
            line = f"ahabench collect --tasks {task_selector(tasks)} --episodes {n} --setting clean --out {folder} -w 2"
            lines.append(line + (f" --action-noise {noise:g}" if noise else ""))
    return lines


def reproduce_command(summary: dict[str, Any], config: dict[str, Any], logs: dict[str, list[dict[str, Any]]]) -> str:
    """The ``ahabench train`` command lines that redo this run, one per data phase (the later ones ``--resume``).
    Step counts come from the loss logs (their last step), which survive a ``--resume`` that skipped finished
    stages."""
    steps = {s: (log[-1]["step"] if log else None) for s, log in logs.items()}
    if summary.get("wam_step"):  # a run stopped by --max-minutes saves past its last logged step
        steps["wam"] = summary["wam_step"]
    tok, distill = steps.get("tokenizer"), steps.get("flash")
    tasks = task_selector(summary["tasks"])
    cmd = (f"ahabench train --policy {summary['policy']} --tasks {tasks} --size {summary['size']} "
           f"--steps {steps.get('wam')}")
    if tok:
        cmd += f" --tokenizer-steps {tok}"
    if distill:
        cmd += f" --distill-steps {distill}"
    recipe = (summary.get("recipe") or {}).get("name")
    if recipe and recipe != "v2":
        cmd += f" --recipe {recipe}"
    if summary.get("max_episodes"):  # the cap as given: with several demo folders n_episodes is their sum
        cmd += f" --max-episodes {summary['max_episodes']}"
    threads = summary.get("threads", 1)  # summaries written before threads were recorded: those runs used 1
    phases = data_phases(config)
    ends = [p["from_step"] for p in phases[1:]] + [steps.get("wam")]
    lines = []
    for i, (phase, end) in enumerate(zip(phases, ends)):
        data = " ".join(f"--data {d}" for d in phase["data"])
        # a phase recorded before phases carried their threads is the first phase of an older campaign: those ran
        # with 1 thread, like the runs whose summaries predate the threads field
        n = phase.get("threads", threads if len(phases) == 1 else 1)
        tail = f" --out runs/{summary['policy']} --seed {config.get('seed', 0)} --threads {n}"
        lines.append(cmd.replace(f" --steps {steps.get('wam')}", f" --steps {end}") + f" {data}" + tail
                     + (" --resume" if i else ""))
    return "\n".join(lines)


def _phase_line(phase: dict[str, Any]) -> str:
    parts = []
    for folder in phase["data"]:
        noise = float(phase.get("action_noise", {}).get(folder, 0.0))
        parts.append(f"`{folder}`" + (f" (DART noise {noise:g} rad)" if noise else " (clean)"))
    return f"from step {phase['from_step']}: " + " + ".join(parts)


def write_model_card(run_dir: Path, notes: str = "") -> Path:
    """Write ``run_dir/checkpoint/README.md`` and copy the loss logs next to it; returns the README path."""
    run_dir = Path(run_dir)
    ckpt = run_dir / "checkpoint"
    summary = json.loads((run_dir / "train_summary.json").read_text())
    config = json.loads((ckpt / "config.json").read_text())
    model = config.get("model", {})
    logs = {s: read_loss_log(run_dir / s) for s in STAGE_ORDER}
    for stage, log in logs.items():
        if log:
            shutil.copyfile(run_dir / stage / "loss.jsonl", ckpt / f"loss_{stage}.jsonl")
    weights_mb = (ckpt / "model.safetensors").stat().st_size / 2**20
    policy, tasks = summary["policy"], summary["tasks"]
    rows = [
        ("model", f"WAM `{model.get('size')}`, variant `{model.get('variant')}`, {weights_mb:.1f} MB fp16 safetensors"),
        ("data", f"{summary['n_episodes']} expert demos of {len(tasks)} task(s) ({', '.join(tasks)}), "
                 f"{summary['n_samples']} training windows"),
        ("data phases", "; ".join(_phase_line(p) for p in data_phases(config))),
        ("offset training", str(config.get("offset_training"))),
        ("recipe", ", ".join(f"{k}={v}" for k, v in (summary.get("recipe") or {"name": "paper (before recipes)"}).items())),
        ("tokenizer (VAE)", _loss_line("tokenizer", logs["tokenizer"], ("vae_rec",))),
        ("WAM stage", _loss_line("wam", logs["wam"], ("loss_action", "loss_video"))),
    ]
    gates = sorted((k for k in (logs["wam"][-1] if logs["wam"] else {}) if k.startswith("ovcr_gate_") and k[10:].isdigit()),
                   key=lambda k: int(k[10:]))
    if gates:  # how much OVCR's update reaches each executor layer: sigmoid(gamma), 0 = OVCR off
        last = logs["wam"][-1]
        rows.append(("OVCR gates per layer (last step)", ", ".join(f"{last[k]:.3f}" for k in gates)))
    if logs["flash"]:
        rows.append(("Flash distillation (2-step sampler)", _loss_line("flash", logs["flash"], ())))
    rows.append(("sampler steps at inference", str(config.get("sample_steps", model.get("sample_steps")))))
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    folder = policy.replace("-", "_")
    collect = "\n".join(collect_commands(summary, config))
    text = f"""# `{policy}` checkpoint ({summary['size']})

Written by `ahabench.train` (`ahabench/train/card.py`) at the end of training.

| item | value |
|---|---|
{table}

Reproduce (collect the demos, train, ship; with the torch thread count used here, as other counts may change the last bits):

```bash
{collect}
{reproduce_command(summary, config, logs)}
cp runs/{policy}/checkpoint/* policies/{folder}/checkpoint/
```

Learning curves: `ahabench curves policies/{folder}/checkpoint`.
"""
    if not summary.get("finished", True):
        step = summary.get("wam_step")
        cont = reproduce_command(summary, config, logs).splitlines()[-1].replace(f" --steps {step} ", " --steps TARGET ")
        cont = cont.replace(" --resume", "")
        text += (f"\nThis is a campaign checkpoint at WAM step {step} (its `train_state.safetensors` holds the optimiser "
                 f"state). Continue it towards step TARGET on any machine with the demos (a slice of two hours):\n\n"
                 f"```bash\n{cont} --continue-from policies/{folder}/checkpoint --max-minutes 120\n```\n")
    if notes:
        text += "\n" + notes.strip() + "\n"
    path = ckpt / "README.md"
    path.write_text(text)
    return path
