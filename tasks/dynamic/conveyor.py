"""The conveyor tasks' shared scene, success test and expert: an item rides a pallet gliding across the table and
must end in a fixed bin between the arms (pick_conveyor_block, pick_conveyor_can).

A task subclasses :class:`ConveyorPickEnv`, builds its item in :meth:`ConveyorPickEnv.build_item` and states the
item's name (the prefix of its success conditions), its half height and how far above its centre it is grasped.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import sapien
import torch

from ahabench.tasks.dynamic.carriers import CARRIER_LIFT, BinGeom, Carrier, PlateGeom, build_bin, build_plate
from ahabench.tasks.dynamic.grasping import GraspingExpert
from ahabench.tasks.dynamic.motion import predict
from ahabench.tasks.dynamic.moving_table import MovingTableEnv

PALLET = PlateGeom(half_x=0.06, half_y=0.06)
BIN = BinGeom()
#: The bin stands between the two arms, near the robots, clear of every carrier path (x >= -0.08).
BIN_XY = (-0.21, 0.0)
#: Pallet start: x in X_RANGE, |y| in Y_START (the side is drawn), heading to the other side.
X_RANGE, Y_START = (-0.02, 0.1), (0.32, 0.42)
#: TCP speed (m/s) while carrying the item to the bin.
CARRY_SPEED = 0.4


class ConveyorPickEnv(MovingTableEnv):
    """A pallet crossing the table carries ``item`` by friction; the item must come to rest in the bin, released,
    without ever touching the table. Subclasses set ``ITEM``, ``ITEM_HALF_H``, ``GRASP_ABOVE`` and
    :meth:`build_item`."""

    BASE_SPEED = 0.15
    #: The item's name: its actor's name and the prefix of its success conditions (``<item>_in_bin`` ...).
    ITEM = "item"
    #: Half the item's height (its local origin is its centre).
    ITEM_HALF_H = 0.02
    #: How far above the item's centre the gripper closes (m).
    GRASP_ABOVE = 0.0

    def build_item(self) -> object:
        raise NotImplementedError

    def item_z(self) -> float:
        """Height of the item's centre resting on the pallet."""
        return self.table_top_z + CARRIER_LIFT + PALLET.top + self.ITEM_HALF_H

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.pallet = self.add_task_actor(build_plate(self.scene, "pallet", PALLET, (0.3, 0.3, 0.32)))
        self.item = self.add_task_actor(self.build_item())
        self.bin = self.add_task_actor(build_bin(self.scene, "bin", BIN))
        self._dropped = torch.zeros(1, dtype=torch.bool)

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        start = (rng.uniform(*X_RANGE), side * rng.uniform(*Y_START))
        self.add_carrier(Carrier(self.pallet, self.make_trajectory(start, -side), self.table_top_z + CARRIER_LIFT))
        off = rng.uniform(-0.01, 0.01, size=2)
        self.item.set_pose(sapien.Pose([start[0] + off[0], start[1] + off[1], self.item_z()]))
        self.item.set_linear_velocity(torch.zeros(3))
        self.item.set_angular_velocity(torch.zeros(3))
        self.bin.set_pose(sapien.Pose([*BIN_XY, self.table_top_z]))
        self._dropped = torch.zeros(1, dtype=torch.bool)
        self._side = side

    def instruction_fields(self) -> dict[str, str]:
        return {"side": "left" if self._side > 0 else "right"}

    def evaluate(self) -> dict:
        p = self.item.pose.p
        rel = p[:, :2] - torch.tensor(BIN_XY, dtype=p.dtype)
        in_bin = (rel.abs().max(dim=1).values < BIN.half) & (p[:, 2] < self.table_top_z + BIN.wall_h + self.ITEM_HALF_H)
        # Lower than riding the pallet (resting on the table, or lying anywhere) and not in the bin: lost.
        on_table = (p[:, 2] < self.table_top_z + self.ITEM_HALF_H + 0.004) & ~in_bin
        self._dropped = self._dropped | on_table
        released = ~self.arms[0].is_grasping(self.item) & ~self.arms[1].is_grasping(self.item)
        still = self.item.linear_velocity.norm(dim=1) < 0.05
        ok = in_bin & released & still & ~self._dropped
        return {f"{self.ITEM}_in_bin": in_bin, f"{self.ITEM}_released": released, f"{self.ITEM}_still": still,
                "never_dropped": ~self._dropped.clone(), "success": ok}

    def expert(self) -> Iterator[np.ndarray]:
        yield from ConveyorExpert(self)


class ConveyorExpert(GraspingExpert):
    """Catch the item off the pallet (:class:`GraspingExpert`), lift it straight up, carry it over the bin and
    open once the arm is really there."""

    def __init__(self, env: ConveyorPickEnv):
        super().__init__(env, env.item)

    def object_at(self, t: float) -> np.ndarray:
        # The grasp point, moved on as the pallet moves (the item rides the pallet until grasped).
        env = self.env
        c = env.carriers[0]
        t0 = env.sim_time
        p = env.item.pose.p[0].cpu().numpy().astype(np.float64)
        if env.GRASP_ABOVE:
            p = p + np.array([0.0, 0.0, env.GRASP_ABOVE])
        return predict(p, c.velocity(t0), c.acceleration(t0), t - t0, env.level)

    def object_speed(self) -> float:
        return float(np.linalg.norm(self.env.carriers[0].velocity(self.env.sim_time)))

    def grasp_z(self) -> float:
        return self.env.item_z() + self.env.GRASP_ABOVE

    def choose_arm(self) -> int:
        # The arm on the side the item is heading to: it comes toward that arm's base.
        return 0 if self.object_at(self.env.sim_time + 1.5)[1] >= 0 else 1

    def observe_carry(self) -> None:
        env = self.env
        p_cmd, _ = self.tcp(self.arm)
        real = env.arms[self.arm].tcp.pose.p[0].cpu().numpy()
        self.real_near_bin = bool(np.linalg.norm(real[:2] - np.asarray(BIN_XY)) < 0.02)
        self.cmd_over_bin = bool(np.linalg.norm(p_cmd[:2] - np.asarray(BIN_XY)) < 0.03
                                 and p_cmd[2] > env.table_top_z + 0.12)

    def done(self) -> bool:
        # In the bin, or just let go above it (gripper commanded open with the hand over the bin).
        env = self.env
        return bool(env.evaluate()[f"{env.ITEM}_in_bin"][0]) or (env.closed_steps[self.arm] == 0 and self.cmd_over_bin)

    def carry_tick(self, tick: int, p_tcp: np.ndarray) -> None:
        env, arm = self.env, self.arm
        top = env.table_top_z + 0.2
        if p_tcp[2] < self.grasp_z() + 0.08:  # straight up first, off the pallet
            goal = np.array([p_tcp[0], p_tcp[1], top])
        else:
            goal = np.array([*BIN_XY, top])
        self.move(arm, goal, self.yaw, max_speed=CARRY_SPEED)
        # Let go only once the real TCP (as observed) is over the bin too: the arm lags its commanded target
        # (PD) and an item released in motion is thrown.
        if np.linalg.norm(p_tcp[:2] - np.asarray(BIN_XY)) < 0.01 and self.real_near_bin:
            self.set_gripper(arm, False)
            self.phase = "done"
