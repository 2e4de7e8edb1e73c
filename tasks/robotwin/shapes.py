"""Primitive-shape helpers the RoboTwin object builders share.

RoboTwin's meshes cannot be downloaded here, so every object is rebuilt from SAPIEN boxes, cylinders and
spheres. These helpers add one shape (collision and visual together) to an actor or link builder, so the
builders in :mod:`ahabench.tasks.robotwin.objects` read as lists of parts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import sapien
import sapien.physx as physx
import sapien.render

#: SAPIEN's cylinders (and prismatic joints) lie along their local x axis; this rotation (-90 deg about y)
#: stands them up along z.
UPRIGHT_Q = [math.sqrt(0.5), 0.0, -math.sqrt(0.5), 0.0]
#: Where a builder leaves an object until ``_initialize_episode`` places it: under the table or above it.
BELOW_TABLE = sapien.Pose([0.0, 0.0, -2.0])
ABOVE_TABLE = sapien.Pose([0.0, 0.0, 1.0])


def grip_material(grip: bool) -> physx.PhysxMaterial | None:
    """Painted wood, plastic and rubber grips get friction ~1 so grasps do not slip while the arms accelerate
    (the table itself stays at RoboTwin's 0.5); ``grip=False`` keeps SAPIEN's default material."""
    if not grip:
        return None
    return physx.PhysxMaterial(static_friction=1.0, dynamic_friction=1.0, restitution=0.0)


def look(color: Sequence[float], roughness: float = 0.6, metallic: float = 0.0) -> sapien.render.RenderMaterial:
    """An opaque render material of an RGB colour."""
    return sapien.render.RenderMaterial(base_color=[*color[:3], 1.0], roughness=roughness, metallic=metallic)


def span(z_lo: float, z_hi: float) -> tuple[float, float]:
    """(centre, half height) of the vertical interval [z_lo, z_hi]."""
    return 0.5 * (z_lo + z_hi), 0.5 * (z_hi - z_lo)


def finish(builder, name: str, park: sapien.Pose, kinematic: bool = False):
    """Set the builder's initial pose to ``park`` (out of the way until the episode places the object) and
    build the actor (dynamic, or kinematic: moved only by ``set_pose``)."""
    builder.set_initial_pose(park)
    return builder.build_kinematic(name=name) if kinematic else builder.build(name=name)


def add_box(builder, center: Sequence[float], half_size: Sequence[float], color: Sequence[float], density: float,
            q: Sequence[float] = (1.0, 0.0, 0.0, 0.0), grip: bool = False, roughness: float = 0.6,
            metallic: float = 0.0) -> None:
    """A box at ``center`` (builder frame) with collision and visual."""
    pose = sapien.Pose(list(center), list(q))
    builder.add_box_collision(pose=pose, half_size=list(half_size), material=grip_material(grip), density=density)
    builder.add_box_visual(pose=pose, half_size=list(half_size), material=look(color, roughness, metallic))


def add_cylinder(builder, z_center: float, half_height: float, radius: float, color: Sequence[float],
                 density: float, grip: bool = False, collision: bool = True, roughness: float = 0.6,
                 metallic: float = 0.0) -> None:
    """A cylinder standing along z on the builder's axis, centred at height ``z_center``."""
    pose = sapien.Pose([0.0, 0.0, z_center], UPRIGHT_Q)
    if collision:
        builder.add_cylinder_collision(pose=pose, radius=radius, half_length=half_height,
                                       material=grip_material(grip), density=density)
    builder.add_cylinder_visual(pose=pose, radius=radius, half_length=half_height,
                                material=look(color, roughness, metallic))


def add_ring(builder, r_mid: float, thickness: float, z_center: float, half_height: float, segments: int,
             color: Sequence[float], density: float, grip: bool = False) -> None:
    """A vertical wall of ``segments`` boxes around the z axis, centred on radius ``r_mid``.

    Convex boxes are how a hollow cup/pot wall is built; a 5 % overlap between neighbours keeps the wall
    closed so nothing slips through the seams.
    """
    half_w = r_mid * math.tan(math.pi / segments) * 1.05
    for i in range(segments):
        a = 2.0 * math.pi * i / segments
        add_box(builder, (r_mid * math.cos(a), r_mid * math.sin(a), z_center), (0.5 * thickness, half_w, half_height),
                color, density, q=(math.cos(a / 2), 0.0, 0.0, math.sin(a / 2)), grip=grip)
