"""pick_dual_bottles: each arm picks up the bottle on its side and brings it up to the front of the table."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import sapien
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.base import DualArmTableEnv
from ahabench.envs.robot import GRIPPER_CLOSED
from ahabench.experts.primitives import LEFT, RIGHT, DualArmExpert, ExpertFailure, top_down_pose
from ahabench.tasks.robotwin.motions import first_reachable, move_arms
from ahabench.tasks.robotwin.objects import BottleGeom, build_bottle
from ahabench.tasks.robotwin.poses import closing_yaw_of, nearest_equivalent_yaw, tilt_cos

GEOM = BottleGeom()
#: Bottle spawn area per side: x in X_RANGE, |y| in Y_ABS (left bottle at +y, right bottle at -y).
#: The bottles are taller (18.7 cm) than the open fingers hang above the table at the rest pose (tips at about
#: x = 0.115, |y| = 0.26..0.34, 16 cm up), so the spawn area stays inside |y| <= 0.22.
X_RANGE = (-0.14, 0.12)
Y_ABS = (0.1, 0.22)
#: Where each bottle's bottom centre must end up: in front of the robots, either side of the middle, lifted.
TARGET_X = -0.08
TARGET_Y_ABS = 0.14
TARGET_LIFT = 0.12
#: Success tolerances: xy distance to the target, minimum lift of the bottle's bottom, maximum tilt.
XY_TOL = 0.05
MIN_LIFT = 0.08
MAX_TILT_RAD = np.deg2rad(25)
#: Expert: first move of both hands, straight up from the rest pose (m).
RAISE = 0.1
COLORS = {"green": (0.2, 0.65, 0.35), "blue": (0.2, 0.4, 0.85)}


def target_xyz(side: int, table_top_z: float) -> np.ndarray:
    """Target of the bottle bottom for arm ``side`` (LEFT -> +y)."""
    sign = 1.0 if side == LEFT else -1.0
    return np.array([TARGET_X, sign * TARGET_Y_ABS, table_top_z + TARGET_LIFT])


@register_robotwin_task("pick_dual_bottles", max_steps=400)
class PickDualBottlesEnv(DualArmTableEnv):
    """
    Description:
        Pick up both bottles, one with each arm, and hold them up at the front of the table.
    Randomizations:
        The left (green) bottle stands at x in [-0.14, 0.12], y in [0.1, 0.22]; the right (blue) one at the same x
        range and y in [-0.22, -0.1]; both upright, any yaw.
    Success:
        Each bottle's bottom centre is within 5 cm in xy of its target (x = -0.08, y = +-0.14: the left bottle on
        the left of the middle, the right one on the right), at least 8 cm above the table, and the bottle is
        tilted less than 25 degrees from upright.
    """

    INSTRUCTIONS_SEEN = (
        "Pick up both bottles and bring them to the front.",
        "Grab the {left} bottle with the left arm and the {right} bottle with the right arm, then lift them.",
        "Use both arms to lift the two bottles toward you.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Hold up the two bottles, one in each hand, in front of the robot.",
        "Take the {left} bottle and the {right} bottle off the table with both grippers.",
        "Lift each bottle with the arm closest to it and move them to the front.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.bottles = [
            self.add_task_actor(build_bottle(self.scene, "bottle_left", GEOM, COLORS["green"],
                                             park=sapien.Pose([1.5, 0.5, 0.1]))),
            self.add_task_actor(build_bottle(self.scene, "bottle_right", GEOM, COLORS["blue"],
                                             park=sapien.Pose([1.5, -0.5, 0.1]))),
        ]

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        for side, bottle in zip((LEFT, RIGHT), self.bottles):
            sign = 1.0 if side == LEFT else -1.0
            x, y = rng.uniform(*X_RANGE), sign * rng.uniform(*Y_ABS)
            self.place_on_table(bottle, x, y, 0.0, yaw=rng.uniform(-np.pi, np.pi))

    def instruction_fields(self) -> dict[str, str]:
        return {"left": "green", "right": "blue"}

    def evaluate(self) -> dict:
        out = {}
        success = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
        for side, name in ((LEFT, "left"), (RIGHT, "right")):
            pose = self.bottles[side].pose
            tgt = torch.as_tensor(target_xyz(side, self.table_top_z), dtype=pose.p.dtype, device=self.device)
            at_target = torch.linalg.norm(pose.p[:, :2] - tgt[:2], dim=1) < XY_TOL
            lifted = pose.p[:, 2] > self.table_top_z + MIN_LIFT
            upright = tilt_cos(pose.q) > float(np.cos(MAX_TILT_RAD))
            out[f"{name}_at_target"], out[f"{name}_lifted"], out[f"{name}_upright"] = at_target, lifted, upright
            success = success & at_target & lifted & upright
        out["success"] = success
        return out

    def expert(self) -> Iterator[np.ndarray]:
        ex = DualArmExpert(self)
        grasps, pres, starts = [], [], []
        # At rest the open fingertips hang level with the caps: raise both hands before moving sideways.
        yield from move_arms(ex, [sapien.Pose([0, 0, RAISE]) * ex.tcp(arm) for arm in (LEFT, RIGHT)])
        for side, bottle in zip((LEFT, RIGHT), self.bottles):
            p = bottle.pose.p[0].cpu().numpy().astype(np.float64)
            starts.append(p)
            grasp_c = p + [0.0, 0.0, GEOM.grasp_z]
            rest_yaw = closing_yaw_of(ex.tcp(side))
            # Round neck: any yaw, the wrist's own first.
            goals = [top_down_pose(grasp_c, nearest_equivalent_yaw(rest_yaw + dyaw, rest_yaw))
                     for dyaw in (0.0, np.pi / 4, -np.pi / 4, np.pi / 2)]
            found = first_reachable(ex, side, goals, sapien.Pose([0, 0, 0.08]))
            if found is None:
                raise ExpertFailure(f"arm {side}: no top-down grasp of the bottle neck at {np.round(grasp_c, 3)}")
            grasps.append(found[0])
            pres.append(sapien.Pose([0, 0, 0.08]) * found[0])
        # Both bottles are obstacles while the arms travel to their pre-grasps (the planners know only the
        # table); they are removed for the straight descent onto the necks.
        for bottle in self.bottles:
            p = bottle.pose.p[0].cpu().numpy().astype(np.float64)
            for planner in ex.planners:
                body_h = GEOM.body_h + GEOM.shoulder_h
                planner.add_box(bottle.name, (GEOM.body_r + 0.008, GEOM.body_r + 0.008, 0.5 * body_h + 0.005),
                                sapien.Pose(p + [0.0, 0.0, 0.5 * body_h]))
                neck_h = GEOM.height - body_h
                planner.add_box(bottle.name + "_neck", (GEOM.cap_r + 0.006, GEOM.cap_r + 0.006, 0.5 * neck_h + 0.005),
                                sapien.Pose(p + [0.0, 0.0, body_h + 0.5 * neck_h]))
        yield from move_arms(ex, pres)
        for bottle in self.bottles:
            for planner in ex.planners:
                planner.remove(bottle.name)
                planner.remove(bottle.name + "_neck")
        yield from move_arms(ex, grasps)
        ex.g = [GRIPPER_CLOSED, GRIPPER_CLOSED]
        yield from ex.hold(ex.gripper_steps)
        lifts = [sapien.Pose([0, 0, 0.12]) * g for g in grasps]
        yield from move_arms(ex, lifts)
        # Carry targets from the planned grasps (bottle frame rigid in the hand), not from measured poses.
        goals = []
        for side in (LEFT, RIGHT):
            delta = target_xyz(side, self.table_top_z) + [0, 0, 0.01] - starts[side]
            goals.append(sapien.Pose(np.asarray(grasps[side].p) + delta, grasps[side].q))
        yield from move_arms(ex, goals)
        yield from ex.hold(10)
