"""blocks_ranking_rgb: line the red, green and blue blocks up from left to right in that order."""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np
import sapien
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.base import DualArmTableEnv
from ahabench.experts.primitives import CUBE_YAWS, LEFT, RIGHT, DualArmExpert
from tasks.robotwin.stack_blocks_two import GREEN, HALF, RED, arm_for, block_state, sample_block_xy

BLUE = (0.15, 0.3, 0.9)
#: The row the blocks go to, left (+y) to right, in front of the robots.
ROW_X = -0.1
ROW_Y = (0.12, 0.0, -0.12)
#: Success: consecutive blocks at least MIN_GAP apart left-to-right (and at most MAX_GAP: a row, not a scatter),
#: every block within ALIGN_TOL of the row's mean x.
MIN_GAP, MAX_GAP, ALIGN_TOL = 0.05, 0.25, 0.03


def in_ranked_row(positions: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(ordered, aligned) for blocks listed in their wanted left-to-right order; positions (B, 3) each."""
    ordered = torch.ones_like(positions[0][:, 0], dtype=torch.bool)
    for a, b in zip(positions, positions[1:]):
        gap = a[:, 1] - b[:, 1]  # left is +y
        ordered &= (gap > MIN_GAP) & (gap < MAX_GAP)
    xs = torch.stack([p[:, 0] for p in positions], dim=1)
    aligned = (xs - xs.mean(dim=1, keepdim=True)).abs().max(dim=1).values < ALIGN_TOL
    return ordered, aligned


def sample_ranking_layout(rng: np.random.RandomState, n: int = 3) -> list[np.ndarray]:
    """Block positions clear of the target row (10 cm from every target) and of each other, never already a
    ranked row in any order (so doing nothing cannot succeed)."""
    keep_out = [(np.array([ROW_X, y]), 0.1) for y in ROW_Y]
    for _ in range(100):
        placed: list[np.ndarray] = []
        for _ in range(n):
            placed.append(sample_block_xy(rng, placed, keep_out, x_range=(-0.1, 0.14), y_abs=(0.0, 0.3)))
        ys = sorted(p[1] for p in placed)
        xs = [p[0] for p in placed]
        gaps_ok = all(MIN_GAP < b - a < MAX_GAP for a, b in zip(ys, ys[1:]))
        if not (gaps_ok and max(xs) - min(xs) < 2 * ALIGN_TOL):
            return placed
    raise RuntimeError("could not sample a block layout that is not already ranked")


def rank_blocks(expert: DualArmExpert, states: Sequence[tuple[np.ndarray, float]], half_sizes: Sequence[float],
                table_z: float) -> Iterator[np.ndarray]:
    """Move block i (resting at states[i]) to the i-th row slot, each with the arm on its side, fingers closing
    along x so the hand stays narrow across the row."""
    for (p, yaw), half, slot_y in zip(states, half_sizes, ROW_Y):
        arm = arm_for(p[1])
        g = expert.choose_top_grasp(arm, p, yaw, preferred=0.0)
        yield from expert.grasp(arm, g, sapien.Pose(p))
        yield from expert.lift(arm, 0.08)
        target = np.array([ROW_X, slot_y, table_z + half + 0.005])
        yield from expert.place(arm, expert.last_grasp.tcp_for_object_position(target), alt_yaws=CUBE_YAWS)
        yield from expert.move_home(arm)


class RankedRowEnv(DualArmTableEnv):
    """Shared success test and expert of the ranking tasks: ``self.blocks`` in rank order (left to right), each a
    cube of half size ``BLOCK_HALVES[i]``. Not registered itself."""

    BLOCK_HALVES: tuple[float, ...] = (HALF, HALF, HALF)
    blocks: list

    def evaluate(self) -> dict:
        ordered, aligned = in_ranked_row([b.pose.p for b in self.blocks])
        grippers_open = self.gripper_open(LEFT) & self.gripper_open(RIGHT)
        return dict(ordered=ordered, aligned=aligned, grippers_open=grippers_open,
                    success=ordered & aligned & grippers_open)

    def expert(self) -> Iterator[np.ndarray]:
        ex = DualArmExpert(self)
        states = [block_state(b) for b in self.blocks]
        yield from rank_blocks(ex, states, self.BLOCK_HALVES, self.table_top_z)
        yield from ex.hold(5)


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
        self.blocks = [self.build_box(f"{name}_block", [HALF] * 3, rgb)
                       for name, rgb in (("red", RED), ("green", GREEN), ("blue", BLUE))]

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        for block, xy in zip(self.blocks, sample_ranking_layout(rng)):
            self.place_on_table(block, xy[0], xy[1], HALF, yaw=rng.uniform(-np.pi, np.pi))
