"""blocks_ranking_size: line three blocks of different sizes up from largest (left) to smallest (right)."""

from __future__ import annotations

import numpy as np
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.scene import set_color
from ahabench.tasks.robotwin.blocks import RankedRowEnv, sample_ranking_layout

#: Block half sizes, largest first (6, 5 and 4 cm cubes; the Panda opens to 8 cm).
HALVES = (0.03, 0.025, 0.02)
#: Colours the blocks are drawn from (each episode draws three distinct ones), with their names.
PALETTE = {"red": (0.85, 0.1, 0.1), "green": (0.1, 0.7, 0.2), "blue": (0.15, 0.3, 0.9),
           "yellow": (0.9, 0.8, 0.1), "purple": (0.55, 0.2, 0.75), "orange": (0.95, 0.5, 0.1)}


@register_robotwin_task("blocks_ranking_size", max_steps=1200)
class BlocksRankingSizeEnv(RankedRowEnv):
    """
    Description:
        Arrange the three blocks in a row from left to right by size: largest, middle, smallest.
    Randomizations:
        The blocks' positions (as in blocks_ranking_rgb), their yaws, and their colours (three distinct colours of
        six, the same colour never telling the size).
    Success:
        Seen from the robots, the large block is left of the middle one and the middle one left of the small one,
        each 5-25 cm apart in y, all three within 3 cm of their mean x, and both grippers open.
    """

    BLOCK_HALVES = HALVES

    INSTRUCTIONS_SEEN = (
        "Arrange the blocks from largest to smallest, left to right.",
        "Line the blocks up by size with the biggest on the left.",
        "Put the three blocks in a row ordered from large to small.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Sort the cubes by size: the largest on the left and the smallest on the right.",
        "Make a row of blocks that gets smaller from left to right.",
        "Order the blocks left to right from the biggest one to the tiniest one.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.blocks = [self.build_box(f"block_{i}", [h] * 3, (0.5, 0.5, 0.5)) for i, h in enumerate(HALVES)]

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        for block, xy, half in zip(self.blocks, sample_ranking_layout(rng), HALVES):
            self.place_on_table(block, xy[0], xy[1], half, yaw=rng.uniform(-np.pi, np.pi))
        # Draw the colours whether or not a renderer exists, so the RNG stream (and any later draw) is the same.
        names = list(PALETTE)
        colours = [PALETTE[names[k]] for k in rng.choice(len(names), size=3, replace=False)]
        if self.scene.can_render():
            for block, rgb in zip(self.blocks, colours):
                set_color(block, rgb)
