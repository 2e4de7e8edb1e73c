"""place_container_plate: pick up a food container by its rim and set it on a plate (RoboTwin, 400 actions)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.base import DualArmTableEnv
from ahabench.experts.primitives import LEFT, RIGHT, DualArmExpert, top_down_pose
from ahabench.tasks.robotwin.objects import ContainerGeom, DiscGeom, build_container, build_disc
from ahabench.tasks.robotwin.poses import is_upright, place_actor, rests_on, rot3, sp_pose, yaw_of

#: Success tolerance between the container's and the plate's centres in xy (m) (RoboTwin: 5 cm).
XY_TOL = 0.05
#: The container counts as "on" the plate when its bottom is within this height above the plate's top (m).
Z_TOL = 0.015
#: Grasp height below the rim (m): the fingers straddle the top of one short wall.
GRASP_DEPTH = 0.02


@register_robotwin_task("place_container_plate", max_steps=400)
class PlaceContainerPlateEnv(DualArmTableEnv):
    """Pick up the container and place it on the plate.

    Description:
        A plate lies near the middle of the table and an open food container (a box-shaped tupperware) stands
        to one side. The arm on the container's side grips one of its short walls from above, carries it over
        the plate and sets it down flat on the plate.
    Randomizations:
        - the side (left / right arm) is drawn per episode;
        - the plate's position x in [-0.10, 0.08], y in [-0.06, 0.06];
        - the container's position x in [-0.12, 0.08], |y| in [0.24, 0.34] on its side, its yaw within
          +-0.4 rad of having its short walls face left and right.
    Success:
        - ``container_on_plate``: the container's centre within 5 cm of the plate's in xy and its bottom resting
          on the plate (within 1.5 cm above its top);
        - ``container_upright``: tilt < 15 deg;
        - ``gripper_open``: the container has been let go.
    """

    INSTRUCTIONS_SEEN = (
        "Place the container onto the plate.",
        "Use the {arm} arm to put the {color} container on the plate.",
        "Pick up the food container and set it down on the plate.",
        "Move the {color} box onto the white plate.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Grab the container by its edge and put it on the plate.",
        "With the {arm} gripper, lift the {color} tupperware and leave it on the dish.",
        "Transfer the container so that it rests on top of the plate.",
    )

    container_geom = ContainerGeom()
    plate_geom = DiscGeom()

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.plate = self.add_task_actor(build_disc(self.scene, "plate", self.plate_geom, inner_color=(0.8, 0.85, 0.9)))
        self.container = self.add_task_actor(
            build_container(self.scene, "container", self.container_geom))

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        self.side = 1.0 if rng.uniform() < 0.5 else -1.0  # +1: left arm (+y)
        place_actor(self.plate, rng.uniform(-0.10, 0.08), rng.uniform(-0.06, 0.06), self.table_top_z, 0.0)
        cx, cy = rng.uniform(-0.12, 0.08), self.side * rng.uniform(0.24, 0.34)
        # The builder's short walls face local +-x: a yaw near pi/2 turns them toward the left and right.
        place_actor(self.container, cx, cy, self.table_top_z, np.pi / 2 + rng.uniform(-0.4, 0.4))

    def instruction_fields(self) -> dict[str, str]:
        return {"arm": "left" if self.side > 0 else "right", "color": "blue"}

    # ------------------------------------------------------------------ success
    def evaluate(self) -> dict:
        on = rests_on(self.container.pose.p, self.plate.pose.p, self.plate_geom.thickness, XY_TOL, Z_TOL)
        upright = is_upright(self.container.pose.q)
        released = self.gripper_open(LEFT if self.side > 0 else RIGHT)
        return {"container_on_plate": on, "container_upright": upright, "gripper_open": released,
                "success": on & upright & released}

    # ------------------------------------------------------------------ expert
    def expert(self) -> Iterator[np.ndarray]:
        ex = DualArmExpert(self)
        arm = LEFT if self.side > 0 else RIGHT
        box, plate = sp_pose(self.container.pose), sp_pose(self.plate.pose)
        g = self.container_geom
        yaw = yaw_of(box.q)
        # Candidate grasps: the top of either short wall, fingers closing across the wall's thickness (local x),
        # each with the two wrist yaws that differ by pi.
        grasps = []
        for s in (1, -1):
            rim = box.p + rot3(yaw) @ np.array([s * (g.half_x - g.wall / 2), 0.0, g.height - GRASP_DEPTH])
            grasps += [top_down_pose(rim, yaw), top_down_pose(rim, yaw + np.pi)]
        yield from ex.pick_up(arm, grasps, box, 0.10)
        top = plate.p[2] + self.plate_geom.thickness
        target = np.array([plate.p[0], plate.p[1], top + 0.004])
        yield from ex.put_down(arm, target)
