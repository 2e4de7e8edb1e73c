"""stack_blocks_two: put the red block in the middle of the table and stack the green block on it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.base import DualArmTableEnv
from ahabench.experts.primitives import LEFT, RIGHT
from ahabench.tasks.robotwin.blocks import GREEN, RED, build_tower_blocks, scatter_for_tower, stack_tower, stacked_on


@register_robotwin_task("stack_blocks_two", max_steps=800)
class StackBlocksTwoEnv(DualArmTableEnv):
    """
    Description:
        Place the red block in the middle of the table, then stack the green block on top of it.
    Randomizations:
        Each block's position on either half of the table (x in [-0.12, 0.1], |y| in [0.08, 0.3], 10 cm apart and
        clear of the centre) and its yaw in [-pi, pi).
    Success:
        The green block's centre is within (2.5, 2.5, 1.2) cm of one block-height above the red block's centre,
        and both grippers are open.
    """

    INSTRUCTIONS_SEEN = (
        "Stack the green block on the red block.",
        "Move the red block to the middle and put the green block on top of it.",
        "Put the green cube on top of the red cube.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Place the red block at the center of the table, then stack the green one on it.",
        "Build a two-block tower: red at the bottom, green on top.",
        "Set the red cube in the middle and place the green cube onto it.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.red, self.green = build_tower_blocks(self, (("red", RED), ("green", GREEN)))

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        scatter_for_tower(self, (self.red, self.green))

    def evaluate(self) -> dict:
        on = stacked_on(self, self.green, self.red)
        grippers_open = self.gripper_open(LEFT) & self.gripper_open(RIGHT)
        return dict(green_on_red=on, grippers_open=grippers_open, success=on & grippers_open)

    def expert(self) -> Iterator[np.ndarray]:
        yield from stack_tower(self, (self.red, self.green))
