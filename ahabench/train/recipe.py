"""Training recipes: every choice of how a WAM is trained, as named, typed fields.

A :class:`Recipe` holds what changes the learning (action space, proprioception path, loss balance, OVCR gate,
EMA, clipping, learning rate, batch); the model's sizes stay in ``policies/wam/config.py``. ``RECIPES`` is the
one table of named recipes:

- ``paper``: the published structure at tiny size (what the first shipped checkpoints were trained with):
  absolute joint targets, one proprioception token per chunk, video and action losses weighted 1:1, OVCR gates
  at sigmoid(-4), clip 1.0, no EMA.
- ``v2`` (the default): the levers of the CPU campaign (each a field, so an ablation flips one):
  * ``action_space="delta"``: joint targets relative to the chunk-start joint position (grippers absolute), as
    pi0 is trained on RoboTwin. An absolute target must re-learn where the arm is from one token; a delta
    starts at zero and only has to learn the motion.
  * ``proprio_tokens=True``: proprioception added to every action token, on top of the paper's
    cross-attention token.
  * ``video_loss_weight=0.5``: the video loss ran at ~3x the action loss and dominated the update.
  * ``grad_clip=5.0``: with 1.0 the clip bound at every step (gradient norm 2-4), a third of the nominal LR.
  * ``ovcr_gate_init=-1.0``: the editors' last layer is zero-initialised, so OVCR still starts as the
    identity; the gate only scales how fast the editor learns. At sigmoid(-4) = 0.018 the editor's gradient
    was 1/55 of the rest and the gates never moved (0.019 after 2000 steps).
  * ``ema_decay=0.999``: the shipped weights are an exponential moving average of the trained ones.
  * ``schedule="constant"``: warm-up then a constant LR, with the EMA doing the averaging a decay would do;
    a campaign that runs in slices over several machines can then be extended without changing its past.
  * ``autocast="bf16"``: the WAM stage's forward and backward under bf16 autocast (weights, optimiser and
    loss in fp32). On this CPU (AVX512-BF16) a training step takes about half the time; see
    ``ahabench bench --train`` for the measured ratio and loss.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Recipe:
    name: str = "v2"
    action_space: str = "delta"
    proprio_tokens: bool = True
    video_loss_weight: float = 0.5
    ovcr_gate_init: float = -1.0
    ema_decay: float = 0.999
    grad_clip: float = 5.0
    lr: float = 3e-4
    batch: int = 16
    autocast: str = "bf16"  # or "off"
    schedule: str = "constant"  # or "cosine"

    def model_overrides(self) -> dict[str, Any]:
        """The WAMConfig fields this recipe sets (they travel in the checkpoint's model config)."""
        return dict(action_space=self.action_space, proprio_tokens=self.proprio_tokens,
                    video_loss_weight=self.video_loss_weight, ovcr_gate_init=self.ovcr_gate_init)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


RECIPES: dict[str, Recipe] = {
    "paper": Recipe(name="paper", action_space="absolute", proprio_tokens=False, video_loss_weight=1.0,
                    ovcr_gate_init=-4.0, ema_decay=0.0, grad_clip=1.0, lr=3e-4, batch=16, autocast="off",
                    schedule="cosine"),
    "v2": Recipe(),
}
DEFAULT_RECIPE = "v2"


AUTOCAST: tuple[str, ...] = ("off", "bf16")
SCHEDULES: tuple[str, ...] = ("cosine", "constant")


def get_recipe(name: str, **overrides: Any) -> Recipe:
    """A named recipe with some fields replaced (e.g. ``ema_decay=0``); unknown names fail naming the known."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; known: {sorted(RECIPES)}")
    fields = {f.name for f in dataclasses.fields(Recipe)}
    bad = sorted(set(overrides) - fields)
    if bad:
        raise ValueError(f"unknown recipe field(s) {bad}; fields: {sorted(fields - {'name'})}")
    rec = dataclasses.replace(RECIPES[name], **overrides)
    if rec.autocast not in AUTOCAST:
        raise ValueError(f"unknown autocast {rec.autocast!r}; known: {AUTOCAST}")
    if rec.schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {rec.schedule!r}; known: {SCHEDULES}")
    return rec
