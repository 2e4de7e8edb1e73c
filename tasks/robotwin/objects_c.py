"""Object builders for place_container_plate, place_empty_cup, beat_block_hammer and move_can_pot.

RoboTwin's own meshes cannot be downloaded here, so every object is rebuilt from SAPIEN primitives at
a faithful scale: compound actors of boxes and cylinders, one rigid body each. All builders return a
ManiSkill ``Actor`` whose local frame has its origin at the centre of the object's footprint on its
support surface (z = 0 is the bottom), so ``pose.p[2] == table_top_z`` places an object flat on the table.

SAPIEN's cylinders lie along their local x axis; :data:`UPRIGHT` turns them to stand along z.
Each object's geometry (grasp points, heights) lives in a small frozen dataclass that the builder, the
task's success test and its scripted expert all read, so the three never disagree. The file closes with what
the four tasks share beyond objects: pose helpers (plain-pose conversion, yaw, batched quaternion rotation) and
expert helpers (:func:`plan_grasp` / :func:`execute_grasp`, :func:`move_straight`) that keep the experts'
motions deterministic (straight screw paths first, mplib's randomised RRT/IK only as a last resort).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import sapien
import sapien.render
import torch

#: Quaternion (wxyz) turning SAPIEN's x-aligned cylinder to stand along +z (rotation of -90 deg about y).
UPRIGHT = sapien.Pose(q=[math.cos(-math.pi / 4), 0.0, math.sin(-math.pi / 4), 0.0])


def _mat(color: Sequence[float], roughness: float = 0.6, metallic: float = 0.0) -> sapien.render.RenderMaterial:
    rgba = list(color) + [1.0] * (4 - len(color))
    return sapien.render.RenderMaterial(base_color=rgba, roughness=roughness, metallic=metallic)


def _upright_cyl(builder, z_center: float, radius: float, half_height: float, color, density: float,
                 collision: bool = True) -> None:
    """Add a cylinder standing along z with its centre at height ``z_center`` in the actor frame."""
    pose = sapien.Pose(p=[0.0, 0.0, z_center], q=UPRIGHT.q)
    if collision:
        builder.add_cylinder_collision(pose=pose, radius=radius, half_length=half_height, density=density)
    builder.add_cylinder_visual(pose=pose, radius=radius, half_length=half_height, material=_mat(color))


def _ring(builder, radius: float, thickness: float, z0: float, height: float, segments: int, color,
          density: float) -> None:
    """A thin vertical wall of ``segments`` boxes around the z axis, inner radius ``radius``.

    A ring of boxes is how a hollow cup/pot wall is approximated with convex shapes; a small overlap
    between neighbours (5%) keeps the wall closed so nothing slips through the seams.
    """
    r_mid = radius + thickness / 2
    half_len = r_mid * math.tan(math.pi / segments) * 1.05
    for i in range(segments):
        a = 2 * math.pi * i / segments
        q = [math.cos(a / 2), 0.0, 0.0, math.sin(a / 2)]
        pose = sapien.Pose(p=[r_mid * math.cos(a), r_mid * math.sin(a), z0 + height / 2], q=q)
        half = [thickness / 2, half_len, height / 2]
        builder.add_box_collision(pose=pose, half_size=half, density=density)
        builder.add_box_visual(pose=pose, half_size=half, material=_mat(color))


# --------------------------------------------------------------------------------------------- plate


@dataclass(frozen=True)
class PlateGeom:
    radius: float = 0.10
    thickness: float = 0.012


def build_plate(scene, name: str, geom: PlateGeom = PlateGeom(), color=(0.92, 0.92, 0.88)):
    """A flat round dinner plate: a thick disc with a contrasting inner disc painted on top."""
    b = scene.create_actor_builder()
    _upright_cyl(b, geom.thickness / 2, geom.radius, geom.thickness / 2, color, density=800)
    # Painted centre (visual only) so the plate reads as a plate, not a puck, from the head camera.
    pose = sapien.Pose(p=[0, 0, geom.thickness + 1e-4], q=UPRIGHT.q)
    b.add_cylinder_visual(pose=pose, radius=geom.radius * 0.7, half_length=1e-4, material=_mat((0.8, 0.85, 0.9)))
    b.set_initial_pose(sapien.Pose(p=[0, 0, 1.0]))
    return b.build(name=name)


# ----------------------------------------------------------------------------------------- container


@dataclass(frozen=True)
class ContainerGeom:
    """An open box-shaped food container (tupperware), walls thin enough to grasp by the rim."""

    half_x: float = 0.055
    half_y: float = 0.045
    height: float = 0.055
    wall: float = 0.01
    floor: float = 0.008


def build_container(scene, name: str, geom: ContainerGeom = ContainerGeom(), color=(0.2, 0.55, 0.85)):
    """Floor plus four walls; the two short walls (normal along local x) are the grasp rims."""
    g = geom
    b = scene.create_actor_builder()
    dens = 500

    def box(p, half):
        b.add_box_collision(pose=sapien.Pose(p=p), half_size=half, density=dens)
        b.add_box_visual(pose=sapien.Pose(p=p), half_size=half, material=_mat(color, roughness=0.3))

    box([0, 0, g.floor / 2], [g.half_x, g.half_y, g.floor / 2])
    wall_h = g.height - g.floor
    zc = g.floor + wall_h / 2
    for s in (-1, 1):
        box([s * (g.half_x - g.wall / 2), 0, zc], [g.wall / 2, g.half_y, wall_h / 2])
        box([0, s * (g.half_y - g.wall / 2), zc], [g.half_x - g.wall, g.wall / 2, wall_h / 2])
    b.set_initial_pose(sapien.Pose(p=[0, 0, 1.0]))
    return b.build(name=name)


# ------------------------------------------------------------------------------------- cup and coaster


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


def build_cup(scene, name: str, geom: CupGeom = CupGeom(), color=(0.95, 0.6, 0.2)):
    """An empty mug: floor disc, a 16-segment wall and a handle on local +x."""
    g = geom
    b = scene.create_actor_builder()
    _upright_cyl(b, g.floor / 2, g.outer_radius, g.floor / 2, color, density=700)
    _ring(b, g.radius, g.wall, g.floor, g.height - g.floor, 16, color, density=700)
    # Handle: two short horizontal struts and a vertical grip, a C shape on +x.
    hx = g.outer_radius + g.handle_out / 2
    t = 0.005
    for z in (0.065, 0.025):
        p = sapien.Pose(p=[hx, 0, z])
        b.add_box_collision(pose=p, half_size=[g.handle_out / 2, t, t], density=700)
        b.add_box_visual(pose=p, half_size=[g.handle_out / 2, t, t], material=_mat(color))
    p = sapien.Pose(p=[g.outer_radius + g.handle_out - t, 0, 0.045])
    b.add_box_collision(pose=p, half_size=[t, t, 0.025], density=700)
    b.add_box_visual(pose=p, half_size=[t, t, 0.025], material=_mat(color))
    b.set_initial_pose(sapien.Pose(p=[0, 0, 1.0]))
    return b.build(name=name)


@dataclass(frozen=True)
class CoasterGeom:
    radius: float = 0.05
    thickness: float = 0.006


def build_coaster(scene, name: str, geom: CoasterGeom = CoasterGeom(), color=(0.45, 0.3, 0.2)):
    """A cork coaster: a thin disc."""
    b = scene.create_actor_builder()
    _upright_cyl(b, geom.thickness / 2, geom.radius, geom.thickness / 2, color, density=600)
    b.set_initial_pose(sapien.Pose(p=[0, 0, 1.0]))
    return b.build(name=name)


# ------------------------------------------------------------------------------------- hammer and block


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


def build_hammer(scene, name: str, geom: HammerGeom = HammerGeom()):
    g = geom
    b = scene.create_actor_builder()
    hp = sapien.Pose(p=g.handle_center.tolist())
    hh = [g.handle_half_len, g.handle_half_w, g.handle_half_w]
    b.add_box_collision(pose=hp, half_size=hh, density=700)
    b.add_box_visual(pose=hp, half_size=hh, material=_mat((0.55, 0.35, 0.15)))
    # The head is denser (steel) but kept light enough that a handle grasp does not pitch it out.
    ep = sapien.Pose(p=g.head_center.tolist())
    b.add_box_collision(pose=ep, half_size=list(g.head_half), density=1500)
    b.add_box_visual(pose=ep, half_size=list(g.head_half), material=_mat((0.35, 0.35, 0.4), 0.3, 0.8))
    b.set_initial_pose(sapien.Pose(p=[0, 0, 1.0]))
    return b.build(name=name)


def build_block(scene, name: str, half: float = 0.025, color=(0.85, 0.15, 0.15)):
    """The block to beat: a cube, heavy enough (dense wood) not to skid when the head lands on it."""
    b = scene.create_actor_builder()
    p = sapien.Pose(p=[0, 0, half])
    b.add_box_collision(pose=p, half_size=[half] * 3, density=1200)
    b.add_box_visual(pose=p, half_size=[half] * 3, material=_mat(color))
    b.set_initial_pose(sapien.Pose(p=[0, 0, 1.0]))
    return b.build(name=name)


# ------------------------------------------------------------------------------------------ can and pot


@dataclass(frozen=True)
class CanGeom:
    radius: float = 0.03
    height: float = 0.11  # body height, the cap sits on top
    cap_radius: float = 0.024
    cap_height: float = 0.008

    @property
    def total_height(self) -> float:
        return self.height + self.cap_height


def build_can(scene, name: str, geom: CanGeom = CanGeom(), color=(0.8, 0.1, 0.1)):
    """A drink can: a cylinder body with a narrower metallic lid on top."""
    g = geom
    b = scene.create_actor_builder()
    _upright_cyl(b, g.height / 2, g.radius, g.height / 2, color, density=400)
    pose = sapien.Pose(p=[0, 0, g.height + g.cap_height / 2], q=UPRIGHT.q)
    b.add_cylinder_collision(pose=pose, radius=g.cap_radius, half_length=g.cap_height / 2, density=400)
    b.add_cylinder_visual(pose=pose, radius=g.cap_radius, half_length=g.cap_height / 2,
                          material=_mat((0.75, 0.75, 0.78), 0.3, 0.9))
    b.set_initial_pose(sapien.Pose(p=[0, 0, 1.0]))
    return b.build(name=name)


@dataclass(frozen=True)
class PotGeom:
    """A cooking pot: floor, 20-segment wall, two side handles along local +-y."""

    radius: float = 0.085  # inner wall radius
    wall: float = 0.006
    height: float = 0.09
    floor: float = 0.01
    handle_len: float = 0.035
    handle_half_w: float = 0.02

    @property
    def outer_radius(self) -> float:
        return self.radius + self.wall


def build_pot(scene, name: str, geom: PotGeom = PotGeom(), color=(0.25, 0.25, 0.28)):
    g = geom
    b = scene.create_actor_builder()
    # A dense floor keeps the pot from being nudged by a can set down beside it.
    _upright_cyl(b, g.floor / 2, g.outer_radius, g.floor / 2, color, density=4000)
    _ring(b, g.radius, g.wall, g.floor, g.height - g.floor, 20, color, density=2000)
    for s in (-1, 1):
        p = sapien.Pose(p=[0, s * (g.outer_radius + g.handle_len / 2 - 0.002), g.height - 0.015])
        half = [g.handle_half_w, g.handle_len / 2, 0.006]
        b.add_box_collision(pose=p, half_size=half, density=2000)
        b.add_box_visual(pose=p, half_size=half, material=_mat((0.1, 0.1, 0.1)))
    b.set_initial_pose(sapien.Pose(p=[0, 0, 1.0]))
    return b.build(name=name)


# ------------------------------------------------------------------------------------- pose helpers
def place_actor(actor, x: float, y: float, z: float, yaw: float = 0.0) -> None:
    """Put a dynamic actor at rest at (x, y, z) with a yaw about world z (z: its bottom face's height)."""
    actor.set_pose(sapien.Pose(p=[x, y, z], q=[math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]))
    actor.set_linear_velocity(torch.zeros(3))
    actor.set_angular_velocity(torch.zeros(3))


def sp_pose(pose) -> sapien.Pose:
    """First sub-scene's pose as a plain ``sapien.Pose``."""
    return sapien.Pose(pose.p[0].cpu().numpy().astype(np.float64), pose.q[0].cpu().numpy().astype(np.float64))


def yaw_of(pose: sapien.Pose) -> float:
    w, x, y, z = pose.q
    return float(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))


def rot2(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s], [s, c]])


def rot3(yaw: float) -> np.ndarray:
    r = np.eye(3)
    r[:2, :2] = rot2(yaw)
    return r


def quat_apply(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate vector ``v`` (3,) by batched quaternions ``q`` (N, 4, wxyz)."""
    w, xyz = q[:, :1], q[:, 1:]
    v = v.expand_as(xyz)
    t = 2 * torch.cross(xyz, v, dim=1)
    return v + w * t + torch.cross(xyz, t, dim=1)



# ------------------------------------------------------------------------------------- expert helpers
@dataclass
class GraspPlan:
    """A chosen top-down grasp with the exact joint paths that reach it."""

    tcp: sapien.Pose
    to_pre: np.ndarray  # (n, 7) rest -> pre-grasp
    approach: np.ndarray  # (m, 7) pre-grasp -> grasp, a straight descent


def plan_grasp(ex, arm: int, grasps, pre_height: float = 0.08) -> GraspPlan:
    """Pick the first TCP pose in ``grasps`` reachable from the arm's commanded configuration through a
    pre-grasp ``pre_height`` above it and a straight descent.

    Straight (screw) motions are tried for every candidate before any RRT fallback: screw paths are
    deterministic, RRT-Connect and mplib's IK are not, so a seed's expert run repeats exactly whenever the
    screw paths suffice. The two gripper yaws that differ by pi grasp alike but leave joint 7 at opposite ends
    of its range, so callers pass both.
    """
    from ahabench.experts.primitives import ExpertFailure

    planner = ex.planners[arm]
    found: list[GraspPlan] = []
    for use_rrt in (False, True):
        for g in grasps:
            pre = sapien.Pose([0, 0, pre_height]) * g
            path = planner.plan_rrt(ex.q[arm], pre) if use_rrt else planner.plan_screw(ex.q[arm], pre)
            if path is None:
                continue
            approach = planner.plan_screw(path[-1], g)
            if approach is not None:
                found.append(GraspPlan(g, path, approach))
        if found:
            # Prefer the wrist (joint 7) nearest the middle of its +-2.9 rad range: a grasp that starts near a
            # joint-7 limit cannot turn on the way to the place pose.
            return min(found, key=lambda gp: abs(float(gp.approach[-1][6])))
    raise ExpertFailure(f"arm {arm}: none of {len(grasps)} top-down grasps is reachable")


def move_straight(ex, arm: int, goal: sapien.Pose, settle: int | None = None, allow_rrt: bool = True):
    """Straight-line TCP motion to ``goal``, deterministic whenever possible.

    mplib 0.1.1's screw planner occasionally fails on a reachable goal for numerical reasons (a goal 1 mm
    away then plans fine), so before any RRT fallback the goal is retried with sub-millimetre offsets.
    """
    from ahabench.experts.primitives import ExpertFailure

    planner = ex.planners[arm]
    for dz in (0.0, 0.0005, -0.0005, 0.001):
        path = planner.plan_screw(ex.q[arm], sapien.Pose(np.asarray(goal.p) + [0.0, 0.0, dz], goal.q))
        if path is not None:
            break
    else:
        path = planner.plan_rrt(ex.q[arm], goal) if allow_rrt else None
    if path is None:
        raise ExpertFailure(f"arm {arm}: no path to {goal}")
    yield from ex.follow(arm, path)
    yield from ex.hold(ex.settle_steps if settle is None else settle)


def execute_grasp(ex, arm: int, plan: GraspPlan, object_pose: sapien.Pose):
    """Open, follow the planned paths, close; records ``ex.last_grasp`` like the base's ``grasp``."""
    from ahabench.experts.primitives import Grasp

    yield from ex.open_gripper(arm, steps=0)
    yield from ex.follow(arm, plan.to_pre)
    yield from ex.hold(ex.settle_steps)
    yield from ex.follow(arm, plan.approach)
    yield from ex.hold(ex.settle_steps)
    yield from ex.close_gripper(arm)
    ex.last_grasp = Grasp(arm, plan.tcp, object_pose)
