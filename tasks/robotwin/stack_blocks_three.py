"""stack_blocks_three: stack red, green and blue blocks into one tower in the middle of the table."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.base import DualArmTableEnv
from ahabench.experts.primitives import LEFT, RIGHT, DualArmExpert
from tasks.robotwin.stack_blocks_two import CENTER_XY, GREEN, HALF, RED, block_state, sample_block_xy, stack_on

BLUE = (0.15, 0.3, 0.9)
TOL = (0.025, 0.025, 0.012)  # RoboTwin's per-block tolerance on its place on the block below


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
        self.red = self.build_box("red_block", [HALF] * 3, RED)
        self.green = self.build_box("green_block", [HALF] * 3, GREEN)
        self.blue = self.build_box("blue_block", [HALF] * 3, BLUE)

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        keep_out = [(np.array(CENTER_XY), 0.12)]
        placed: list[np.ndarray] = []
        for block in (self.red, self.green, self.blue):
            xy = sample_block_xy(rng, placed, keep_out)
            placed.append(xy)
            self.place_on_table(block, xy[0], xy[1], HALF, yaw=rng.uniform(-np.pi, np.pi))

    def _on(self, top, bottom) -> torch.Tensor:
        d = top.pose.p - (bottom.pose.p + torch.tensor([0, 0, 2 * HALF], device=self.device))
        return (d[:, 0].abs() < TOL[0]) & (d[:, 1].abs() < TOL[1]) & (d[:, 2].abs() < TOL[2])

    def evaluate(self) -> dict:
        g_on_r, b_on_g = self._on(self.green, self.red), self._on(self.blue, self.green)
        grippers_open = self.gripper_open(LEFT) & self.gripper_open(RIGHT)
        return dict(green_on_red=g_on_r, blue_on_green=b_on_g, grippers_open=grippers_open,
                    success=g_on_r & b_on_g & grippers_open)

    def expert(self) -> Iterator[np.ndarray]:
        ex = DualArmExpert(self)
        states = [block_state(b) for b in (self.red, self.green, self.blue)]
        target = np.array([*CENTER_XY, self.table_top_z + HALF])
        for level, (p, yaw) in enumerate(states):
            yield from stack_on(ex, p, yaw, target + [0, 0, 2 * HALF * level])
        yield from ex.hold(5)
