"""What the block tasks share: cube constants, layout sampling, block state, stacking, and the ranked-row base.

stack_blocks_two/three stack cubes in the middle of the table; blocks_ranking_rgb/size line them up in a row.
All sampling draws from the episode RNG only, so a seed fixes the layout.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from ahabench.envs.base import DualArmTableEnv
from ahabench.experts.primitives import LEFT, RIGHT, DualArmExpert
from ahabench.tasks.robotwin.poses import yaw_of

HALF = 0.025  # block half size (5 cm cubes)
CENTER_XY = (0.0, 0.0)  # where a tower's bottom block goes
RED, GREEN, BLUE = (0.85, 0.1, 0.1), (0.1, 0.7, 0.2), (0.15, 0.3, 0.9)
#: RoboTwin's per-block tolerance on its place on the block below.
STACK_TOL = (0.025, 0.025, 0.012)
#: The ranking row, left (+y) to right, in front of the robots.
ROW_X = -0.1
ROW_Y = (0.12, 0.0, -0.12)
#: Ranking success: consecutive blocks MIN_GAP..MAX_GAP apart left-to-right (a row, not a scatter), every
#: block within ALIGN_TOL of the row's mean x.
MIN_GAP, MAX_GAP, ALIGN_TOL = 0.05, 0.25, 0.03


def sample_block_xy(rng: np.random.RandomState, placed: list[np.ndarray], keep_out: list[tuple[np.ndarray, float]],
                    x_range=(-0.12, 0.1), y_abs=(0.08, 0.3), min_gap: float = 0.1) -> np.ndarray:
    """Rejection-sample a block position on either side of the table, clear of ``placed`` and the keep-out
    discs."""
    for _ in range(200):
        side = 1.0 if rng.rand() < 0.5 else -1.0
        xy = np.array([rng.uniform(*x_range), side * rng.uniform(*y_abs)])
        if all(np.linalg.norm(xy - p) > min_gap for p in placed) and all(
                np.linalg.norm(xy - c) > r for c, r in keep_out):
            return xy
    raise RuntimeError("could not place a block clear of the others")


def arm_for(y: float) -> int:
    """The arm on the object's side of the table (left arm on +y)."""
    return LEFT if y >= 0 else RIGHT


def block_state(actor) -> tuple[np.ndarray, float]:
    """(position, yaw) of a resting block, read before the expert touches anything."""
    return actor.pose.p[0].cpu().numpy().astype(np.float64), yaw_of(actor.pose.q[0].cpu().numpy(), about_z=True)


# ---------------------------------------------------------------------------------------------- towers
def build_tower_blocks(env: DualArmTableEnv, colors: Sequence[tuple[str, tuple[float, float, float]]]) -> list:
    """One cube per (name, rgb), named ``<name>_block``, bottom of the tower first."""
    return [env.build_box(f"{name}_block", [HALF] * 3, rgb) for name, rgb in colors]


def scatter_for_tower(env: DualArmTableEnv, blocks: Sequence) -> None:
    """Each block at a random spot on either half of the table, clear of the centre and of each other."""
    rng = env._episode_rng
    keep_out = [(np.array(CENTER_XY), 0.12)]
    placed: list[np.ndarray] = []
    for block in blocks:
        xy = sample_block_xy(rng, placed, keep_out)
        placed.append(xy)
        env.place_on_table(block, xy[0], xy[1], HALF, yaw=rng.uniform(-np.pi, np.pi))


def stacked_on(env: DualArmTableEnv, top, bottom) -> torch.Tensor:
    """(B,) whether ``top`` rests one block-height above ``bottom`` within :data:`STACK_TOL`."""
    d = top.pose.p - (bottom.pose.p + torch.tensor([0, 0, 2 * HALF], device=env.device))
    return (d[:, 0].abs() < STACK_TOL[0]) & (d[:, 1].abs() < STACK_TOL[1]) & (d[:, 2].abs() < STACK_TOL[2])


def stack_tower(env: DualArmTableEnv, blocks: Sequence) -> Iterator[np.ndarray]:
    """Expert: every block, bottom first, to its level of a tower in the middle of the table. Each block's target
    is the planned placement (+5 mm, it settles), never a block's measured pose."""
    ex = DualArmExpert(env)
    states = [block_state(b) for b in blocks]
    target = np.array([*CENTER_XY, env.table_top_z + HALF])
    for level, (p, yaw) in enumerate(states):
        yield from ex.transfer(arm_for(p[1]), p, yaw, target + [0, 0, 2 * HALF * level] + [0, 0, 0.005])
    yield from ex.hold(5)


# ------------------------------------------------------------------------------------------------ rows
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
        """Block i to the i-th row slot, each with the arm on its side, fingers closing along x so the hand stays
        narrow across the row."""
        ex = DualArmExpert(self)
        states = [block_state(b) for b in self.blocks]
        for (p, yaw), half, slot_y in zip(states, self.BLOCK_HALVES, ROW_Y):
            target = np.array([ROW_X, slot_y, self.table_top_z + half + 0.005])
            yield from ex.transfer(arm_for(p[1]), p, yaw, target, lift=0.08, preferred=0.0)
        yield from ex.hold(5)
