"""stack_blocks_two: put the red block in the middle of the table and stack the green block on it."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import sapien
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.base import DualArmTableEnv
from ahabench.experts.primitives import CUBE_YAWS, LEFT, RIGHT, DualArmExpert

HALF = 0.025  # block half size (5 cm cubes)
CENTER_XY = (0.0, 0.0)  # where the bottom block goes
RED, GREEN = (0.85, 0.1, 0.1), (0.1, 0.7, 0.2)


def sample_block_xy(rng: np.random.RandomState, placed: list[np.ndarray], keep_out: list[tuple[np.ndarray, float]],
                    x_range=(-0.12, 0.1), y_abs=(0.08, 0.3), min_gap: float = 0.1) -> np.ndarray:
    """Rejection-sample a block position on either side of the table, clear of ``placed`` and the keep-out
    discs; draws from ``rng`` only, so a seed fixes the layout."""
    for _ in range(200):
        side = 1.0 if rng.rand() < 0.5 else -1.0
        xy = np.array([rng.uniform(*x_range), side * rng.uniform(*y_abs)])
        if all(np.linalg.norm(xy - p) > min_gap for p in placed) and all(
                np.linalg.norm(xy - c) > r for c, r in keep_out):
            return xy
    raise RuntimeError("could not place a block clear of the others")


def block_yaw(actor) -> float:
    q = actor.pose.q[0].cpu().numpy()
    return float(2 * np.arctan2(q[3], q[0]))


def arm_for(y: float) -> int:
    """The arm on the object's side of the table (left arm on +y)."""
    return LEFT if y >= 0 else RIGHT


def block_state(actor) -> tuple[np.ndarray, float]:
    """(position, yaw) of a resting block, read before the expert touches anything."""
    return actor.pose.p[0].cpu().numpy().astype(np.float64), block_yaw(actor)


def stack_on(expert: DualArmExpert, p: np.ndarray, yaw: float, target_xyz: np.ndarray) -> Iterator[np.ndarray]:
    """Grasp the block resting at (``p``, ``yaw``) with the arm on its side, put its centre at ``target_xyz``
    (+5 mm, it settles) and send the arm home. Later stages use ``target_xyz`` (the planned placement), never
    the block's measured pose."""
    arm = arm_for(p[1])
    g = expert.choose_top_grasp(arm, p, yaw)
    yield from expert.grasp(arm, g, sapien.Pose(p))
    yield from expert.lift(arm, 0.1)
    yield from expert.place(arm, expert.last_grasp.tcp_for_object_position(target_xyz + [0, 0, 0.005]),
                            alt_yaws=CUBE_YAWS)
    yield from expert.move_home(arm)


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
        self.red = self.build_box("red_block", [HALF] * 3, RED)
        self.green = self.build_box("green_block", [HALF] * 3, GREEN)

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        keep_out = [(np.array(CENTER_XY), 0.12)]
        placed: list[np.ndarray] = []
        for block in (self.red, self.green):
            xy = sample_block_xy(rng, placed, keep_out)
            placed.append(xy)
            self.place_on_table(block, xy[0], xy[1], HALF, yaw=rng.uniform(-np.pi, np.pi))

    def evaluate(self) -> dict:
        d = self.green.pose.p - (self.red.pose.p + torch.tensor([0, 0, 2 * HALF], device=self.device))
        on = (d[:, 0].abs() < 0.025) & (d[:, 1].abs() < 0.025) & (d[:, 2].abs() < 0.012)
        grippers_open = self.gripper_open(LEFT) & self.gripper_open(RIGHT)
        return dict(green_on_red=on, grippers_open=grippers_open, success=on & grippers_open)

    def expert(self) -> Iterator[np.ndarray]:
        ex = DualArmExpert(self)
        center = np.array([*CENTER_XY, self.table_top_z + HALF])
        red, green = block_state(self.red), block_state(self.green)
        yield from stack_on(ex, *red, center)
        yield from stack_on(ex, *green, center + [0, 0, 2 * HALF])
        yield from ex.hold(5)
