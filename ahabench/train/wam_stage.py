"""Stage 2: train the world-action model (video DiT planner + action DiT executor) by flow matching.

Batches come from :class:`ahabench.data.dataset.DemoDataset` with cached tokenizer latents (``*_latents``
keys), so no pixels are encoded here. The model's own ``training_loss(batch)`` computes L_action +
lambda L_video (policies/wam); this stage only feeds it and checkpoints it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ahabench.data.dataset import DemoDataset
from ahabench.policies.wam.checkpoint import load_weights
from ahabench.train.loop import LoopConfig, LoopResult, TrainEvent, run_loop

log = logging.getLogger(__name__)

DONE = "done.json"


def _loss_parts(out: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """Accept ``loss`` or ``(loss, parts)`` from a model's training loss."""
    if isinstance(out, tuple):
        loss, parts = out
        return loss, {k: float(v) for k, v in parts.items()}
    return out, {}


def train_wam(
    model: nn.Module,
    ds: DemoDataset,
    stage_dir: Path,
    loop: LoopConfig,
    batch_size: int,
    save: Callable[[int], None],
    resume: bool = False,
    progress: Callable[[TrainEvent], None] | None = None,
    stage: str = "wam",
    autocast: str = "off",
) -> LoopResult | None:
    """Train ``model`` on ``ds``; ``save(step)`` writes the shipped checkpoint at each periodic checkpoint.

    autocast "bf16": forward and backward under CPU bf16 autocast (weights and optimiser stay fp32)."""
    stage_dir = Path(stage_dir)
    done = _read_done(stage_dir)
    if resume and done is not None and done.get("steps") == loop.steps:
        load_weights(stage_dir / "checkpoint", {"wam": model})
        log.info("%s: already trained (%d steps) in %s", stage, loop.steps, stage_dir)
        return None

    def loss_fn(rng: np.random.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        batch = ds.sample(batch_size, rng)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast == "bf16"):
            return _loss_parts(model.training_loss(batch))

    result = run_loop(stage, model, loss_fn, loop, stage_dir, resume=resume, progress=progress, on_checkpoint=save)
    if result.finished:
        done = {"steps": loop.steps, "first_loss": result.first_loss, "last_loss": result.last_loss}
        (stage_dir / DONE).write_text(json.dumps(done))
    return result


def _read_done(stage_dir: Path) -> dict[str, Any] | None:
    path = Path(stage_dir) / DONE
    return json.loads(path.read_text()) if path.exists() else None
