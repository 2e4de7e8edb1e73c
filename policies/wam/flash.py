"""AHA-WAM-Flash: ODE distillation of the action sampler (spec section 8).

The teacher integrates the action ODE in 16 Euler steps; its states at anchors {0, 1, 2, 4, 8, 12, 16}
are kept. The student (a copy of the teacher whose action DiT alone is trainable: video DiT, OVCR, text
encoder and tokenizer frozen) gets the teacher's state x_s at a random non-final anchor, predicts a
velocity v and thereby x0 = x_s - s v; the loss is the MSE of x0 to the teacher's final actions. With the
shifted schedule, anchors 0 and 8 are exactly the 2-step sampler's times (4 steps: 0, 4, 8, 12), so the
student runs ``sample_chunk(..., steps=2)`` (1 and 4 also work).
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from ahabench.policies.wam.flow import euler_sample, sigma_schedule
from ahabench.policies.wam.wam import WAM

ANCHORS: tuple[int, ...] = (0, 1, 2, 4, 8, 12, 16)


def make_student(teacher: WAM) -> WAM:
    """Student = deep copy of the teacher with only ``student.action`` trainable."""
    student = copy.deepcopy(teacher)
    for p in student.parameters():
        p.requires_grad_(False)
    for p in student.action.parameters():
        p.requires_grad_(True)
    return student


def flash_loss(
    teacher: WAM,
    student: WAM,
    batch: dict[str, Any],
    generator: torch.Generator | None = None,
    teacher_steps: int = 16,
    anchors: tuple[int, ...] = ANCHORS,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Distillation loss on one training batch (same contract as ``WAM.training_loss``)."""
    if max(anchors) != teacher_steps or min(anchors) != 0:
        raise ValueError(f"anchors {anchors} must span 0..teacher_steps={teacher_steps}")
    cfg, dev = teacher.cfg, teacher.device
    with torch.no_grad():
        text = teacher.encode_text(list(batch["instruction"]))
        frame_index = batch["frame_index"].to(dev).long()
        kv0 = teacher.frame0_kv(batch, text, frame_index)
        cb = teacher.fold_chunks(batch, kv0, text, frame_index)  # teacher's own context projections

        def teacher_v(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
            return teacher.action(x, s, cb.steps, cb.frame_index, cb.kv, cb.context)

        gdev = None if generator is None else generator.device
        noise = torch.randn(tuple(cb.actions.shape), generator=generator, device=gdev).to(dev)
        target, states = euler_sample(teacher_v, noise, teacher_steps, cfg.time_shift, keep=anchors)
        rows = cb.actions.shape[0]
        pick = torch.randint(len(anchors) - 1, (rows,), generator=generator, device=gdev).to(dev)  # non-final anchor
        stacked = torch.stack([states[a] for a in anchors[:-1]])  # (K, B', n, A)
        x_s = stacked[pick, torch.arange(rows, device=dev)]  # (B', n, A)
        sig = sigma_schedule(teacher_steps, cfg.time_shift).to(dev)
        s = sig[torch.tensor(anchors[:-1], device=dev)[pick]]  # (B',)
    # the student's context projections are part of its (trainable) action DiT
    context = student.action.context(text.tokens, text.mask, cb.proprio)
    v = student.action(x_s, s, cb.steps, cb.frame_index, cb.kv, context)
    x0 = x_s - s[:, None, None] * v
    err = (x0 - target).pow(2).mean(-1)  # (B', n)
    loss = (err * cb.mask).sum() / cb.mask.sum().clamp_min(1.0)
    return loss, {"flash_loss": loss.item()}


@torch.no_grad()
def sampler_gap(teacher: WAM, student: WAM, batch: dict[str, Any], steps: int = 2, teacher_steps: int = 16,
                seed: int = 0) -> float:
    """Masked MSE between the student's ``steps``-step chunks and the teacher's ``teacher_steps``-step chunks
    on one batch's chunk conditionings, from the same noise (the distillation's evaluation metric)."""
    cfg, dev = teacher.cfg, teacher.device
    text = teacher.encode_text(list(batch["instruction"]))
    frame_index = batch["frame_index"].to(dev).long()
    kv0 = teacher.frame0_kv(batch, text, frame_index)
    outs = []
    for model, n in ((teacher, teacher_steps), (student, steps)):
        cb = teacher.fold_chunks(batch, kv0, text, frame_index, action=model.action)

        def velocity(x: torch.Tensor, s: torch.Tensor, m: WAM = model, c=cb) -> torch.Tensor:
            return m.action(x, s, c.steps, c.frame_index, c.kv, c.context)

        noise = torch.randn(tuple(cb.actions.shape), generator=torch.Generator().manual_seed(seed)).to(dev)
        outs.append(euler_sample(velocity, noise, n, cfg.time_shift)[0])
    err = (outs[1] - outs[0]).pow(2).mean(-1)
    return ((err * cb.mask).sum() / cb.mask.sum().clamp_min(1.0)).item()
