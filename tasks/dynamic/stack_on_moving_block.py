"""stack_on_moving_block: pick a block off the table and stack it on a bigger block gliding across the table."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.tasks.dynamic.carriers import CARRIER_LIFT, Carrier, PlateGeom, build_plate
from ahabench.tasks.dynamic.motion import Region
from ahabench.tasks.dynamic.moving_table import MovingTableEnv
from ahabench.tasks.dynamic.placing import CarrierPlacingExpert
from ahabench.tasks.robotwin.shapes import ABOVE_TABLE, add_box, finish

#: The moving base is itself the carrier: a kinematic 6 cm cube gliding just above the table.
BASE = PlateGeom(half_x=0.03, half_y=0.03, half_h=0.03)
TOP_HALF = 0.02
TOP_RGB = (0.95, 0.75, 0.1)
#: Stacked: the top block's centre within this distance of the base's centre along both axes (m).
XY_TOL = 0.015
#: Top block on the table: x in TOP_X, |y| in TOP_Y on the drawn side (nearer the robots than the base's path).
TOP_X, TOP_Y = (-0.2, -0.13), (0.12, 0.26)
#: Base start: x in BASE_X, |y| in BASE_Y on the same side, heading to the other side.
BASE_X, BASE_Y = (0.02, 0.1), (0.45, 0.52)


@register_robotwin_task("stack_on_moving_block", max_steps=250, suite="dynamic")
class StackOnMovingBlockEnv(MovingTableEnv):
    """
    Description:
        Stack the yellow block on top of the green block while the green block slides past.
    Randomizations:
        The yellow block's position (x in [-0.2, -0.13], |y| in [0.12, 0.26]) and yaw (+-0.4 rad), on a drawn
        side; the green block's start x in [0.02, 0.1] and |y| in [0.45, 0.52] on the same side, heading to the
        other side; its motion (level 1 constant velocity, 2 polynomial path, 3 chaotic) at ``BASE_SPEED`` x
        ``speed`` m/s (0.12 m/s by default).
    Success:
        The yellow block rests on the green one (its bottom within 1 cm of the green block's top, moving with it),
        its centre within 1.5 cm of the green block's centre along both axes, and no gripper holds it.
    """

    BASE_SPEED = 0.12
    #: The base's centre stays clear of the yellow block's area (x >= 0) on every level.
    MOTION_REGION = Region(0.0, 0.14, -0.6, 0.6)
    INSTRUCTIONS_SEEN = (
        "Stack the yellow block on the moving green block.",
        "Put the yellow cube on top of the sliding green cube.",
        "Place the small block onto the big block as it passes.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Set the yellow cube on the gliding green block with the {arm} arm.",
        "Pile the small cube onto the moving one.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.base = self.add_task_actor(build_plate(self.scene, "base_block", BASE, (0.2, 0.6, 0.25)))
        b = self.scene.create_actor_builder()
        add_box(b, (0, 0, 0), (TOP_HALF,) * 3, TOP_RGB, 500.0, grip=True)
        self.block = self.add_task_actor(finish(b, "top_block", ABOVE_TABLE))

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        self.place_on_table(self.block, rng.uniform(*TOP_X), side * rng.uniform(*TOP_Y), TOP_HALF,
                            yaw=rng.uniform(-0.4, 0.4))
        start = (rng.uniform(*BASE_X), side * rng.uniform(*BASE_Y))
        self.add_carrier(Carrier(self.base, self.make_trajectory(start, -side), self.table_top_z + CARRIER_LIFT))
        self._side = side

    def instruction_fields(self) -> dict[str, str]:
        return {"arm": "left" if self._side > 0 else "right"}

    def base_top(self) -> float:
        return self.table_top_z + CARRIER_LIFT + BASE.top

    def evaluate(self) -> dict:
        p = self.block.pose.p
        rel = p[:, :2] - self.base.pose.p[:, :2]  # the base never turns: its axes are the world's
        centred = rel.abs().max(dim=1).values < XY_TOL
        resting = (p[:, 2] - TOP_HALF - self.base_top()).abs() < 0.01
        v_base = torch.as_tensor(self.carriers[0].velocity(self.sim_time), dtype=p.dtype)[None] if self.carriers \
            else torch.zeros_like(p)
        riding = (self.block.linear_velocity - v_base).norm(dim=1) < 0.05
        released = ~self.arms[0].is_grasping(self.block) & ~self.arms[1].is_grasping(self.block)
        on_base = resting & riding
        return dict(block_on_base=on_base, centred=centred, block_released=released,
                    success=on_base & centred & released)

    def expert(self) -> Iterator[np.ndarray]:
        # Pick the block, carry it over the base's centre, lower it keeping pace, let go, rise.
        yield from CarrierPlacingExpert(self, self.block, TOP_HALF, self._side, self.base_top,
                                        lambda: bool(self.evaluate()["block_on_base"][0]))
