"""Geometry dataclasses and actor builders of the RoboTwin task objects.

Every object is a compound of SAPIEN primitives (see :mod:`ahabench.tasks.robotwin.shapes`) with the shape and
scale of the real thing. An object's local origin is the centre of its *bottom* face, so a pose with
``z = table_top`` stands it on the table. The geometry constants live in frozen dataclasses so that a task's
success test and its scripted expert read the same numbers as the builder. The desk bell (an articulation) is
in :mod:`ahabench.tasks.robotwin.bell`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sapien

from ahabench.tasks.robotwin.shapes import (
    ABOVE_TABLE,
    BELOW_TABLE,
    UPRIGHT_Q,
    add_box,
    add_cylinder,
    add_ring,
    finish,
    look,
    span,
)


# --------------------------------------------------------------------------------------------- blocks
@dataclass(frozen=True)
class BlockGeom:
    half_size: tuple[float, float, float] = (0.02, 0.02, 0.075)  # 4 x 4 x 15 cm, RoboTwin's tall box
    density: float = 300.0  # light wood: ~70 g


def build_block(scene, name: str, geom: BlockGeom | None = None, color=(0.85, 0.2, 0.15), grip: bool = True,
                park: sapien.Pose = BELOW_TABLE):
    """A box standing on its bottom face (handover_block's tall block, beat_block_hammer's cube)."""
    geom = geom or BlockGeom()
    builder = scene.create_actor_builder()
    hx, hy, hz = geom.half_size
    add_box(builder, (0.0, 0.0, hz), (hx, hy, hz), color, geom.density, grip=grip)
    return finish(builder, name, park)


def build_pad(scene, name: str, half_size: float = 0.05, color=(0.2, 0.35, 0.85), park: sapien.Pose = BELOW_TABLE):
    """A flat coloured square on the table, visual only (kinematic, no collision)."""
    builder = scene.create_actor_builder()
    builder.add_box_visual(pose=sapien.Pose([0.0, 0.0, 0.0005]), half_size=[half_size, half_size, 0.0005],
                           material=look(color))
    return finish(builder, name, park, kinematic=True)


# ------------------------------------------------------------------------------------------------ pot
@dataclass(frozen=True)
class PotGeom:
    """A pot: a bottom disc, a wall of box staves and two handle tabs along local +-y."""

    radius: float = 0.085        # outer radius of the wall
    wall: float = 0.008          # wall thickness
    height: float = 0.10         # bottom to rim
    bottom: float = 0.012        # bottom thickness
    staves: int = 16             # wall segments (a polygonal cylinder; collisions stay convex)
    handle_len: float = 0.055    # how far each tab sticks out of the wall
    handle_width: float = 0.03   # across the tab (the fingers close across it)
    handle_thick: float = 0.014  # tab thickness
    handle_z: float = 0.088      # tab centre height above the pot's bottom
    handle_inset: float = 0.004  # the tab's centre moves this far into the wall, welding it on
    handle_grow: float = 0.004   # and its half length grows by this much (0: the tab just moves in)
    density: float = 550.0       # wall and tabs: ~0.3 kg in all
    bottom_density: float = 550.0  # a denser bottom keeps a pot from being nudged by what is set beside it

    @property
    def outer_radius(self) -> float:
        """The wall's outer radius (``radius``), under the name the cup and can geometries use."""
        return self.radius

    @property
    def handle_center_r(self) -> float:
        """Distance from the pot axis to the centre of a handle tab's outside part (where fingers close)."""
        return self.radius + 0.5 * self.handle_len

    def handle_local(self, side: int) -> np.ndarray:
        """Handle tab centre in the pot frame; side +1 is the tab on local +y, -1 on local -y."""
        return np.array([0.0, side * self.handle_center_r, self.handle_z])


def build_pot(scene, name: str, geom: PotGeom | None = None, color=(0.25, 0.27, 0.3), handle_color=(0.08, 0.08, 0.08),
              grip: bool = True, park: sapien.Pose = BELOW_TABLE):
    geom = geom or PotGeom()
    builder = scene.create_actor_builder()
    add_cylinder(builder, *span(0.0, geom.bottom), geom.radius, color, geom.bottom_density, grip=grip)
    add_ring(builder, geom.radius - 0.5 * geom.wall, geom.wall, *span(geom.bottom, geom.height), geom.staves, color,
             geom.density, grip=grip)
    for side in (-1, 1):
        center = (0.0, side * (geom.handle_center_r - geom.handle_inset), geom.handle_z)
        half = (0.5 * geom.handle_width, 0.5 * geom.handle_len + geom.handle_grow, 0.5 * geom.handle_thick)
        add_box(builder, center, half, handle_color, geom.density, grip=grip)
    return finish(builder, name, park)


# -------------------------------------------------------------------------------------------- bottle
@dataclass(frozen=True)
class BottleGeom:
    """A plastic bottle: four stacked cylinders, each a (radius, height) pair, bottom to top."""

    body_r: float = 0.028      # the wide body
    body_h: float = 0.13
    shoulder_r: float = 0.021  # the step between body and neck
    shoulder_h: float = 0.015
    neck_r: float = 0.015      # what the fingers close on, with the cap
    neck_h: float = 0.022
    cap_r: float = 0.017
    cap_h: float = 0.02
    density: float = 250.0  # a mostly empty plastic bottle: ~0.1 kg

    @property
    def height(self) -> float:
        return self.body_h + self.shoulder_h + self.neck_h + self.cap_h

    @property
    def grasp_z(self) -> float:
        """Height of the top-down grasp point: the middle of the neck-and-cap section."""
        z0 = self.body_h + self.shoulder_h
        return 0.5 * (z0 + self.height)


def build_bottle(scene, name: str, geom: BottleGeom | None = None, color=(0.3, 0.7, 0.4), cap_color=(0.95, 0.95, 0.95),
                 park: sapien.Pose = BELOW_TABLE):
    """Body, shoulder, neck and cap cylinders stacked bottom-up."""
    geom = geom or BottleGeom()
    builder = scene.create_actor_builder()
    z = 0.0
    for h, r, c in ((geom.body_h, geom.body_r, color), (geom.shoulder_h, geom.shoulder_r, color),
                    (geom.neck_h, geom.neck_r, color), (geom.cap_h, geom.cap_r, cap_color)):
        add_cylinder(builder, *span(z, z + h), r, c, geom.density, grip=True)
        z += h
    return finish(builder, name, park)


# --------------------------------------------------------------------------------- plate and coaster
@dataclass(frozen=True)
class DiscGeom:
    """A flat disc lying on the table: a dinner plate (the default) or a coaster."""

    radius: float = 0.10
    thickness: float = 0.012


def build_disc(scene, name: str, geom: DiscGeom | None = None, color=(0.92, 0.92, 0.88), density: float = 800.0,
               inner_color=None):
    """A disc; ``inner_color`` paints a smaller disc on top (visual only) so a plate reads as a plate, not a
    puck, from the head camera."""
    geom = geom or DiscGeom()
    b = scene.create_actor_builder()
    add_cylinder(b, geom.thickness / 2, geom.thickness / 2, geom.radius, color, density)
    if inner_color is not None:
        b.add_cylinder_visual(pose=sapien.Pose([0, 0, geom.thickness + 1e-4], UPRIGHT_Q), radius=geom.radius * 0.7,
                              half_length=1e-4, material=look(inner_color))
    return finish(b, name, ABOVE_TABLE)


# ----------------------------------------------------------------------------------------- container
@dataclass(frozen=True)
class ContainerGeom:
    """An open box-shaped food container (tupperware), walls thin enough to grasp by the rim."""

    half_x: float = 0.055  # outer half length; the short walls at +-half_x are the grasp rims
    half_y: float = 0.045  # outer half width
    height: float = 0.055  # floor bottom to rim
    wall: float = 0.01     # wall thickness, what the fingers close across
    floor: float = 0.008


def build_container(scene, name: str, geom: ContainerGeom | None = None, color=(0.2, 0.55, 0.85)):
    """Floor plus four walls; the two short walls (normal along local x) are the grasp rims."""
    g = geom or ContainerGeom()
    b = scene.create_actor_builder()
    add_box(b, [0, 0, g.floor / 2], [g.half_x, g.half_y, g.floor / 2], color, 500, roughness=0.3)
    wall_h = g.height - g.floor
    zc = g.floor + wall_h / 2
    for s in (-1, 1):
        add_box(b, [s * (g.half_x - g.wall / 2), 0, zc], [g.wall / 2, g.half_y, wall_h / 2], color, 500, roughness=0.3)
        add_box(b, [0, s * (g.half_y - g.wall / 2), zc], [g.half_x - g.wall, g.wall / 2, wall_h / 2], color, 500,
                roughness=0.3)
    return finish(b, name, ABOVE_TABLE)


# ----------------------------------------------------------------------------------------------- cup
@dataclass(frozen=True)
class CupGeom:
    radius: float = 0.026  # inner radius of the wall: 6 cm outside, 1 cm clear of each open finger
    wall: float = 0.004
    height: float = 0.09
    floor: float = 0.01
    handle_out: float = 0.03  # how far the handle sticks out from the wall

    @property
    def outer_radius(self) -> float:
        return self.radius + self.wall


def build_cup(scene, name: str, geom: CupGeom | None = None, color=(0.95, 0.6, 0.2)):
    """An empty mug: floor disc, a 16-segment wall and a C-shaped handle on local +x."""
    g = geom or CupGeom()
    b = scene.create_actor_builder()
    add_cylinder(b, g.floor / 2, g.floor / 2, g.outer_radius, color, 700)
    wall_h = g.height - g.floor
    add_ring(b, g.radius + g.wall / 2, g.wall, g.floor + wall_h / 2, wall_h / 2, 16, color, 700)
    # Two short horizontal struts and a vertical grip.
    t = 0.005
    for z in (0.065, 0.025):
        add_box(b, [g.outer_radius + g.handle_out / 2, 0, z], [g.handle_out / 2, t, t], color, 700)
    add_box(b, [g.outer_radius + g.handle_out - t, 0, 0.045], [t, t, 0.025], color, 700)
    return finish(b, name, ABOVE_TABLE)


# -------------------------------------------------------------------------------------------- hammer
@dataclass(frozen=True)
class HammerGeom:
    """A claw-less hammer lying on its side: handle along local +x, head across it at the +x end.

    The handle's bottom is flush with the head's bottom so the hammer lies flat on the table.
    """

    handle_half_len: float = 0.11
    handle_half_w: float = 0.012
    head_half: tuple[float, float, float] = (0.02, 0.055, 0.02)  # x (along handle), y (across), z

    @property
    def head_center(self) -> np.ndarray:
        """Head centre in the hammer frame (origin: handle centre at the bottom of the hammer)."""
        return np.array([self.handle_half_len + self.head_half[0], 0.0, self.head_half[2]])

    @property
    def handle_center(self) -> np.ndarray:
        return np.array([0.0, 0.0, self.handle_half_w])


def build_hammer(scene, name: str, geom: HammerGeom | None = None):
    g = geom or HammerGeom()
    b = scene.create_actor_builder()
    add_box(b, g.handle_center.tolist(), [g.handle_half_len, g.handle_half_w, g.handle_half_w], (0.55, 0.35, 0.15), 700)
    # The head is denser (steel) but kept light enough that a handle grasp does not pitch it out.
    add_box(b, g.head_center.tolist(), g.head_half, (0.35, 0.35, 0.4), 1500, roughness=0.3, metallic=0.8)
    return finish(b, name, ABOVE_TABLE)


# ----------------------------------------------------------------------------------------------- can
@dataclass(frozen=True)
class CanGeom:
    radius: float = 0.03
    height: float = 0.11  # body height, the cap sits on top
    cap_radius: float = 0.024
    cap_height: float = 0.008

    @property
    def total_height(self) -> float:
        return self.height + self.cap_height


def build_can(scene, name: str, geom: CanGeom | None = None, color=(0.8, 0.1, 0.1)):
    """A drink can: a cylinder body with a narrower metallic lid on top."""
    g = geom or CanGeom()
    b = scene.create_actor_builder()
    add_cylinder(b, g.height / 2, g.height / 2, g.radius, color, 400)
    add_cylinder(b, g.height + g.cap_height / 2, g.cap_height / 2, g.cap_radius, (0.75, 0.75, 0.78), 400,
                 roughness=0.3, metallic=0.9)
    return finish(b, name, ABOVE_TABLE)


__all__ = ["BlockGeom", "BottleGeom", "CanGeom", "ContainerGeom", "CupGeom", "DiscGeom", "HammerGeom", "PotGeom",
           "build_block", "build_bottle", "build_can", "build_container", "build_cup", "build_disc", "build_hammer",
           "build_pad", "build_pot"]
