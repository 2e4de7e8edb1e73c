"""blocks_ranking_rgb: line the red, green and blue blocks up from left to right in that order."""

from __future__ import annotations

import numpy as np
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.tasks.robotwin.blocks import BLUE, GREEN, HALF, RED, RankedRowEnv, build_tower_blocks, sample_ranking_layout


@register_robotwin_task("blocks_ranking_rgb", max_steps=1200)
class BlocksRankingRgbEnv(RankedRowEnv):
    """
    Description:
        Arrange the red, green and blue blocks in a row from left to right: red, green, blue.
    Randomizations:
        The blocks' positions (x in [-0.1, 0.14], |y| <= 0.3, 10 cm apart, 10 cm clear of the row in front of the
        robots at x = -0.1; never already ranked) and their yaws in [-pi, pi).
    Success:
        Seen from the robots, red is left of green and green left of blue, each 5-25 cm apart in y, all three
        within 3 cm of their mean x (a row), and both grippers open.
    """

    INSTRUCTIONS_SEEN = (
        "Arrange the blocks from left to right: red, green, blue.",
        "Line up the red, green and blue blocks in that order, left to right.",
        "Put the blocks in a row in RGB order starting from the left.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Order the cubes left to right as red, then green, then blue.",
        "Make a row of blocks with red on the left, green in the middle and blue on the right.",
        "Sort the three blocks by color, red leftmost and blue rightmost.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.blocks = build_tower_blocks(self, (("red", RED), ("green", GREEN), ("blue", BLUE)))

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        for block, xy in zip(self.blocks, sample_ranking_layout(rng)):
            self.place_on_table(block, xy[0], xy[1], HALF, yaw=rng.uniform(-np.pi, np.pi))
