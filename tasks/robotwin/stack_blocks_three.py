"""stack_blocks_three: stack red, green and blue blocks into one tower in the middle of the table."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.base import DualArmTableEnv
from ahabench.experts.primitives import LEFT, RIGHT
from ahabench.tasks.robotwin.blocks import BLUE, GREEN, RED, build_tower_blocks, scatter_for_tower, stack_tower, stacked_on


@register_robotwin_task("stack_blocks_three", max_steps=1200)
class StackBlocksThreeEnv(DualArmTableEnv):
    """
    Description:
        Stack the three blocks in the middle of the table: red at the bottom, then green, then blue on top.
    Randomizations:
        Each block's position on either half of the table (x in [-0.12, 0.1], |y| in [0.08, 0.3], 10 cm apart and
        clear of the centre) and its yaw in [-pi, pi).
    Success:
        Green within (2.5, 2.5, 1.2) cm of one block-height above red, blue within the same of one block-height
        above green, and both grippers open.
    """

    INSTRUCTIONS_SEEN = (
        "Stack the blocks: red at the bottom, green in the middle, blue on top.",
        "Put the red block in the middle, the green block on it and the blue block on top.",
        "Build a tower of red, green and blue blocks, red first.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Make a three-block stack in the center with the blue cube on top of the green one and the green on the red.",
        "Place the red cube at the middle of the table, then stack the green cube and finally the blue cube on it.",
        "Pile the blocks up from the bottom: red, green, blue.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.red, self.green, self.blue = build_tower_blocks(self, (("red", RED), ("green", GREEN), ("blue", BLUE)))

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        scatter_for_tower(self, (self.red, self.green, self.blue))

    def evaluate(self) -> dict:
        g_on_r, b_on_g = stacked_on(self, self.green, self.red), stacked_on(self, self.blue, self.green)
        grippers_open = self.gripper_open(LEFT) & self.gripper_open(RIGHT)
        return dict(green_on_red=g_on_r, blue_on_green=b_on_g, grippers_open=grippers_open,
                    success=g_on_r & b_on_g & grippers_open)

    def expert(self) -> Iterator[np.ndarray]:
        yield from stack_tower(self, (self.red, self.green, self.blue))
