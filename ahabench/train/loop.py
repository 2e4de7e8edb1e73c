"""The optimisation loop shared by every training stage (tokenizer, WAM, Flash distillation).

AdamW (betas 0.9/0.95, weight decay 0.01 on matrices only), linear warm-up over the first 5% of steps then
cosine decay to 10% of the peak LR, gradient clipping (``grad_clip``), an optional exponential moving average
of the weights (``ema_decay``; the shipped checkpoint is then the average), fixed seeds. The loop is
resumable: its full state (fp32 weights, optimiser, EMA, both RNGs, step) is saved to
``<stage_dir>/train_state.pt``, kept apart from the shipped fp16 checkpoint (:mod:`ahabench.train.campaign`
packs it small enough to commit). ``max_seconds`` stops a run cleanly at a step boundary, state saved, so a
long campaign runs in slices. Every ``log_every`` steps a line goes to ``<stage_dir>/loss.jsonl`` (the
learning curve), and the progress callback receives a :class:`TrainEvent`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)

STATE_FILE = "train_state.pt"
LOSS_FILE = "loss.jsonl"


@dataclass(frozen=True)
class LoopConfig:
    steps: int
    lr: float = 3e-4
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.95)
    warmup_frac: float = 0.05
    min_lr_frac: float = 0.1
    grad_clip: float = 1.0
    log_every: int = 10
    ckpt_every: int = 200
    seed: int = 0
    schedule: str = "cosine"  # or "constant": warm-up then the peak LR, so a campaign can be extended
    ema_decay: float = 0.0  # 0: no EMA
    max_seconds: float | None = None  # stop (state saved) once this much wall time has passed


@dataclass(frozen=True)
class TrainEvent:
    """Progress of one stage: ``progress(TrainEvent)`` after every logged step."""

    stage: str
    step: int  # steps completed
    steps: int  # steps of this stage
    loss: float
    lr: float
    parts: dict[str, float] = field(default_factory=dict)


@dataclass
class LoopResult:
    stage: str
    steps: int
    first_loss: float | None
    last_loss: float | None
    wall_s: float
    resumed_from: int
    finished: bool = True  # False when max_seconds stopped it before cfg.steps


def lr_at(step: int, cfg: LoopConfig) -> float:
    """Warm-up then cosine (or constant): the LR used for optimiser step ``step`` (0-based).

    A constant schedule warms up over a fixed 500 steps (5% of an open-ended run is undefined)."""
    warm = max(1, int(round(cfg.warmup_frac * cfg.steps))) if cfg.schedule == "cosine" else 500
    if step < warm:
        return cfg.lr * (step + 1) / warm
    if cfg.schedule == "constant":
        return cfg.lr
    frac = (step - warm) / max(1, cfg.steps - warm)
    return cfg.lr * (cfg.min_lr_frac + (1 - cfg.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))


def make_optimizer(params: list[nn.Parameter] | nn.Module, cfg: LoopConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on weight matrices only (biases, norms and gates are not decayed)."""
    named = list(params.named_parameters()) if isinstance(params, nn.Module) else [(str(i), p) for i, p in enumerate(params)]
    decay = [p for _, p in named if p.requires_grad and p.ndim >= 2]
    no_decay = [p for _, p in named if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas)


LossFn = Callable[[np.random.Generator], tuple[torch.Tensor, dict[str, float]]]


def run_loop(
    stage: str,
    model: nn.Module,
    loss_fn: LossFn,
    cfg: LoopConfig,
    stage_dir: Path,
    resume: bool = False,
    progress: Callable[[TrainEvent], None] | None = None,
    on_checkpoint: Callable[[int], None] | None = None,
) -> LoopResult:
    """Optimise ``model``'s trainable parameters on ``loss_fn(rng)`` for ``cfg.steps`` steps.

    ``on_checkpoint(step)`` is called at every periodic checkpoint and at the end, after the train
    state is saved, with the EMA weights (when there is an EMA) swapped into ``model``: the caller writes
    its shipped (fp16) checkpoint there.
    """
    stage_dir = Path(stage_dir)
    stage_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    opt = make_optimizer(model, cfg)
    ema = EMA(model, cfg.ema_decay) if cfg.ema_decay > 0 else None
    start = 0
    state_path, loss_path = stage_dir / STATE_FILE, stage_dir / LOSS_FILE
    if resume and state_path.exists():
        state = torch.load(state_path, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optim"])
        rng.bit_generator.state = state["np_rng"]
        torch.set_rng_state(state["torch_rng"])
        start = int(state["step"])
        if ema is not None and state.get("ema") is not None:
            ema.load_state_dict(state["ema"])
        _truncate_log(loss_path, start)
        log.info("%s: resumed at step %d from %s", stage, start, state_path)
    elif loss_path.exists():
        loss_path.unlink()  # a fresh run starts a fresh learning curve
    first = last = None
    t0 = time.perf_counter()
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    finished = True

    def checkpoint(done: int) -> None:
        save_train_state(state_path, model, opt, rng, done, ema)
        if on_checkpoint is not None:
            if ema is None:
                on_checkpoint(done)
            else:
                with ema.swapped(model):
                    on_checkpoint(done)

    for step in range(start, cfg.steps):
        lr = lr_at(step, cfg)
        for g in opt.param_groups:
            g["lr"] = lr
        loss, parts = loss_fn(rng)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{stage}: non-finite loss {loss.item()} at step {step}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = float(torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip))
        opt.step()
        if ema is not None:
            ema.update(model)
        val = float(loss.detach())
        first = val if first is None else first
        last = val
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.steps or step == start:
            rec = {"stage": stage, "step": done, "loss": round(val, 6), "lr": lr, "grad_norm": round(gnorm, 4),
                   "wall_s": round(time.perf_counter() - t0, 2), **{k: round(float(v), 6) for k, v in parts.items()}}
            with open(loss_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
            if progress is not None:
                progress(TrainEvent(stage, done, cfg.steps, val, lr, {k: float(v) for k, v in parts.items()}))
        out_of_time = cfg.max_seconds is not None and time.perf_counter() - t0 >= cfg.max_seconds and done < cfg.steps
        if done % cfg.ckpt_every == 0 or done == cfg.steps or out_of_time:
            checkpoint(done)
        if out_of_time:
            log.info("%s: stopped at step %d of %d after %.0f s (max_seconds); resume to continue", stage, done,
                     cfg.steps, time.perf_counter() - t0)
            finished = False
            break
    model.eval()
    if ema is not None:  # the caller continues with the weights it ships
        ema.copy_to(model)
    return LoopResult(stage, cfg.steps, first, last, time.perf_counter() - t0, start, finished)


class EMA:
    """Exponential moving average of a model's trainable parameters. The decay ramps up as
    min(decay, (1 + n) / (10 + n)) over the first updates, so early averages are not dominated by the
    random initialisation."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = float(decay)
        self.updates = 0
        self.shadow = {n: p.detach().clone().float() for n, p in model.named_parameters() if p.requires_grad}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for n, p in model.named_parameters():
            if n in self.shadow:
                self.shadow[n].lerp_(p.detach().float(), 1.0 - d)

    @torch.no_grad()
    def copy_to(self, model: nn.Module) -> None:
        for n, p in model.named_parameters():
            if n in self.shadow:
                p.copy_(self.shadow[n].to(p.dtype))

    @contextmanager
    def swapped(self, model: nn.Module) -> Iterator[None]:
        """The EMA weights in ``model`` inside the block, the trained ones back after it."""
        saved = {n: p.detach().clone() for n, p in model.named_parameters() if n in self.shadow}
        self.copy_to(model)
        try:
            yield
        finally:
            with torch.no_grad():
                for n, p in model.named_parameters():
                    if n in saved:
                        p.copy_(saved[n])

    def state_dict(self) -> dict[str, Any]:
        return {"updates": self.updates, "shadow": self.shadow}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.updates = int(state["updates"])
        self.shadow = {n: t.float().clone() for n, t in state["shadow"].items()}


def save_train_state(path: Path, model: nn.Module, opt: torch.optim.Optimizer, rng: np.random.Generator, step: int,
                     ema: EMA | None = None) -> None:
    tmp = Path(str(path) + ".tmp")
    torch.save({"model": model.state_dict(), "optim": opt.state_dict(), "np_rng": rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(), "step": step, "ema": None if ema is None else ema.state_dict()}, tmp)
    os.replace(tmp, path)


def _truncate_log(path: Path, step: int) -> None:
    """Drop loss lines past ``step`` (written after the last saved state of an interrupted run)."""
    if not path.exists():
        return
    keep = [ln for ln in path.read_text().splitlines() if ln.strip() and json.loads(ln)["step"] <= step]
    path.write_text("".join(ln + "\n" for ln in keep))


def read_loss_log(stage_dir: Path) -> list[dict[str, Any]]:
    path = Path(stage_dir) / LOSS_FILE
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()] if path.exists() else []
