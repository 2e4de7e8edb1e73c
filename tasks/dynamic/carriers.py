"""Kinematic carriers of the ``dynamic`` suite (pallet, cart, tray) and the bins objects go into.

A carrier is a kinematic body driven along a :class:`~ahabench.tasks.dynamic.motion.Trajectory` by a
*kinematic target* set before every physics substep: PhysX then gives the body the velocity that reaches the
target, so an object resting on it is carried by friction (a plain ``set_pose`` teleports the body and leaves
whatever stands on it behind). A fixed-root articulation (the bell) has no kinematic target; its root pose is
set every substep instead, which is enough for something that is only pressed from above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sapien
from mani_skill.envs.scene import ManiSkillScene
from mani_skill.utils.structs.actor import Actor
from mani_skill.utils.structs.articulation import Articulation

from ahabench.tasks.dynamic.motion import Trajectory
from ahabench.tasks.robotwin.shapes import BELOW_TABLE, add_box, finish, look

#: Every carrier hovers this far above the table top (m): never touching the table keeps it free of friction
#: artefacts (a kinematic body ignores the static table anyway, but a rendered gap reads as "moving").
CARRIER_LIFT = 0.002


@dataclass(frozen=True)
class PlateGeom:
    """A flat carrier: a plate ``half_x`` x ``half_y`` x ``half_h`` with optional rims ``rim_h`` high."""

    half_x: float
    half_y: float
    half_h: float = 0.006
    rim_h: float = 0.0
    rim_t: float = 0.006

    @property
    def top(self) -> float:
        """Height of the plate's top face above its bottom face (where carried objects rest)."""
        return 2 * self.half_h


def build_plate(scene: ManiSkillScene, name: str, geom: PlateGeom, color: Sequence[float],
                rim_color: Sequence[float] | None = None, mark_color: Sequence[float] | None = None,
                mark_half: float = 0.0) -> Actor:
    """A kinematic plate (local origin at the centre of its bottom face), optional rims on its four edges and an
    optional flat square mark of half-size ``mark_half`` painted on its centre (a visual target, no collision)."""
    b = scene.create_actor_builder()
    add_box(b, (0, 0, geom.half_h), (geom.half_x, geom.half_y, geom.half_h), color, 500.0, grip=True)
    if geom.rim_h > 0:
        rc = rim_color or color
        z = geom.top + geom.rim_h / 2
        for sx in (-1, 1):
            add_box(b, (sx * (geom.half_x - geom.rim_t / 2), 0, z), (geom.rim_t / 2, geom.half_y, geom.rim_h / 2),
                    rc, 500.0)
        for sy in (-1, 1):
            add_box(b, (0, sy * (geom.half_y - geom.rim_t / 2), z), (geom.half_x, geom.rim_t / 2, geom.rim_h / 2),
                    rc, 500.0)
    if mark_half > 0:
        b.add_box_visual(pose=sapien.Pose([0, 0, geom.top + 0.0005]), half_size=[mark_half, mark_half, 0.0006],
                         material=look(mark_color or (0.9, 0.9, 0.9)))
    return finish(b, name, BELOW_TABLE, kinematic=True)


@dataclass(frozen=True)
class BinGeom:
    """An open box standing on the table: inner half-size ``half`` (square), walls ``wall_h`` high."""

    half: float = 0.065
    wall_h: float = 0.05
    wall_t: float = 0.008
    floor_h: float = 0.006


def build_bin(scene: ManiSkillScene, name: str, geom: BinGeom,
              color: Sequence[float] = (0.25, 0.3, 0.38)) -> Actor:
    """A static bin (local origin at the centre of its bottom face)."""
    b = scene.create_actor_builder()
    g = geom
    add_box(b, (0, 0, g.floor_h / 2), (g.half + g.wall_t, g.half + g.wall_t, g.floor_h / 2), color, 500.0)
    zc = g.wall_h / 2
    for s in (-1, 1):
        add_box(b, (s * (g.half + g.wall_t / 2), 0, zc), (g.wall_t / 2, g.half + g.wall_t, g.wall_h / 2), color, 500.0)
        add_box(b, (0, s * (g.half + g.wall_t / 2), zc), (g.half, g.wall_t / 2, g.wall_h / 2), color, 500.0)
    b.set_initial_pose(BELOW_TABLE)
    return b.build_static(name=name)


class Carrier:
    """A kinematic actor (or fixed-root articulation) that follows a trajectory at a fixed height.

    body: the ManiSkill ``Actor`` (kinematic) or ``Articulation`` (fixed root) to drive.
    z: height of its origin (world, m).
    yaw: its constant heading (rad); carriers translate, they never turn (a carried object keeps its grip face).
    """

    def __init__(self, body: Actor | Articulation, trajectory: Trajectory, z: float, yaw: float = 0.0):
        self.body = body
        self.trajectory = trajectory
        self.z = float(z)
        self.q = [float(np.cos(yaw / 2)), 0.0, 0.0, float(np.sin(yaw / 2))]
        self._articulation = hasattr(body, "set_root_pose")

    def pose_at(self, t: float) -> sapien.Pose:
        x, y = self.trajectory.position(t)
        return sapien.Pose([float(x), float(y), self.z], self.q)

    def place(self, t: float = 0.0) -> None:
        """Put the carrier where it is at time ``t`` (teleport: episode start)."""
        pose = self.pose_at(t)
        if self._articulation:
            self.body.set_root_pose(pose)
        else:
            self.body.set_pose(pose)

    def drive(self, t: float) -> None:
        """Aim the carrier at its pose at time ``t`` (call before the physics substep that ends at ``t``)."""
        pose = self.pose_at(t)
        if self._articulation:
            self.body.set_root_pose(pose)
        else:
            for body in self.body._bodies:  # one per parallel scene; CPU physics has one
                body.set_kinematic_target(pose)

    def position(self, t: float) -> np.ndarray:
        """(3,) world position of the carrier's origin at time ``t``."""
        return np.array([*self.trajectory.position(t), self.z])

    def velocity(self, t: float) -> np.ndarray:
        return np.array([*self.trajectory.velocity(t), 0.0])

    def acceleration(self, t: float) -> np.ndarray:
        return np.array([*self.trajectory.acceleration(t), 0.0])
