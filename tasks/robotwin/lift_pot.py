"""lift_pot: grasp the pot by its two handles, one arm each, and lift it off the table, level."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import sapien
import torch
from mani_skill.utils.geometry.rotation_conversions import quaternion_apply

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.base import DualArmTableEnv
from ahabench.envs.robot import GRIPPER_CLOSED
from ahabench.experts.primitives import LEFT, RIGHT, DualArmExpert, top_down_pose
from ahabench.tasks.robotwin.motions import move_arms
from ahabench.tasks.robotwin.objects import PotGeom, build_pot
from ahabench.tasks.robotwin.poses import closing_yaw_of, nearest_equivalent_yaw, tilt_cos, yaw_of

GEOM = PotGeom()
#: Pot spawn area (its centre) and yaw range: handles roughly along y, one towards each arm.
X_RANGE = (-0.12, 0.06)
Y_RANGE = (-0.06, 0.06)
YAW_RANGE = (-0.35, 0.35)
#: Success thresholds: lift of the pot's bottom, tilt, gripper-to-handle distance.
MIN_LIFT = 0.08
MAX_TILT_RAD = np.deg2rad(15)
HANDLE_TOL = 0.05
#: How high the expert lifts (m) and how long it then holds still (control steps).
EXPERT_LIFT = 0.15
EXPERT_HOLD = 10


def handle_positions(pot_pose_p: torch.Tensor, pot_pose_q: torch.Tensor) -> torch.Tensor:
    """(B, 2, 3) world positions of the two handle centres, the one with the larger y (the left arm's) first."""
    local = torch.as_tensor(np.stack([GEOM.handle_local(1), GEOM.handle_local(-1)]), dtype=pot_pose_p.dtype,
                            device=pot_pose_p.device)
    b = pot_pose_p.shape[0]
    world = quaternion_apply(pot_pose_q[:, None, :].expand(b, 2, 4), local[None].expand(b, 2, 3))
    world = world + pot_pose_p[:, None, :]
    swap = world[:, 0, 1] < world[:, 1, 1]
    return torch.where(swap[:, None, None], world.flip(1), world)


@register_robotwin_task("lift_pot", max_steps=400)
class LiftPotEnv(DualArmTableEnv):
    """
    Description:
        Lift the pot with both arms, each gripping one of its two handles.
    Randomizations:
        The pot's centre (x in [-0.12, 0.06], y in [-0.06, 0.06]) and its yaw in [-0.35, 0.35] rad (handles
        roughly along y, one towards each arm).
    Success:
        The pot's bottom is at least 8 cm above the table, the pot is tilted less than 15 degrees, and each
        gripper is within 5 cm of a handle centre (the left gripper at the left handle, the right at the right).
    """

    INSTRUCTIONS_SEEN = (
        "Lift the pot with both arms.",
        "Grab the pot by both handles and raise it.",
        "Use the two grippers on the pot's handles to pick it up.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Hold the pot by its two handles and lift it off the table.",
        "Pick the cooking pot up using both hands, keeping it level.",
        "Raise the pot from the table, one arm on each handle.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.pot = self.add_task_actor(build_pot(self.scene, "pot", GEOM))

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        x, y, yaw = rng.uniform(*X_RANGE), rng.uniform(*Y_RANGE), rng.uniform(*YAW_RANGE)
        self.place_on_table(self.pot, x, y, 0.0, yaw=yaw)

    def evaluate(self) -> dict:
        pose = self.pot.pose
        lifted = pose.p[:, 2] > self.table_top_z + MIN_LIFT
        upright = tilt_cos(pose.q) > float(np.cos(MAX_TILT_RAD))
        handles = handle_positions(pose.p, pose.q)
        at = [torch.linalg.norm(self.arms[a].tcp.pose.p - handles[:, a], dim=1) < HANDLE_TOL for a in (LEFT, RIGHT)]
        return dict(lifted=lifted, upright=upright, left_at_handle=at[0], right_at_handle=at[1],
                    success=lifted & upright & at[0] & at[1])

    def expert(self) -> Iterator[np.ndarray]:
        ex = DualArmExpert(self)
        p = self.pot.pose.p[0].cpu().numpy().astype(np.float64)
        q = self.pot.pose.q[0].cpu().numpy().astype(np.float64)
        yaw = yaw_of(q)
        pot = sapien.Pose(p, q)
        grasps, pres = [], []
        for arm, side in ((LEFT, 1), (RIGHT, -1)):
            handle = np.asarray((pot * sapien.Pose(GEOM.handle_local(side))).p)
            # Fingers close across the tab, i.e. along the pot's local x; keep the wrist near its own angle.
            g = top_down_pose(handle, nearest_equivalent_yaw(yaw, closing_yaw_of(ex.tcp(arm))))
            grasps.append(g)
            pres.append(sapien.Pose([0, 0, 0.08]) * g)
        # The pot is an obstacle on the way to the pre-grasps (the planners only know the table).
        for planner in ex.planners:
            planner.add_box("pot", (GEOM.radius + 0.01, GEOM.radius + 0.01, 0.5 * GEOM.height + 0.01),
                            sapien.Pose(p + [0, 0, 0.5 * GEOM.height], q))
        yield from move_arms(ex, pres)
        for planner in ex.planners:
            planner.remove("pot")
        yield from move_arms(ex, grasps)
        ex.g = [GRIPPER_CLOSED, GRIPPER_CLOSED]
        yield from ex.hold(ex.gripper_steps)
        # Both hands hold one rigid pot: their straight lifts are stretched to the same length so they start
        # and stop together (an arm that arrives first would tip the pot).
        yield from move_arms(ex, [sapien.Pose([0, 0, EXPERT_LIFT]) * g for g in grasps], sync=True)
        yield from ex.hold(EXPERT_HOLD)
