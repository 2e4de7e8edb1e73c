"""Training of the WAM policies: ``train_policy`` runs the stages a policy needs, resumably.

Stages, each in its own folder under ``out`` (with ``train_state.pt`` for --resume, ``loss.jsonl`` for the
learning curve, ``checkpoint/`` and ``done.json`` once finished):

1. ``tokenizer/``: the conv VAE on the demos' mosaics; then every frame's latents are cached.
2. ``wam/``: the video DiT + action DiT (+ OVCR) by flow matching on cached latents.
3. ``flash/`` (aha-wam-flash only): ODE distillation of the action sampler from the stage-2 teacher.

The final, shippable checkpoint is ``out/checkpoint/`` (fp16 weights of the whole model under the prefix
"wam.", config.json, norm_stats.json, and ``train_state.safetensors``: the packed state a campaign continues
from, see :mod:`ahabench.train.campaign`): copy it to ``policies/<policy>/checkpoint/`` to ship it.
How the model is trained (action space, loss balance, EMA, ...) is a :class:`~ahabench.train.recipe.Recipe`.

A long campaign runs in slices: ``max_minutes`` stops the WAM stage cleanly (its checkpoint written, the
run not marked done), ``resume`` continues a local run, and ``continue_from`` continues the campaign of a
committed checkpoint folder on a machine that has nothing else of it.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ahabench.data.dataset import DemoDataset, SampleConfig
from ahabench.policies.wam.checkpoint import save_checkpoint
from ahabench.train import data_phases as dp
from ahabench.train.loop import LoopConfig, LoopResult, TrainEvent
from ahabench.train.recipe import DEFAULT_RECIPE, Recipe, get_recipe
from ahabench.train.tokenizer_stage import cache_latents, train_tokenizer
from ahabench.train.wam_stage import train_wam

log = logging.getLogger(__name__)

#: Policy name -> (WAM variant, distilled Flash sampler?).
POLICY_VARIANTS: dict[str, tuple[str, bool]] = {
    "aha-wam": ("aha", False),
    "naive-async": ("naive_async", False),
    "fast-wam": ("fast", False),
    "aha-wam-flash": ("aha", True),
}

#: Optimisation settings per size preset that no recipe changes (the model sizes live in policies/wam/config.py;
#: the WAM stage's LR and batch come from the recipe, scaled by ``lr_scale`` / ``batch_scale`` for a size).
TRAIN_PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(batch_scale=1, lr_scale=1.0, tok_batch=16, tok_lr=1e-3, flash_lr=1e-4, ckpt_every=200, log_every=10),
    "small": dict(batch_scale=2, lr_scale=2 / 3, tok_batch=32, tok_lr=5e-4, flash_lr=5e-5, ckpt_every=500, log_every=20),
}

__all__ = ["train_policy", "TrainSummary", "TrainEvent", "POLICY_VARIANTS", "TRAIN_PRESETS"]


@dataclass
class TrainSummary:
    policy: str
    size: str
    out: Path
    checkpoint: Path
    tasks: list[str]
    n_episodes: int
    n_samples: int
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    wall_s: float = 0.0
    threads: int = 1  # torch threads it ran with: the last bits of the weights depend on it
    recipe: dict[str, Any] = field(default_factory=dict)
    finished: bool = True  # False: the WAM stage stopped at max_minutes; resume to continue
    wam_step: int = 0  # the WAM step the checkpoint holds
    max_episodes: int | None = None  # demos per task trained on (None: every demo in the folder)

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "size": self.size, "out": str(self.out), "checkpoint": str(self.checkpoint),
                "tasks": self.tasks, "n_episodes": self.n_episodes, "n_samples": self.n_samples,
                "stages": self.stages, "wall_s": round(self.wall_s, 2), "threads": self.threads,
                "recipe": self.recipe, "finished": self.finished, "wam_step": self.wam_step, "max_episodes": self.max_episodes}


def _stage_info(res: LoopResult | None) -> dict[str, Any]:
    if res is None:
        return {"skipped": "already trained"}
    return {"steps": res.steps, "first_loss": res.first_loss, "last_loss": res.last_loss, "wall_s": round(res.wall_s, 2),
            "resumed_from": res.resumed_from, "finished": res.finished}


def train_policy(
    policy: str,
    tasks: list[str],
    size: str,
    steps: int,
    out: Path,
    data: Path | Sequence[Path] | None,
    resume: bool,
    seed: int,
    progress: Callable[[TrainEvent], None] | None = None,
    *,
    episodes: int = 50,
    max_episodes: int | None = None,
    tokenizer_steps: int | None = None,
    distill_steps: int | None = None,
    batch_size: int | None = None,
    offset_training: bool | None = None,
    threads: int | None = 2,
    recipe: str | Recipe = DEFAULT_RECIPE,
    max_minutes: float | None = None,
    continue_from: Path | None = None,
    snapshot_every: int | None = None,
) -> TrainSummary:
    """Train ``policy`` (aha-wam | fast-wam | naive-async | aha-wam-flash) at ``size`` on demos of ``tasks``.

    data: demo folder, or several whose demos are mixed (the first is collected with ``episodes`` clean
        demos per task into ``out/demos`` when None or when demos are missing). A continued run may add a
        folder (say, DART demos): it keeps the normalisation it was trained with and records the data phase
        (:mod:`ahabench.train.data_phases`). steps: WAM-stage steps; the tokenizer and the Flash distillation default
        to steps // 4 each (at least 20). offset_training: None = on for the async policies, off for
        fast-wam (which always acts at phase 0). threads: torch threads (2 when training alone on 2 cores).
    recipe: a :data:`~ahabench.train.recipe.RECIPES` name or a Recipe (``batch_size`` overrides its batch).
    max_minutes: stop the WAM stage after this long (state and checkpoint saved; run again with resume).
    continue_from: a checkpoint folder with a packed training state (a shipped ``policies/<p>/checkpoint``):
        the run continues that campaign (same recipe, data and total ``steps``) in ``out``.
    snapshot_every: also keep a copy of the WAM checkpoint every this many steps in ``out/wam/snapshots/``
        (for success-against-steps evaluations of a campaign).
    """
    if policy not in POLICY_VARIANTS:
        raise KeyError(f"unknown policy {policy!r} to train; trainable: {sorted(POLICY_VARIANTS)}")
    if size not in TRAIN_PRESETS:
        raise ValueError(
            f"no training preset for size {size!r}; known: {sorted(TRAIN_PRESETS)} (the paper size is for cost estimates only)"
        )
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    from ahabench.policies.wam.config import make_config
    from ahabench.policies.wam.wam import WAM

    if threads:
        torch.set_num_threads(int(threads))
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    variant, flash = POLICY_VARIANTS[policy]
    preset = TRAIN_PRESETS[size]
    rec = recipe if isinstance(recipe, Recipe) else get_recipe(recipe)
    folders = dp.as_folders(data, out / "demos")
    folders[0] = _ensure_demos(folders[0], tasks, episodes)
    for extra in folders[1:]:
        _require_demos(extra, tasks)
    previous = dp.previous_checkpoint(out, continue_from) if (resume or continue_from is not None) else None
    recorded = [_portable(f) for f in folders]  # as given on the command line: no machine path in a checkpoint
    cfg = make_config(size, variant, **rec.model_overrides())
    offset = (variant != "fast") if offset_training is None else bool(offset_training)
    ds = DemoDataset.from_dir(folders, tasks, max_episodes, SampleConfig(offset_training=offset, action_space=rec.action_space,
                                                                         model_chunk=cfg.chunk_len),
                              stats=dp.resumed_stats(previous, recorded))
    bsz = batch_size or rec.batch * preset["batch_scale"]
    tok_steps = tokenizer_steps if tokenizer_steps is not None else max(20, steps // 4)
    loop_kw = dict(log_every=preset["log_every"], ckpt_every=preset["ckpt_every"], seed=seed)
    if snapshot_every and snapshot_every % preset["ckpt_every"]:
        raise ValueError(
            f"snapshot_every {snapshot_every} must be a multiple of the {size} checkpoint interval {preset['ckpt_every']}"
        )
    summary = TrainSummary(policy, size, out, out / "checkpoint", list(tasks), len(ds.episodes), len(ds),
                           threads=torch.get_num_threads(), recipe=rec.to_dict(), max_episodes=max_episodes)

    torch.manual_seed(seed)
    model = WAM(cfg)
    if continue_from is not None:
        from ahabench.train.campaign import seed_run_from_checkpoint

        seed_run_from_checkpoint(Path(continue_from), out, model, tok_steps)
        resume = True
    tok, res = train_tokenizer(cfg, ds, out / "tokenizer", LoopConfig(steps=tok_steps, lr=preset["tok_lr"], **loop_kw),
                               preset["tok_batch"], resume=resume, progress=progress)
    summary.stages["tokenizer"] = _stage_info(res)
    model.tokenizer.load_state_dict(tok.state_dict())
    model.tokenizer.requires_grad_(False)  # the VAE is frozen once trained (its latents are cached)
    resolved = [str(f.resolve()) for f in folders]
    key = {
        "data": resolved if len(folders) > 1 else resolved[0], "tasks": list(tasks), "episodes": len(ds.episodes),
        "tokenizer_steps": tok_steps, "seed": seed,
    }
    cache_latents(model.tokenizer, ds, out / "tokenizer", key)

    data_phases = dp.phases(previous, recorded, {r: dp.folder_noise(f, tasks) for r, f in zip(recorded, folders)},
                            {r: dp.folder_episodes(f, tasks, max_episodes) for r, f in zip(recorded, folders)},
                            torch.get_num_threads())
    base_config = {"policy": policy, "size": size, "variant": variant, "tasks": list(tasks), "seed": seed,
                   "data": recorded[0] if len(recorded) == 1 else recorded, "data_phases": data_phases,
                   "n_episodes": len(ds.episodes), "offset_training": offset,
                   "recipe": rec.to_dict(), "total_steps": steps,
                   "sample": {"horizon": ds.cfg.horizon, "chunk": ds.cfg.chunk, "frame_every": 4}}

    def save_stage(folder: Path, module: torch.nn.Module, stage: str, extra: dict[str, Any]) -> Callable[[int], None]:
        def save(step: int) -> None:
            config = {**base_config, "stage": stage, "step": step, "model": module.cfg.to_dict(), **extra}
            save_checkpoint(folder, {"wam": module}, config, ds.stats)
        return save

    wam_dir = out / "wam"
    wam_loop = LoopConfig(steps=steps, lr=rec.lr * preset["lr_scale"], grad_clip=rec.grad_clip, ema_decay=rec.ema_decay,
                          schedule=rec.schedule,
                          max_seconds=None if max_minutes is None else 60.0 * max_minutes, **loop_kw)
    save_latest = save_stage(wam_dir / "checkpoint", model, "wam", {"sample_steps": cfg.sample_steps})

    def save_wam(step: int) -> None:
        save_latest(step)
        if snapshot_every and step % snapshot_every == 0:
            snap = wam_dir / "snapshots" / f"step_{step:06d}"
            if snap.exists():
                shutil.rmtree(snap)
            shutil.copytree(wam_dir / "checkpoint", snap)
    res = train_wam(model, ds, wam_dir, wam_loop, bsz, save_wam, resume=resume, progress=progress, autocast=rec.autocast)
    summary.stages["wam"] = _stage_info(res)
    summary.finished = res is None or res.finished
    final_src = wam_dir / "checkpoint"
    summary.wam_step = int(json.loads((final_src / "config.json").read_text())["step"])
    if (wam_dir / "train_state.pt").exists():
        from ahabench.train.campaign import pack_state

        pack_state(wam_dir / "train_state.pt", final_src)

    if flash and summary.finished:
        from ahabench.train.flash_stage import train_flash

        d_steps = distill_steps if distill_steps is not None else max(20, steps // 4)
        flash_dir = out / "flash"
        flash_extra = {"sample_steps": 2, "teacher": _portable(final_src)}
        res, _ = train_flash(model, ds, flash_dir, LoopConfig(steps=d_steps, lr=preset["flash_lr"], **loop_kw), bsz,
                             lambda student: save_stage(flash_dir / "checkpoint", student, "flash", flash_extra),
                             resume=resume, progress=progress)
        summary.stages["flash"] = _stage_info(res)
        final_src = flash_dir / "checkpoint"

    final = out / "checkpoint"
    if final.exists():
        shutil.rmtree(final)
    shutil.copytree(final_src, final)
    summary.wall_s = time.perf_counter() - t0
    (out / "train_summary.json").write_text(json.dumps(summary.to_dict(), indent=2, default=str))
    from ahabench.train.card import write_model_card

    write_model_card(out)
    log.info("trained %s (%s) in %.1f s -> %s", policy, size, summary.wall_s, final)
    return summary


def _portable(path: Path) -> str:
    """A path as recorded in a checkpoint: relative to the working directory when under it, else its name."""
    p = Path(path)
    if not p.is_absolute():
        return str(p)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return p.name


def _require_demos(data: Path, tasks: list[str]) -> None:
    """A further --data folder must already hold demos of every task (only the first one is collected into)."""
    from ahabench.data.format import count_episodes

    missing = [t for t in tasks if count_episodes(data, t) == 0]
    if missing:
        raise FileNotFoundError(f"demo folder {data} has no demos of {', '.join(missing)}")


def _ensure_demos(data: Path, tasks: list[str], episodes: int) -> Path:
    """Use the demos in ``data``; collect them first when a task has none."""
    from ahabench.data.collect import collect_demos
    from ahabench.data.format import count_episodes

    missing = [t for t in tasks if count_episodes(data, t) == 0]
    if missing:
        log.info("no demos for %s under %s: collecting %d clean episodes each", missing, data, episodes)
        collect_demos(missing, episodes, "clean", data)
    return data
