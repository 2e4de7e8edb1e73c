"""The static scene around the robots: table, backdrop, pedestals, distractors, and the per-episode setting draws.

ManiSkill's table helper only knows its own layouts (robots facing each other), so the dual-arm table is built
here. Geometry (world frame, metres): the table top spans x in [-0.35, 0.35] (depth, away from the robots) and
y in [-0.6, 0.6] (width), its top at z = 0.74; both arm bases stand behind the near edge facing +x.

A setting is drawn per episode from its own RNG stream (seeded by the episode seed), separate from the task's
object-pose stream, so clean and randomized episodes of the same seed place the task objects identically in xy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sapien
from mani_skill.envs.scene import ManiSkillScene
from mani_skill.utils.structs.actor import Actor

TABLE_LENGTH = 1.2  # along y (left-right as the robots see it)
TABLE_DEPTH = 0.7  # along x (away from the robots)
TABLE_HEIGHT = 0.74
TABLE_FRICTION = 0.5
TABLE_THICKNESS = 0.04

#: Arm base positions (left arm on the robots' left = +y), on pedestals behind the table's near edge.
LEFT_BASE = np.array([-0.5, 0.3, TABLE_HEIGHT])
RIGHT_BASE = np.array([-0.5, -0.3, TABLE_HEIGHT])

CLEAN_TABLE_RGB = (0.62, 0.52, 0.42)
CLEAN_BACKDROP_RGB = (0.85, 0.85, 0.88)
CLEAN_GROUND_RGB = (0.35, 0.35, 0.38)

MAX_DISTRACTORS = 4
#: Where parked (unused) distractors rest: on the ground, behind the backdrop, out of every camera's view.
_PARK_X = 2.0


@dataclass
class SettingDraw:
    """Everything a setting changes in one episode."""

    table_dz: float = 0.0
    table_rgb: tuple[float, float, float] = CLEAN_TABLE_RGB
    backdrop_rgb: tuple[float, float, float] = CLEAN_BACKDROP_RGB
    ground_rgb: tuple[float, float, float] = CLEAN_GROUND_RGB
    light_rgb: tuple[float, float, float] = (1.0, 1.0, 1.0)
    distractors: list[tuple[int, float, float, float]] = field(default_factory=list)  # (index, x, y, yaw)


def draw_setting(setting: str, seed: int, region: tuple[float, float, float, float]) -> SettingDraw:
    """Draw the setting's randomisations for one episode.

    region: (x_min, x_max, y_min, y_max) of the table area where distractors may stand (the task keeps its own
        objects out of it).
    """
    if setting == "clean":
        return SettingDraw()
    if setting != "randomized":
        raise ValueError(f"unknown setting {setting!r}; expected 'clean' or 'randomized'")
    rng = np.random.default_rng([int(seed), 7919])
    draw = SettingDraw(
        table_dz=float(rng.uniform(-0.03, 0.0)),
        table_rgb=tuple(float(c) for c in rng.uniform(0.15, 0.95, 3)),
        backdrop_rgb=tuple(float(c) for c in rng.uniform(0.1, 1.0, 3)),
        ground_rgb=tuple(float(c) for c in rng.uniform(0.1, 0.8, 3)),
        light_rgb=tuple(float(c) for c in rng.uniform(0.6, 1.0, 3)),
    )
    n = int(rng.integers(1, MAX_DISTRACTORS + 1))
    x0, x1, y0, y1 = region
    taken: list[tuple[float, float]] = []
    for idx in rng.permutation(MAX_DISTRACTORS)[:n]:
        for _ in range(20):  # rejection-sample a spot clear of the other distractors
            x, y = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))
            if all((x - a) ** 2 + (y - b) ** 2 > 0.09**2 for a, b in taken):
                taken.append((x, y))
                draw.distractors.append((int(idx), x, y, float(rng.uniform(-np.pi, np.pi))))
                break
    return draw


def _material(rgb, roughness: float = 0.8) -> sapien.render.RenderMaterial:
    return sapien.render.RenderMaterial(base_color=[*rgb, 1.0], roughness=roughness)


def build_static_box(scene: ManiSkillScene, name: str, half: tuple, pose: sapien.Pose, rgb, collide: bool = True,
                     kinematic: bool = False) -> Actor:
    b = scene.create_actor_builder()
    if collide:
        mat = sapien.pysapien.physx.PhysxMaterial(TABLE_FRICTION, TABLE_FRICTION, 0.0)
        b.add_box_collision(half_size=half, material=mat)
    b.add_box_visual(half_size=half, material=_material(rgb))
    b.initial_pose = pose
    return b.build_kinematic(name=name) if kinematic else b.build_static(name=name)


def _distractor(scene: ManiSkillScene, i: int) -> Actor:
    """A small everyday-sized shape: boxes and cylinders of varied proportions and colours."""
    colors = [(0.9, 0.8, 0.2), (0.3, 0.7, 0.9), (0.8, 0.4, 0.7), (0.5, 0.8, 0.5)]
    b = scene.create_actor_builder()
    if i % 2 == 0:
        half = [0.03, 0.02 + 0.01 * i, 0.025 + 0.005 * i]
        b.add_box_collision(half_size=half)
        b.add_box_visual(half_size=half, material=_material(colors[i % 4]))
        z = half[2]
    else:
        r, hl = 0.02 + 0.004 * i, 0.04
        # SAPIEN cylinders lie along x; rotate to stand upright.
        up = sapien.Pose(q=[0.70710678, 0, 0.70710678, 0])
        b.add_cylinder_collision(pose=up, radius=r, half_length=hl)
        b.add_cylinder_visual(pose=up, radius=r, half_length=hl, material=_material(colors[i % 4]))
        z = hl
    b.initial_pose = sapien.Pose(p=[_PARK_X, -1.0 + 0.4 * i, z + 0.001])
    actor = b.build(name=f"distractor_{i}")
    actor._ahabench_half_height = z  # resting height above the surface, for placing it
    return actor


class TableScene:
    """Builds and re-dresses the table scene; owned by :class:`ahabench.envs.base.DualArmTableEnv`."""

    def __init__(self, scene: ManiSkillScene):
        self.scene = scene
        self.table = build_static_box(
            scene, "table", (TABLE_DEPTH / 2, TABLE_LENGTH / 2, TABLE_THICKNESS / 2),
            sapien.Pose(p=[0, 0, TABLE_HEIGHT - TABLE_THICKNESS / 2]), CLEAN_TABLE_RGB, kinematic=True,
        )
        # Legs are visual only (nothing reaches under the table); they make the head view read as a table.
        for sx in (-1, 1):
            for sy in (-1, 1):
                leg_h = (TABLE_HEIGHT - TABLE_THICKNESS) / 2
                build_static_box(scene, f"table_leg_{sx}_{sy}", (0.025, 0.025, leg_h),
                                 sapien.Pose(p=[sx * 0.3, sy * 0.55, leg_h]), (0.3, 0.3, 0.3), collide=False)
        self.ground = build_static_box(scene, "ground", (1.5, 1.5, 0.01), sapien.Pose(p=[0.3, 0, -0.01]),
                                       CLEAN_GROUND_RGB)
        self.backdrop = build_static_box(scene, "backdrop", (0.01, 1.5, 1.0), sapien.Pose(p=[1.0, 0, 1.0]),
                                         CLEAN_BACKDROP_RGB, collide=False)
        for name, base in (("left", LEFT_BASE), ("right", RIGHT_BASE)):
            h = base[2] / 2
            build_static_box(scene, f"pedestal_{name}", (0.1, 0.1, h - 0.005),
                             sapien.Pose(p=[base[0], base[1], h - 0.005]), (0.2, 0.2, 0.22), collide=False)
        self.distractors = [_distractor(scene, i) for i in range(MAX_DISTRACTORS)]
        self.top_z = TABLE_HEIGHT

    def apply(self, draw: SettingDraw) -> None:
        """Re-dress the scene for one episode (colours, table height, distractors, light colour)."""
        self.top_z = TABLE_HEIGHT + draw.table_dz
        self.table.set_pose(sapien.Pose(p=[0, 0, self.top_z - TABLE_THICKNESS / 2]))
        for actor, rgb in ((self.table, draw.table_rgb), (self.backdrop, draw.backdrop_rgb),
                           (self.ground, draw.ground_rgb)):
            set_color(actor, rgb)
        placed = {i: (x, y, yaw) for i, x, y, yaw in draw.distractors}
        for i, actor in enumerate(self.distractors):
            zh = actor._ahabench_half_height
            if i in placed:
                x, y, yaw = placed[i]
                pose = sapien.Pose(p=[x, y, self.top_z + zh + 0.001], q=[np.cos(yaw / 2), 0, 0, np.sin(yaw / 2)])
            else:
                pose = sapien.Pose(p=[_PARK_X, -1.0 + 0.4 * i, zh + 0.001])
            actor.set_pose(pose)
            actor.set_linear_velocity(np.zeros(3))
            actor.set_angular_velocity(np.zeros(3))
        if self.scene.can_render():
            for sub in self.scene.sub_scenes:
                for ent in sub.entities:
                    light = ent.find_component_by_type(sapien.render.RenderDirectionalLightComponent)
                    if light is not None:
                        light.color = list(draw.light_rgb)


def set_color(actor: Actor, rgb) -> None:
    """Set the base colour of every visual shape of an actor (no-op without a renderer)."""
    for obj in actor._objs:
        body = obj.find_component_by_type(sapien.render.RenderBodyComponent)
        if body is None:
            continue
        for shape in body.render_shapes:
            parts = shape.parts if hasattr(shape, "parts") else [shape]
            for part in parts:
                part.material.set_base_color([*rgb, 1.0])
