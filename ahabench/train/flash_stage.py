"""Stage 3 (aha-wam-flash only): distil the 10/16-step action sampler into a 2-step one.

The teacher is the stage-2 AHA-WAM; the student starts as its copy with everything but the action DiT
frozen (video DiT, OVCR, text encoder and tokenizer are shared knowledge, spec section 8). The objective
is ``ahabench.policies.wam.flash.flash_loss`` on the same cached-latent batches as stage 2.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ahabench.data.dataset import DemoDataset
from ahabench.policies.wam.checkpoint import load_weights
from ahabench.train.loop import LoopConfig, LoopResult, TrainEvent, run_loop
from ahabench.train.wam_stage import _loss_parts

log = logging.getLogger(__name__)

DONE = "done.json"


def train_flash(
    teacher: nn.Module,
    ds: DemoDataset,
    stage_dir: Path,
    loop: LoopConfig,
    batch_size: int,
    make_save: Callable[[nn.Module], Callable[[int], None]],
    resume: bool = False,
    progress: Callable[[TrainEvent], None] | None = None,
) -> tuple[LoopResult | None, nn.Module]:
    """Distil ``teacher`` into a student; ``make_save(student)(step)`` writes its checkpoint."""
    from ahabench.policies.wam.flash import flash_loss, make_student

    stage_dir = Path(stage_dir)
    teacher.eval()
    student = make_student(teacher)
    teacher.requires_grad_(False)
    done_path = stage_dir / DONE
    if resume and done_path.exists() and json.loads(done_path.read_text()).get("steps") == loop.steps:
        load_weights(stage_dir / "checkpoint", {"wam": student})
        log.info("flash: already distilled (%d steps) in %s", loop.steps, stage_dir)
        return None, student.eval()

    def loss_fn(rng: np.random.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        return _loss_parts(flash_loss(teacher, student, ds.sample(batch_size, rng)))

    result = run_loop(
        "flash", student, loss_fn, loop, stage_dir, resume=resume, progress=progress, on_checkpoint=make_save(student)
    )
    done_path.write_text(json.dumps({"steps": loop.steps, "first_loss": result.first_loss, "last_loss": result.last_loss}))
    return result, student.eval()

