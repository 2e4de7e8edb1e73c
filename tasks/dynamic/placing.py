"""The place half of the dynamic suite's place-on-a-carrier experts: set a held block down on a moving carrier.

:class:`CarrierPlacingExpert` picks a block resting on the table (:class:`GraspingExpert`), lifts it straight up,
tracks the carrier's predicted centre from above, lowers the block while keeping pace, lets go just above the
surface (so the block is dropped with the carrier's velocity, not pressed into it) and rises while still
following the carrier (a sideways pull would drag the block).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ahabench.tasks.dynamic.grasping import ALIGNED, HOVER, GraspingExpert
from ahabench.tasks.dynamic.motion import predict
from ahabench.tasks.dynamic.servo import DT
from ahabench.tasks.robotwin.poses import yaw_of

if TYPE_CHECKING:
    from mani_skill.utils.structs.actor import Actor

    from ahabench.tasks.dynamic.moving_table import MovingTableEnv

#: The block is let go this far (m) above resting on the carrier.
RELEASE_GAP = 0.004


class CarrierPlacingExpert(GraspingExpert):
    """Pick ``block`` (a cube of half-size ``block_half`` resting on the table, yaw within +-0.4 rad of the world
    axes) with the arm on ``side`` (+1 left), and set it down centred on ``env.carriers[0]``.

    surface_top: the height (world, m) of the carrier's face the block is set on.
    placed: whether the block rests on the carrier (the task's own test), read at observation instants.
    """

    def __init__(self, env: MovingTableEnv, block: Actor, block_half: float, side: float,
                 surface_top: Callable[[], float], placed: Callable[[], bool]) -> None:
        super().__init__(env, block)
        self.block_half = block_half
        self.side = side
        self.surface_top = surface_top
        self.placed = placed
        self.just_placed = False

    def object_at(self, t: float) -> np.ndarray:
        return self.block.pose.p[0].cpu().numpy().astype(np.float64)  # it rests until picked

    def grasp_z(self) -> float:
        return self.env.table_top_z + self.block_half

    def choose_arm(self) -> int:
        return 0 if self.side > 0 else 1

    def grasp_yaw(self) -> float:
        # Close across the block's faces.
        return self.closing_yaw(self.arm) + yaw_of(self.block.pose.q[0].cpu().numpy())

    def carrier_at(self, t: float) -> np.ndarray:
        """Predicted centre of the carrier at time ``t`` (s)."""
        env = self.env
        c = env.carriers[0]
        t0 = env.sim_time
        return predict(c.position(t0), c.velocity(t0), c.acceleration(t0), t - t0, env.level)

    def carrier_speed(self) -> float:
        return float(np.linalg.norm(self.env.carriers[0].velocity(self.env.sim_time)))

    def place_z(self) -> float:
        """TCP height that holds the block's bottom RELEASE_GAP above the surface (grasped at its centre)."""
        return self.surface_top() + self.block_half + RELEASE_GAP

    def observe_carry(self) -> None:
        env = self.env
        p_cmd, _ = self.tcp(self.arm)
        # Gripper commanded open with the hand low over the carrier: the block was just set down.
        self.just_placed = env.closed_steps[self.arm] == 0 and (
            p_cmd[2] < self.place_z() + 0.03 and np.linalg.norm(p_cmd[:2] - self.carrier_at(env.sim_time)[:2]) < 0.05)

    def done(self) -> bool:
        return self.placed() or self.just_placed

    def done_tick(self, tick: int, p_tcp: np.ndarray) -> None:
        c = self.carrier_at(self.time_of(tick))
        self.set_gripper(self.arm, False)
        self.move(self.arm, np.array([c[0], c[1], self.place_z() + 0.12]), self.yaw,
                  extra_lin=self.carrier_speed() * DT * 1.5)

    def carry_tick(self, tick: int, p_tcp: np.ndarray) -> None:
        arm = self.arm
        pz = self.place_z()
        c = self.carrier_at(self.time_of(tick))
        if p_tcp[2] < self.grasp_z() + 0.05 and np.linalg.norm(p_tcp[:2] - c[:2]) > 0.05:
            # Lift straight up off the table first.
            self.move(arm, np.array([p_tcp[0], p_tcp[1], pz + HOVER]), self.yaw)
            return
        # Lower only while aligned with where the carrier was aimed at last tick (it moves meanwhile).
        err = float(np.linalg.norm(p_tcp[:2] - self.carrier_at(self.time_of(tick - 1))[:2]))
        z = pz + HOVER * float(np.clip((err - ALIGNED) / 0.03, 0.0, 1.0))
        self.move(arm, np.array([c[0], c[1], z]), self.yaw, extra_lin=self.carrier_speed() * DT * 1.5)
        if err < ALIGNED and p_tcp[2] < pz + 0.003:
            self.set_gripper(arm, False)
            self.phase = "done"
