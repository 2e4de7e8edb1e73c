"""Object builders for handover_block, lift_pot, pick_dual_bottles and click_bell.

RoboTwin's meshes cannot be downloaded here, so every object is rebuilt from SAPIEN primitives with
the shape and scale of the real thing: a tall block, a pot with a wall, a bottom and two handle tabs,
bottles with a body, a shoulder, a neck and a cap, and a desk bell whose button is a link on a
sprung prismatic joint. Every object's local origin is the centre of its *bottom* face, so a pose
with ``z = table_top`` stands it on the table. The geometry constants live in frozen dataclasses so
that the task's success test and its scripted expert read the same numbers.

The file closes with small helpers the four experts share (kept here rather than in a new module because
this is the one shared file of these tasks): gripper-yaw arithmetic for a two-finger hand, a side-grasp pose,
tilt/yaw of a body, path resampling for two arms carrying one object, and a deterministic IK-plus-joint-line
planner used before mplib's randomised RRT, so the experts' demonstrations repeat exactly from a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sapien
import sapien.physx as physx
import torch

# SAPIEN's cylinders lie along their local x axis; this rotation (-90 deg about y) stands them up.
_UPRIGHT_Q = [math.sqrt(0.5), 0.0, -math.sqrt(0.5), 0.0]


def _grip_material() -> physx.PhysxMaterial:
    # Painted wood, plastic and rubber grips: friction ~1 keeps grasps from slipping while the arms
    # accelerate (the table itself stays at RoboTwin's 0.5).
    return physx.PhysxMaterial(static_friction=1.0, dynamic_friction=1.0, restitution=0.0)


def _render(color) -> sapien.render.RenderMaterial:
    return sapien.render.RenderMaterial(base_color=[*color[:3], 1.0], roughness=0.6, metallic=0.0)


def _add_cylinder(builder, z_lo: float, z_hi: float, radius: float, color, density: float,
                  collision: bool = True) -> None:
    """A vertical cylinder from height z_lo to z_hi (object frame)."""
    pose = sapien.Pose([0.0, 0.0, 0.5 * (z_lo + z_hi)], _UPRIGHT_Q)
    half = 0.5 * (z_hi - z_lo)
    if collision:
        builder.add_cylinder_collision(pose=pose, radius=radius, half_length=half,
                                       material=_grip_material(), density=density)
    builder.add_cylinder_visual(pose=pose, radius=radius, half_length=half, material=_render(color))


def _add_box(builder, center, half_size, color, density: float, q=(1.0, 0.0, 0.0, 0.0)) -> None:
    pose = sapien.Pose(list(center), list(q))
    builder.add_box_collision(pose=pose, half_size=list(half_size), material=_grip_material(),
                              density=density)
    builder.add_box_visual(pose=pose, half_size=list(half_size), material=_render(color))


# --------------------------------------------------------------------------------------------------
# handover_block: a tall block and a flat target pad
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BlockGeom:
    half_size: tuple[float, float, float] = (0.02, 0.02, 0.075)  # 4 x 4 x 15 cm, RoboTwin's tall box
    density: float = 300.0  # light wood: ~70 g


def build_block(scene, name: str, geom: BlockGeom = BlockGeom(), color=(0.85, 0.2, 0.15),
                park: sapien.Pose = sapien.Pose([0.0, 0.0, -2.0])):
    builder = scene.create_actor_builder()
    hx, hy, hz = geom.half_size
    _add_box(builder, (0.0, 0.0, hz), (hx, hy, hz), color, geom.density)
    builder.set_initial_pose(park)
    return builder.build(name=name)


def build_pad(scene, name: str, half_size: float = 0.05, color=(0.2, 0.35, 0.85),
              park: sapien.Pose = sapien.Pose([0.0, 0.0, -2.0])):
    """A flat coloured square on the table, visual only (kinematic, no collision)."""
    builder = scene.create_actor_builder()
    builder.add_box_visual(pose=sapien.Pose([0.0, 0.0, 0.0005]),
                           half_size=[half_size, half_size, 0.0005], material=_render(color))
    builder.set_initial_pose(park)
    return builder.build_kinematic(name=name)


# --------------------------------------------------------------------------------------------------
# lift_pot: a pot with a wall of box staves, a bottom disc and two handle tabs along local +-y
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PotGeom:
    radius: float = 0.085        # outer radius of the wall
    wall: float = 0.008          # wall thickness
    height: float = 0.10         # bottom to rim
    bottom: float = 0.012        # bottom thickness
    staves: int = 16             # wall segments (a polygonal cylinder; collisions stay convex)
    handle_len: float = 0.055    # how far each tab sticks out of the wall
    handle_width: float = 0.03   # across the tab (the fingers close across it)
    handle_thick: float = 0.014  # tab thickness
    handle_z: float = 0.088      # tab centre height above the pot's bottom
    density: float = 550.0       # ~0.3 kg

    @property
    def handle_center_r(self) -> float:
        """Distance from the pot axis to the centre of a handle tab."""
        return self.radius + 0.5 * self.handle_len

    def handle_local(self, side: int) -> np.ndarray:
        """Handle tab centre in the pot frame; side +1 is the tab on local +y, -1 on local -y."""
        return np.array([0.0, side * self.handle_center_r, self.handle_z])


def build_pot(scene, name: str, geom: PotGeom = PotGeom(), color=(0.25, 0.27, 0.3),
              handle_color=(0.08, 0.08, 0.08),
              park: sapien.Pose = sapien.Pose([0.0, 0.0, -2.0])):
    builder = scene.create_actor_builder()
    _add_cylinder(builder, 0.0, geom.bottom, geom.radius, color, geom.density)
    # Staves: n boxes tangent to the circle, slightly overlapping so the wall has no gaps.
    r_mid = geom.radius - 0.5 * geom.wall
    half_w = r_mid * math.tan(math.pi / geom.staves) * 1.05
    z_mid = 0.5 * (geom.bottom + geom.height)
    half_h = 0.5 * (geom.height - geom.bottom)
    for i in range(geom.staves):
        a = 2.0 * math.pi * i / geom.staves
        q = [math.cos(a / 2), 0.0, 0.0, math.sin(a / 2)]
        _add_box(builder, (r_mid * math.cos(a), r_mid * math.sin(a), z_mid),
                 (0.5 * geom.wall, half_w, half_h), color, geom.density, q)
    for side in (-1, 1):
        # Tabs start inside the wall so they are welded to it.
        c = geom.handle_local(side)
        _add_box(builder, c - np.array([0.0, side * 0.004, 0.0]),
                 (0.5 * geom.handle_width, 0.5 * geom.handle_len + 0.004, 0.5 * geom.handle_thick),
                 handle_color, geom.density)
    builder.set_initial_pose(park)
    return builder.build(name=name)


# --------------------------------------------------------------------------------------------------
# pick_dual_bottles: body, shoulder, neck and cap cylinders
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BottleGeom:
    body_r: float = 0.028
    body_h: float = 0.13
    shoulder_r: float = 0.021
    shoulder_h: float = 0.015
    neck_r: float = 0.015
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


def build_bottle(scene, name: str, geom: BottleGeom = BottleGeom(), color=(0.3, 0.7, 0.4),
                 cap_color=(0.95, 0.95, 0.95),
                 park: sapien.Pose = sapien.Pose([0.0, 0.0, -2.0])):
    builder = scene.create_actor_builder()
    z = 0.0
    for h, r, c in ((geom.body_h, geom.body_r, color), (geom.shoulder_h, geom.shoulder_r, color),
                    (geom.neck_h, geom.neck_r, color), (geom.cap_h, geom.cap_r, cap_color)):
        _add_cylinder(builder, z, z + h, r, c, geom.density)
        z += h
    builder.set_initial_pose(park)
    return builder.build(name=name)


# --------------------------------------------------------------------------------------------------
# click_bell: a desk bell, its button on a sprung prismatic joint
# --------------------------------------------------------------------------------------------------
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


def build_bell(scene, name: str, geom: BellGeom = BellGeom(), color=(0.8, 0.65, 0.2),
               base_color=(0.12, 0.12, 0.12), button_color=(0.75, 0.75, 0.78),
               park: sapien.Pose = sapien.Pose([0.0, 0.0, -2.0])):
    """Return the bell articulation: a fixed root (base + dome) and a ``button`` link whose joint
    ``button_joint`` slides along the bell's z axis, 0 at rest down to -rest_gap, held up by a spring."""
    art = scene.create_articulation_builder()
    base = art.create_link_builder()
    base.set_name("bell_base")
    _add_cylinder(base, 0.0, geom.base_h, geom.base_r, base_color, 2000.0)
    dome_pose = sapien.Pose([0.0, 0.0, geom.base_h - geom.dome_drop])
    base.add_sphere_collision(pose=dome_pose, radius=geom.dome_r, material=_grip_material())
    base.add_sphere_visual(pose=dome_pose, radius=geom.dome_r, material=_render(color))

    button = art.create_link_builder(base)
    button.set_name("bell_button")
    # Button frame origin = the knob's bottom face at rest; the stem reaches down into the dome.
    _add_cylinder(button, -geom.rest_gap - 0.01, 0.0, geom.stem_r, button_color, 500.0,
                  collision=False)
    _add_cylinder(button, 0.0, geom.button_h, geom.button_r, button_color, 500.0)
    # Prismatic joints move along the joint frame's x axis; _UPRIGHT_Q turns that x into world +z.
    button.set_joint_name("button_joint")
    button.set_joint_properties(
        type="prismatic",
        limits=[[-geom.rest_gap, 0.0]],
        pose_in_parent=sapien.Pose([0.0, 0.0, geom.dome_top + geom.rest_gap], _UPRIGHT_Q),
        pose_in_child=sapien.Pose([0.0, 0.0, 0.0], _UPRIGHT_Q),
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


# --------------------------------------------------------------------------------------------------
# pose helpers shared by the four experts
# --------------------------------------------------------------------------------------------------
def closing_yaw_of(tcp: sapien.Pose) -> float:
    """World yaw of a TCP's closing direction (its local y axis projected on the table plane)."""
    y_axis = tcp.to_transformation_matrix()[:3, 1]
    return float(math.atan2(y_axis[1], y_axis[0]))


def nearest_equivalent_yaw(yaw: float, current: float) -> float:
    """The two-finger gripper is symmetric under a half turn: of ``yaw`` and ``yaw + pi`` return the one
    closer to ``current``, so a screw motion does not try to spin the wrist by 180 degrees."""
    best = yaw
    for cand in (yaw, yaw + math.pi, yaw - math.pi):
        if abs(_wrap(cand - current)) < abs(_wrap(best - current)):
            best = cand
    return _wrap(best)


def _wrap(a: float) -> float:
    return (a + math.pi) % (2.0 * math.pi) - math.pi


def side_pose(center, approach, closing) -> sapien.Pose:
    """TCP pose at ``center`` whose fingers point along ``approach`` and close along ``closing`` (world
    vectors, made orthonormal here): the TCP frame's z is the approach, y the closing direction."""
    z = np.asarray(approach, dtype=np.float64)
    z = z / np.linalg.norm(z)
    y = np.asarray(closing, dtype=np.float64)
    y = y - z * float(y @ z)
    y = y / np.linalg.norm(y)
    T = np.eye(4)
    T[:3, :3] = np.stack([np.cross(y, z), y, z], axis=1)
    T[:3, 3] = center
    return sapien.Pose(T)


def tilt_cos(q: torch.Tensor) -> torch.Tensor:
    """cos of the angle between a body's z axis and world z, from batched wxyz quaternions."""
    _, x, y, _ = q.unbind(-1)
    return 1.0 - 2.0 * (x * x + y * y)


def yaw_of(q) -> float:
    """Yaw (rad) of an upright body from its wxyz quaternion."""
    w, x, y, z = (float(v) for v in np.asarray(q).reshape(-1)[:4])
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def resample_path(path: np.ndarray, n: int) -> np.ndarray:
    """Stretch a joint path to ``n`` waypoints by linear interpolation along its index, so two arms moving
    one rigid object (a pot) start and stop together."""
    if len(path) == n:
        return path
    src = np.linspace(0.0, 1.0, len(path))
    dst = np.linspace(0.0, 1.0, n)
    return np.stack([np.interp(dst, src, path[:, j]) for j in range(path.shape[1])], axis=1)


def ik_near(planner, goal: sapien.Pose, seeds) -> np.ndarray | None:
    """A collision-free 7-joint IK solution for the world-frame TCP ``goal`` reached by damped
    least squares from each seed in turn (deterministic, unlike mplib's random restarts), or None.

    planner: an :class:`ahabench.experts.planner.ArmPlanner`.
    """
    mp = planner.planner
    local = planner.base_pose.inv() * goal
    pose7 = np.concatenate([np.asarray(local.p, dtype=np.float64), np.asarray(local.q, dtype=np.float64)])
    index = mp.link_name_2_idx[mp.move_group]
    for seed in seeds:
        q, ok, _ = mp.pinocchio_model.compute_IK_CLIK(index, pose7, planner._full(seed), [])
        q = np.asarray(q, dtype=np.float64)
        if not ok or not mp.wrap_joint_limit(q):
            continue
        mp.planning_world.set_qpos_all(q[mp.move_group_joint_indices])
        if len(mp.planning_world.collide_full()) == 0:
            return q[:7]
    return None


def joint_path(planner, q_from: np.ndarray, q_to: np.ndarray, max_step: float = 0.045) -> np.ndarray | None:
    """A straight joint-space path with a smooth (cosine) speed profile, at most ``max_step`` rad per
    control step on average; None if any waypoint collides in the planner's world."""
    q_from, q_to = np.asarray(q_from, dtype=np.float64), np.asarray(q_to, dtype=np.float64)
    n = max(2, int(np.ceil(np.abs(q_to - q_from).max() / max_step)))
    s = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n + 1)[1:])
    path = q_from[None] + s[:, None] * (q_to - q_from)[None]
    mp = planner.planner
    for q in path:
        mp.planning_world.set_qpos_all(planner._full(q)[mp.move_group_joint_indices])
        if len(mp.planning_world.collide_full()) != 0:
            return None
    return path


def plan_to(planner, q_start: np.ndarray, goal: sapien.Pose, seeds=()) -> np.ndarray | None:
    """Path to a world TCP pose, most predictable first: a straight screw motion; else a straight joint-space
    move to an IK solution found from ``q_start`` (then ``seeds``); else mplib's RRT-Connect (random)."""
    path = planner.plan_screw(q_start, goal)
    if path is not None:
        return path
    q_goal = ik_near(planner, goal, [q_start, *seeds])
    if q_goal is not None:
        path = joint_path(planner, q_start, q_goal)
        if path is not None:
            return path
    return planner.plan_rrt(q_start, goal)


def move_arm(ex, arm: int, goal: sapien.Pose, seeds=(), settle: int | None = None):
    """Generator: move one arm of a :class:`~ahabench.experts.primitives.DualArmExpert` to ``goal`` with
    :func:`plan_to` (screw, then IK + joint line, then RRT), then hold a few steps."""
    from ahabench.experts.primitives import ExpertFailure

    path = plan_to(ex.planners[arm], ex.q[arm], goal, seeds)
    if path is None:
        raise ExpertFailure(f"arm {arm}: no path to {goal}")
    yield from ex.follow(arm, path)
    yield from ex.hold(ex.settle_steps if settle is None else settle)


def move_arms(ex, goals, sync: bool = False):
    """Generator: move both arms at once with :func:`plan_to` (``None`` keeps an arm still). The shorter path
    waits at its end, or with ``sync`` both are stretched to the same duration (two hands on one object)."""
    from ahabench.experts.primitives import ExpertFailure

    paths = []
    for arm, goal in enumerate(goals):
        if goal is None:
            paths.append(ex.q[arm][None])
            continue
        path = plan_to(ex.planners[arm], ex.q[arm], goal)
        if path is None:
            raise ExpertFailure(f"arm {arm}: no path to {goal}")
        paths.append(path)
    n = max(len(p) for p in paths)
    if sync:
        paths = [resample_path(p, n) if len(p) > 1 else p for p in paths]
    for i in range(n):
        for arm, path in enumerate(paths):
            ex.q[arm] = np.asarray(path[min(i, len(path) - 1)], dtype=np.float64)
        yield ex.action()
    yield from ex.hold(ex.settle_steps)


def go_home(ex, arm: int):
    """Generator: back to the reset configuration along a straight joint-space line when it is collision-free
    (predictable), else with the expert's RRT ``move_home``."""
    path = joint_path(ex.planners[arm], ex.q[arm], ex.home[arm])
    if path is None:
        yield from ex.move_home(arm)
        return
    yield from ex.follow(arm, path)
    yield from ex.hold(ex.settle_steps)
