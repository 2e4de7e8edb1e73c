"""place_empty_cup: pick up an empty mug and set it down on a coaster (RoboTwin, 500 actions)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.base import DualArmTableEnv
from ahabench.experts.primitives import LEFT, RIGHT, DualArmExpert, top_down_pose
from ahabench.tasks.robotwin.objects import CupGeom, DiscGeom, build_cup, build_disc
from ahabench.tasks.robotwin.poses import is_upright, place_actor, rests_on, sp_pose, yaw_of

#: Success tolerance between the cup's and the coaster's centres in xy (m).
XY_TOL = 0.025
#: The cup counts as "on" the coaster when its bottom is within this height above the coaster's top (m).
Z_TOL = 0.012
#: Grasp height below the cup's rim (m): fingers around the upper wall, above the handle's top strut.
GRASP_DEPTH = 0.022


@register_robotwin_task("place_empty_cup", max_steps=500)
class PlaceEmptyCupEnv(DualArmTableEnv):
    """Pick up the empty cup and place it on the coaster.

    Description:
        An empty mug (with a handle) and a cork coaster lie on the same side of the table; the arm on that side
        grasps the mug around its body from above and sets it down upright on the coaster.
    Randomizations:
        - the side (left / right arm) is drawn per episode;
        - the cup's position x in [-0.15, 0.10], |y| in [0.10, 0.35], its handle's yaw uniform;
        - the coaster's position x in [-0.15, 0.10], |y| in [0.10, 0.35] on the same side, at least 12 cm from
          the cup.
    Success:
        - ``cup_on_coaster``: the cup's centre within 2.5 cm of the coaster's in xy and its bottom resting on
          the coaster (within 1.2 cm above its top);
        - ``cup_upright``: tilt < 15 deg;
        - ``gripper_open``: the cup has been let go.
    """

    INSTRUCTIONS_SEEN = (
        "Place the empty cup on the coaster.",
        "Use the {arm} arm to put the {color} cup onto the coaster.",
        "Pick up the mug and set it down on the coaster.",
        "Move the empty {color} mug onto the round coaster.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Grab the cup and leave it standing on the coaster.",
        "With the {arm} gripper, transfer the empty mug to the coaster.",
        "Put the {color} cup down on top of the cork coaster.",
    )

    cup_geom = CupGeom()
    coaster_geom = DiscGeom(radius=0.05, thickness=0.006)

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.cup = self.add_task_actor(build_cup(self.scene, "cup", self.cup_geom))
        self.coaster = self.add_task_actor(build_disc(self.scene, "coaster", self.coaster_geom, (0.45, 0.3, 0.2), 600))

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        self.side = 1.0 if rng.uniform() < 0.5 else -1.0  # +1: left arm (+y)
        cup = np.array([rng.uniform(-0.15, 0.10), self.side * rng.uniform(0.10, 0.35)])
        for _ in range(100):  # rejection-sample the coaster clear of the cup
            coaster = np.array([rng.uniform(-0.15, 0.10), self.side * rng.uniform(0.10, 0.35)])
            if np.linalg.norm(coaster - cup) > 0.12:
                break
        place_actor(self.cup, cup[0], cup[1], self.table_top_z, rng.uniform(-np.pi, np.pi))
        place_actor(self.coaster, coaster[0], coaster[1], self.table_top_z, 0.0)

    def instruction_fields(self) -> dict[str, str]:
        return {"arm": "left" if self.side > 0 else "right", "color": "orange"}

    # ------------------------------------------------------------------ success
    def evaluate(self) -> dict:
        on = rests_on(self.cup.pose.p, self.coaster.pose.p, self.coaster_geom.thickness, XY_TOL, Z_TOL)
        upright = is_upright(self.cup.pose.q)
        released = self.gripper_open(LEFT if self.side > 0 else RIGHT)
        return {"cup_on_coaster": on, "cup_upright": upright, "gripper_open": released,
                "success": on & upright & released}

    # ------------------------------------------------------------------ expert
    def expert(self) -> Iterator[np.ndarray]:
        ex = DualArmExpert(self)
        arm = LEFT if self.side > 0 else RIGHT
        cup, coaster = sp_pose(self.cup.pose), sp_pose(self.coaster.pose)
        handle_yaw = yaw_of(cup.q)  # the builder's handle points along local +x
        center = cup.p + [0.0, 0.0, self.cup_geom.height - GRASP_DEPTH]
        # Close across the body, perpendicular to the handle, so neither finger lands on the handle.
        yaws = [handle_yaw + np.pi / 2, handle_yaw - np.pi / 2]
        yield from ex.pick_up(arm, [top_down_pose(center, y) for y in yaws], cup, 0.10)
        top = coaster.p[2] + self.coaster_geom.thickness
        target = np.array([coaster.p[0], coaster.p[1], top + 0.003])
        yield from ex.put_down(arm, target)
