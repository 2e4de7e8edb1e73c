"""click_bell's desk bell: an articulation whose button is a link on a sprung prismatic joint.

Like the rigid objects in :mod:`ahabench.tasks.robotwin.objects`, it is built from SAPIEN primitives with its
local origin at the centre of its bottom face, and its geometry lives in a frozen dataclass that the task's
success test and expert read too.
"""

from __future__ import annotations

from dataclasses import dataclass

import sapien

from ahabench.tasks.robotwin.shapes import BELOW_TABLE, UPRIGHT_Q, add_cylinder, grip_material, look, span


@dataclass(frozen=True)
class BellGeom:
    base_r: float = 0.055
    base_h: float = 0.014
    dome_r: float = 0.045          # sphere radius; its centre sits at base_h - dome_drop
    dome_drop: float = 0.006
    stem_r: float = 0.006
    button_r: float = 0.016        # the knob the gripper presses
    button_h: float = 0.012
    rest_gap: float = 0.012        # stem length visible above the dome at rest = joint travel
    press_depth: float = 0.006     # joint displacement that counts as a click

    @property
    def dome_top(self) -> float:
        return self.base_h - self.dome_drop + self.dome_r

    @property
    def button_top(self) -> float:
        """Height of the knob's top face at rest, above the bell's bottom."""
        return self.dome_top + self.rest_gap + self.button_h


def build_bell(scene, name: str, geom: BellGeom | None = None, color=(0.8, 0.65, 0.2), base_color=(0.12, 0.12, 0.12),
               button_color=(0.75, 0.75, 0.78), park: sapien.Pose = BELOW_TABLE):
    """Return the bell articulation: a fixed root (base + dome) and a ``button`` link whose joint
    ``button_joint`` slides along the bell's z axis, 0 at rest down to -rest_gap, held up by a spring."""
    geom = geom or BellGeom()
    art = scene.create_articulation_builder()
    base = art.create_link_builder()
    base.set_name("bell_base")
    add_cylinder(base, *span(0.0, geom.base_h), geom.base_r, base_color, 2000.0, grip=True)
    dome_pose = sapien.Pose([0.0, 0.0, geom.base_h - geom.dome_drop])
    base.add_sphere_collision(pose=dome_pose, radius=geom.dome_r, material=grip_material(True))
    base.add_sphere_visual(pose=dome_pose, radius=geom.dome_r, material=look(color))

    button = art.create_link_builder(base)
    button.set_name("bell_button")
    # Button frame origin = the knob's bottom face at rest; the stem reaches down into the dome.
    add_cylinder(button, *span(-geom.rest_gap - 0.01, 0.0), geom.stem_r, button_color, 500.0, collision=False)
    add_cylinder(button, *span(0.0, geom.button_h), geom.button_r, button_color, 500.0, grip=True)
    # Prismatic joints move along the joint frame's x axis; UPRIGHT_Q turns that x into world +z.
    button.set_joint_name("button_joint")
    button.set_joint_properties(
        type="prismatic",
        limits=[[-geom.rest_gap, 0.0]],
        pose_in_parent=sapien.Pose([0.0, 0.0, geom.dome_top + geom.rest_gap], UPRIGHT_Q),
        pose_in_child=sapien.Pose([0.0, 0.0, 0.0], UPRIGHT_Q),
        friction=0.0,
        damping=0.0,
    )
    art.set_initial_pose(park)
    bell = art.build(name=name, fix_root_link=True)
    # The spring: a position drive towards 0 (rest), soft enough for a gripper to push through.
    joint = bell.active_joints[0]
    joint.set_drive_properties(stiffness=300.0, damping=10.0)
    joint.set_drive_target(0.0)
    return bell
