"""The place-on-a-carrier tasks' shared scene, success test and expert: a block resting on the table near the robots
must be set down on a carrier passing further out (place_on_moving_tray, stack_on_moving_block).

A task subclasses :class:`PlaceOnCarrierEnv`: it builds its carrier and block in ``_load_scene`` (setting
``self.carrier_actor`` and ``self.block``), and states the geometry (``CARRIER``, ``BLOCK_HALF``), the start ranges,
the centring tolerance and the names of its two success conditions.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ahabench.tasks.dynamic.carriers import CARRIER_LIFT, Carrier, PlateGeom
from ahabench.tasks.dynamic.motion import Region
from ahabench.tasks.dynamic.moving_table import MovingTableEnv
from ahabench.tasks.dynamic.placing import CarrierPlacingExpert


class PlaceOnCarrierEnv(MovingTableEnv):
    """Pick the block off the table and set it down, released, on the moving carrier within ``CENTRE_TOL`` of its
    centre along both axes (the carrier never turns: its axes are the world's)."""

    CARRIER: PlateGeom
    BLOCK_HALF = 0.02
    #: Block on the table: x in BLOCK_X, |y| in BLOCK_Y on the drawn side (nearer the robots than any carrier path).
    BLOCK_X, BLOCK_Y = (-0.2, -0.13), (0.12, 0.26)
    #: Carrier start: x in CARRIER_X, |y| in CARRIER_Y on the block's side, heading to the other side.
    CARRIER_X, CARRIER_Y = (0.02, 0.1), (0.45, 0.52)
    #: The carrier's centre stays clear of the block's area (x >= 0) on every level.
    MOTION_REGION = Region(0.0, 0.14, -0.6, 0.6)
    CENTRE_TOL = 0.025
    #: Names of the "resting on the carrier" and "centred" conditions of :meth:`evaluate`.
    ON_KEY, CENTRE_KEY = "block_on_carrier", "centred"

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        self.place_on_table(self.block, rng.uniform(*self.BLOCK_X), side * rng.uniform(*self.BLOCK_Y), self.BLOCK_HALF,
                            yaw=rng.uniform(-0.4, 0.4))
        start = (rng.uniform(*self.CARRIER_X), side * rng.uniform(*self.CARRIER_Y))
        self.add_carrier(Carrier(self.carrier_actor, self.make_trajectory(start, -side),
                                 self.table_top_z + CARRIER_LIFT))
        self._side = side

    def instruction_fields(self) -> dict[str, str]:
        return {"arm": "left" if self._side > 0 else "right"}

    def carrier_top(self) -> float:
        return self.table_top_z + CARRIER_LIFT + self.CARRIER.top

    def evaluate(self) -> dict:
        p = self.block.pose.p
        rel = p[:, :2] - self.carrier_actor.pose.p[:, :2]
        centred = rel.abs().max(dim=1).values < self.CENTRE_TOL
        resting = (p[:, 2] - self.BLOCK_HALF - self.carrier_top()).abs() < 0.01
        v_carrier = torch.as_tensor(self.carriers[0].velocity(self.sim_time), dtype=p.dtype)[None] if self.carriers \
            else torch.zeros_like(p)
        riding = (self.block.linear_velocity - v_carrier).norm(dim=1) < 0.05
        released = ~self.arms[0].is_grasping(self.block) & ~self.arms[1].is_grasping(self.block)
        on = resting & riding
        return {self.ON_KEY: on, self.CENTRE_KEY: centred, "block_released": released,
                "success": on & centred & released}

    def expert(self) -> Iterator[np.ndarray]:
        # Pick the block, carry it over the carrier's centre, lower it keeping pace, let go, rise.
        yield from CarrierPlacingExpert(self, self.block, self.BLOCK_HALF, self._side, self.carrier_top,
                                        lambda: bool(self.evaluate()[self.ON_KEY][0]))
