"""move_can_pot: pick up a can and set it down beside a pot (RoboTwin, 400 actions)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import sapien
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.base import DualArmTableEnv
from ahabench.experts.primitives import LEFT, RIGHT, DualArmExpert, top_down_pose
from ahabench.tasks.robotwin.objects import CanGeom, PotGeom, build_can, build_pot
from ahabench.tasks.robotwin.poses import is_upright, place_actor, sp_pose
from ahabench.tasks.robotwin.shapes import ABOVE_TABLE

#: Gap the expert leaves between the can and the pot's wall (m).
TARGET_GAP = 0.025
#: Success band for the wall-to-can gap (m): from touching (minus contact slack) to a hand's width away.
GAP_RANGE = (-0.01, 0.06)
#: "Beside" means to the pot's left or right as the robots see it: the offset along x stays small.
MAX_DX = 0.06
#: Grasp height below the can's top (m): fingers on the upper body, clear of the table.
GRASP_DEPTH = 0.03


@register_robotwin_task("move_can_pot", max_steps=400)
class MoveCanPotEnv(DualArmTableEnv):
    """Pick up the can and put it down upright right beside the pot.

    Description:
        A cooking pot with two handles stands near the middle of the table and a drink can stands out to one
        side. The arm on the can's side picks the can up and sets it down next to the pot, on the can's side.
    Randomizations:
        - the side of the can (left / right arm) is drawn per episode;
        - the pot's position x in [-0.06, 0.06], y in [-0.06, 0.06], its handles pointing front/back with
          +-0.3 rad of yaw;
        - the can's position x in [-0.15, 0.10], |y| in [0.25, 0.36] on its side; its yaw is uniform.
    Success:
        - ``can_beside_pot``: the can stands on its side of the pot, the wall-to-can gap within [-1, 6] cm and
          |dx| <= 6 cm;
        - ``can_upright`` (tilt < 15 deg) and ``can_on_table`` (its bottom within 1.5 cm of the table top);
        - ``gripper_open``: the can has been let go.
    """

    INSTRUCTIONS_SEEN = (
        "Move the {color} can next to the pot.",
        "Use the {arm} arm to put the can beside the pot.",
        "Pick up the can and place it by the side of the pot.",
        "Grab the {color} can and set it down right next to the cooking pot.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Take the can and leave it standing beside the pot.",
        "With the {arm} hand, carry the {color} can over to the pot and put it down next to it.",
        "Relocate the drink can so that it sits next to the pot.",
    )

    can_geom = CanGeom()
    # A heavier pot than lift_pot's: 20 staves, a dense bottom, short flat tabs near the rim.
    pot_geom = PotGeom(radius=0.085 + 0.006, wall=0.006, height=0.09, bottom=0.01, staves=20, handle_len=0.035,
                       handle_width=0.04, handle_thick=0.012, handle_z=0.09 - 0.015, handle_inset=0.002,
                       handle_grow=0.0, density=2000.0, bottom_density=4000.0)

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.pot = self.add_task_actor(build_pot(self.scene, "pot", self.pot_geom, (0.25, 0.25, 0.28), (0.1, 0.1, 0.1),
                                                grip=False, park=ABOVE_TABLE))
        self.can = self.add_task_actor(build_can(self.scene, "can", self.can_geom))

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        self.side = 1.0 if rng.uniform() < 0.5 else -1.0  # +1: left arm (+y)
        px, py = rng.uniform(-0.06, 0.06), rng.uniform(-0.06, 0.06)
        pyaw = np.pi / 2 + rng.uniform(-0.3, 0.3)  # the builder's handles lie along local y
        cx, cy = rng.uniform(-0.15, 0.10), self.side * rng.uniform(0.25, 0.36)
        place_actor(self.pot, px, py, self.table_top_z, pyaw)
        place_actor(self.can, cx, cy, self.table_top_z, rng.uniform(-np.pi, np.pi))

    def instruction_fields(self) -> dict[str, str]:
        return {"arm": "left" if self.side > 0 else "right", "color": "red"}

    # ------------------------------------------------------------------ success
    def evaluate(self) -> dict:
        can, pot = self.can.pose.p, self.pot.pose.p
        d = can[:, :2] - pot[:, :2]
        gap = torch.linalg.norm(d, dim=1) - self.pot_geom.radius - self.can_geom.radius
        beside = (gap >= GAP_RANGE[0]) & (gap <= GAP_RANGE[1]) & (d[:, 0].abs() <= MAX_DX) & (d[:, 1] * self.side > 0)
        upright = is_upright(self.can.pose.q)
        on_table = (can[:, 2] - self.table_top_z).abs() < 0.015
        arm = LEFT if self.side > 0 else RIGHT
        released = self.gripper_open(arm)
        return {"can_beside_pot": beside, "can_upright": upright, "can_on_table": on_table,
                "gripper_open": released, "success": beside & upright & on_table & released}

    # ------------------------------------------------------------------ expert
    def expert(self) -> Iterator[np.ndarray]:
        ex = DualArmExpert(self)
        arm = LEFT if self.side > 0 else RIGHT
        can, pot = sp_pose(self.can.pose), sp_pose(self.pot.pose)
        # The pot as obstacles: its wall as a box around it, each handle as a small box in the pot's frame; the
        # arm then neither sweeps through the pot nor brushes a handle when it sets the can down.
        g = self.pot_geom
        zc = pot.p[2] + g.height / 2
        ex.planners[arm].add_box("pot", (g.radius, g.radius, g.height / 2),
                                 sapien.Pose([pot.p[0], pot.p[1], zc]))
        for s in (-1, 1):
            off = pot * sapien.Pose([0, s * (g.radius + g.handle_len / 2), g.height / 2])
            ex.planners[arm].add_box(f"pot_handle_{s}", (0.5 * g.handle_width, g.handle_len / 2, 0.015), off)
        center = can.p + [0.0, 0.0, self.can_geom.total_height - GRASP_DEPTH]
        # Fingers closing along x keep them off the pot's wall when the can is set down beside it (in y).
        yaws = [0.0, np.pi, np.pi / 6, -5 * np.pi / 6, -np.pi / 6, 5 * np.pi / 6]
        yield from ex.pick_up(arm, [top_down_pose(center, y) for y in yaws], can, 0.08)
        reach = self.pot_geom.radius + TARGET_GAP + self.can_geom.radius
        target = np.array([pot.p[0], pot.p[1] + self.side * reach, can.p[2] + 0.004])
        yield from ex.put_down(arm, target)
