"""handover_block: the left arm picks up a tall block and hands it to the right arm, which puts it on a pad."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import sapien
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.base import DualArmTableEnv
from ahabench.experts.primitives import LEFT, RIGHT, DualArmExpert, ExpertFailure, Grasp, top_down_pose
from ahabench.tasks.robotwin.motions import first_reachable, go_home, move_arm
from ahabench.tasks.robotwin.objects import BlockGeom, build_block, build_pad
from ahabench.tasks.robotwin.poses import closing_yaw_of, nearest_equivalent_yaw, side_pose, wrap_angle, yaw_of

GEOM = BlockGeom()
HEIGHT = 2 * GEOM.half_size[2]
PAD_HALF = 0.05
#: Block spawn area (left arm's side) and pad area (right arm's side). |y| <= 0.22 keeps the 15 cm block clear
#: of the fingers hanging 16 cm above the table at the rest pose (x = 0.115, |y| = 0.26..0.34).
BLOCK_X, BLOCK_Y = (-0.12, 0.08), (0.1, 0.22)
PAD_X, PAD_Y = (-0.12, 0.08), (-0.24, -0.1)
#: Success tolerances: block centre to pad centre in x and y; block bottom above the table.
XY_TOL = 0.03
REST_TOL = 0.02
#: Expert: where the block's bottom is held for the handover, and where each hand holds it.
HANDOVER_XY = (0.02, 0.0)
HANDOVER_LIFT = 0.12          # block bottom above the table during the handover
LEFT_GRIP_BELOW_TOP = 0.03    # left (giver) TCP below the block's top
RIGHT_GRIP_ABOVE_BOTTOM = 0.055  # right (receiver) TCP above the block's bottom
SIDE_APPROACH = 0.09          # receiver's straight horizontal approach length


@register_robotwin_task("handover_block", max_steps=800)
class HandoverBlockEnv(DualArmTableEnv):
    """
    Description:
        Pick up the red block with the left arm, hand it over to the right arm, and place it on the blue pad.
    Randomizations:
        The block (4 x 4 x 15 cm, standing) at x in [-0.12, 0.08], y in [0.1, 0.22] (the left arm's side), any
        yaw; the blue pad (10 x 10 cm) at x in [-0.12, 0.08], y in [-0.24, -0.1] (the right arm's side).
    Success:
        The block's centre is within 3 cm of the pad's centre in x and y, its bottom is within 2 cm of the table
        top (it rests on the pad, not held above it), and both grippers are open.
    """

    INSTRUCTIONS_SEEN = (
        "Hand the red block from the left arm to the right arm and put it on the blue pad.",
        "Pick up the block with the left gripper, pass it to the right gripper, then place it on the blue square.",
        "Use both arms to move the red block onto the blue pad by handing it over.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Pass the tall red block between the arms and set it down on the blue target.",
        "Give the block from your left hand to your right hand, then put it on the blue mat.",
        "Left arm grabs the red block, right arm takes it and places it onto the blue area.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.block = self.add_task_actor(build_block(self.scene, "block", GEOM))
        self.pad = self.add_task_actor(build_pad(self.scene, "pad", PAD_HALF, park=sapien.Pose([1.5, 0.0, 0.0])))

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        bx, by, byaw = rng.uniform(*BLOCK_X), rng.uniform(*BLOCK_Y), rng.uniform(-np.pi, np.pi)
        px, py = rng.uniform(*PAD_X), rng.uniform(*PAD_Y)
        self.place_on_table(self.block, bx, by, 0.0, yaw=byaw)
        self.pad.set_pose(sapien.Pose([px, py, self.table_top_z]))

    def evaluate(self) -> dict:
        d = self.block.pose.p - self.pad.pose.p
        on_pad = (d[:, 0].abs() < XY_TOL) & (d[:, 1].abs() < XY_TOL)
        resting = self.block.pose.p[:, 2] < self.table_top_z + REST_TOL
        released = self.gripper_open(LEFT) & self.gripper_open(RIGHT)
        return dict(on_pad=on_pad, resting=resting, grippers_open=released, success=on_pad & resting & released)

    # ------------------------------------------------------------------ expert
    def expert(self) -> Iterator[np.ndarray]:
        ex = DualArmExpert(self)
        top = self.table_top_z
        p0 = self.block.pose.p[0].cpu().numpy().astype(np.float64)
        q0 = self.block.pose.q[0].cpu().numpy().astype(np.float64)
        block0 = sapien.Pose(p0, q0)
        pad = self.pad.pose.p[0].cpu().numpy().astype(np.float64)

        # 1. Left arm: top-down grasp near the block's top, across a pair of faces.
        g_left = self._left_grasp(ex, p0 + [0, 0, HEIGHT - LEFT_GRIP_BELOW_TOP], yaw_of(q0))
        yield from ex.open_gripper(LEFT, steps=0)
        yield from move_arm(ex, LEFT, sapien.Pose([0, 0, 0.08]) * g_left)
        yield from move_arm(ex, LEFT, g_left)
        yield from ex.close_gripper(LEFT)
        left_grasp = Grasp(LEFT, g_left, block0)
        yield from move_arm(ex, LEFT, sapien.Pose([0, 0, 0.08]) * g_left)

        # 2. Left arm to the handover point, turning the block so its faces line up with the world axes (the
        # receiver closes along x). Where the block then is follows from the planned grasp, not from sensing.
        hand_yaw = round(closing_yaw_of(ex.tcp(LEFT)) / (np.pi / 2)) * (np.pi / 2)
        handover_tcp = top_down_pose([*HANDOVER_XY, top + HANDOVER_LIFT + HEIGHT - LEFT_GRIP_BELOW_TOP], hand_yaw)
        yield from move_arm(ex, LEFT, handover_tcp)
        block_h = handover_tcp * left_grasp.object_to_tcp

        # 3. Right arm: horizontal side grasp on the lower part, fingers pointing +y (towards the left arm, the
        # Panda's comfortable sideways reach), closing along x; the left arm is an obstacle to its planner.
        grip = np.asarray((block_h * sapien.Pose([0, 0, RIGHT_GRIP_ABOVE_BOTTOM])).p)
        ex.avoid_other_arm(RIGHT)
        g_right, path = self._right_grasp(ex, grip)
        yield from ex.follow(RIGHT, path)
        yield from ex.hold(ex.settle_steps)
        yield from move_arm(ex, RIGHT, g_right)
        yield from ex.close_gripper(RIGHT)
        right_grasp = Grasp(RIGHT, g_right, block_h)

        # 4. Left lets go, backs off upward, goes home (the right arm, holding the block, is its obstacle).
        yield from ex.open_gripper(LEFT)
        yield from move_arm(ex, LEFT, sapien.Pose([0, 0, 0.08]) * handover_tcp)
        ex.avoid_other_arm(RIGHT, False)
        ex.avoid_other_arm(LEFT)
        yield from go_home(ex, LEFT)
        ex.avoid_other_arm(LEFT, False)

        # 5. Right arm puts the block down on the pad (3 mm above the table: it settles), opens, backs off.
        place_tcp = right_grasp.tcp_for_object_position([pad[0], pad[1], top + 0.003])
        yield from move_arm(ex, RIGHT, sapien.Pose([0, 0, 0.05]) * place_tcp)
        yield from move_arm(ex, RIGHT, place_tcp)
        yield from ex.open_gripper(RIGHT)
        yield from move_arm(ex, RIGHT, sapien.Pose([0, 0, 0.08]) * place_tcp)
        yield from ex.hold(5)

    @staticmethod
    def _left_grasp(ex: DualArmExpert, center: np.ndarray, block_yaw: float) -> sapien.Pose:
        """Top-down grasp across the block's faces, the wrist turned as little as possible from its own angle."""
        own = closing_yaw_of(ex.tcp(LEFT))
        yaws = sorted({round(nearest_equivalent_yaw(block_yaw + k * np.pi / 2, own), 6) for k in range(4)},
                      key=lambda y: abs(wrap_angle(y - own)))
        found = first_reachable(ex, LEFT, [top_down_pose(center, yaw) for yaw in yaws], sapien.Pose([0, 0, 0.08]))
        if found is not None:
            return found[0]
        raise ExpertFailure(f"left arm: no top-down grasp of the block at {np.round(center, 3)}")

    @staticmethod
    def _right_grasp(ex: DualArmExpert, grip: np.ndarray) -> tuple[sapien.Pose, np.ndarray]:
        """Horizontal grasp pose at ``grip`` (fingers pointing +y, closing along x) and the path to its
        pre-grasp, trying both finger orientations (a half turn apart)."""
        goals = [side_pose(grip, (0.0, 1.0, 0.0), closing) for closing in ((-1.0, 0.0, 0.0), (1.0, 0.0, 0.0))]
        found = first_reachable(ex, RIGHT, goals, sapien.Pose([0, -SIDE_APPROACH, 0]))
        if found is not None:
            return found
        raise ExpertFailure(f"right arm: no side grasp of the handed-over block at {np.round(grip, 3)}")

