"""place_on_moving_tray: pick a block off the table and set it down on the target mark of a passing tray."""

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

TRAY = PlateGeom(half_x=0.07, half_y=0.07, rim_h=0.012)
#: Half-size of the painted target mark at the tray's centre; the block's centre must end within it.
MARK_HALF = 0.025
BLOCK_HALF = 0.02
BLOCK_RGB = (0.15, 0.35, 0.85)
#: Block on the table: x in BLOCK_X, |y| in BLOCK_Y on the drawn side (nearer the robots than any tray path).
BLOCK_X, BLOCK_Y = (-0.2, -0.13), (0.12, 0.26)
#: Tray start: x in TRAY_X, |y| in TRAY_Y on the block's side, heading to the other side.
TRAY_X, TRAY_Y = (0.02, 0.1), (0.45, 0.52)


@register_robotwin_task("place_on_moving_tray", max_steps=250, suite="dynamic")
class PlaceOnMovingTrayEnv(MovingTableEnv):
    """
    Description:
        Pick up the blue block and set it down on the target mark of the moving tray.
    Randomizations:
        The block's position (x in [-0.2, -0.13], |y| in [0.12, 0.26]) and yaw (+-0.4 rad), on a drawn side;
        the tray's start x in [0.02, 0.1] and |y| in [0.45, 0.52] on the same side, heading to the other side;
        its motion (level 1 constant velocity, 2 polynomial path, 3 chaotic) at ``BASE_SPEED`` x ``speed`` m/s
        (0.15 m/s by default).
    Success:
        The block rests on the tray (its bottom within 1 cm of the tray's top face, moving with the tray),
        its centre within 2.5 cm of the tray's centre along both tray axes (on the target mark), and no gripper
        holds it.
    """

    BASE_SPEED = 0.15
    #: The tray's centre stays clear of the block's area (x >= 0) on every level.
    MOTION_REGION = Region(0.0, 0.14, -0.6, 0.6)
    INSTRUCTIONS_SEEN = (
        "Put the blue block on the mark of the moving tray.",
        "Place the block onto the tray as it slides past.",
        "Pick up the cube and set it on the passing tray's target.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Drop the blue cube onto the centre of the gliding tray.",
        "Load the block onto the moving tray with the {arm} arm.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.tray = self.add_task_actor(build_plate(self.scene, "tray", TRAY, (0.8, 0.8, 0.78),
                                                    rim_color=(0.35, 0.35, 0.38), mark_color=(0.95, 0.75, 0.1),
                                                    mark_half=MARK_HALF))
        b = self.scene.create_actor_builder()
        add_box(b, (0, 0, 0), (BLOCK_HALF,) * 3, BLOCK_RGB, 500.0, grip=True)
        self.block = self.add_task_actor(finish(b, "block", ABOVE_TABLE))

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        self.place_on_table(self.block, rng.uniform(*BLOCK_X), side * rng.uniform(*BLOCK_Y), BLOCK_HALF,
                            yaw=rng.uniform(-0.4, 0.4))
        start = (rng.uniform(*TRAY_X), side * rng.uniform(*TRAY_Y))
        self.add_carrier(Carrier(self.tray, self.make_trajectory(start, -side), self.table_top_z + CARRIER_LIFT))
        self._side = side

    def instruction_fields(self) -> dict[str, str]:
        return {"arm": "left" if self._side > 0 else "right"}

    def tray_top(self) -> float:
        return self.table_top_z + CARRIER_LIFT + TRAY.top

    def evaluate(self) -> dict:
        p = self.block.pose.p
        rel = p[:, :2] - self.tray.pose.p[:, :2]  # the tray never turns: its axes are the world's
        on_mark = rel.abs().max(dim=1).values < MARK_HALF
        resting = (p[:, 2] - BLOCK_HALF - self.tray_top()).abs() < 0.01
        v_tray = torch.as_tensor(self.carriers[0].velocity(self.sim_time), dtype=p.dtype)[None] if self.carriers \
            else torch.zeros_like(p)
        riding = (self.block.linear_velocity - v_tray).norm(dim=1) < 0.05
        released = ~self.arms[0].is_grasping(self.block) & ~self.arms[1].is_grasping(self.block)
        on_tray = resting & riding
        return dict(block_on_tray=on_tray, on_mark=on_mark, block_released=released,
                    success=on_tray & on_mark & released)

    def expert(self) -> Iterator[np.ndarray]:
        # Pick the block, carry it over the tray's centre (the mark), lower it keeping pace, let go, rise.
        yield from CarrierPlacingExpert(self, self.block, BLOCK_HALF, self._side, self.tray_top,
                                        lambda: bool(self.evaluate()["block_on_tray"][0]))
