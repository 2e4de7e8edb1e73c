"""Scripted-expert primitives for the dual-arm table: grasp, lift, place, release, retreat, move both arms, and
the grasp-then-place skeletons the task experts share (``transfer``; deterministic ``pick_up`` / ``put_down``).

An expert is a Python generator of 16-D absolute joint-target actions at the control rate. The harness may pull
up to ~64 actions ahead of execution (the expert is served as a policy through the simulated clock), so:

- every stage plans from the last *commanded* configuration (``self.q``), never from the measured qpos;
- targets come from object poses that are stable before contact: read poses once, at the start, and derive
  place targets from the *planned* grasp (``Grasp.object_to_tcp``), not from where an object is mid-transport.

Run closed-loop (one pull, one step) the same generator still works: it never reads state after the start
unless a task asks for it explicitly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import sapien

from ahabench.envs.robot import GRIPPER_CLOSED, GRIPPER_OPEN
from ahabench.envs.scene import TABLE_DEPTH, TABLE_LENGTH
from ahabench.experts.planner import ArmPlanner

logger = logging.getLogger(__name__)

LEFT, RIGHT = 0, 1
Actions = Iterator[np.ndarray]
#: Place-goal turns worth trying for objects with a square footprint (cubes).
CUBE_YAWS = (0.0, np.pi / 2, -np.pi / 2, np.pi)


class ExpertFailure(RuntimeError):
    """The expert could not plan a stage (the episode is then unsolved by the expert)."""


def top_down_pose(center, closing_yaw: float) -> sapien.Pose:
    """TCP pose pointing straight down at ``center``, fingers closing along world direction ``closing_yaw``."""
    approach = np.array([0.0, 0.0, -1.0])
    closing = np.array([np.cos(closing_yaw), np.sin(closing_yaw), 0.0])
    ortho = np.cross(closing, approach)
    T = np.eye(4)
    T[:3, :3] = np.stack([ortho, closing, approach], axis=1)
    T[:3, 3] = center
    return sapien.Pose(T)


def yaw_candidates(object_yaw: float, symmetry: int = 4, preferred: float = np.pi / 2) -> list[float]:
    """Closing directions matching an object's faces (``symmetry`` = faces per turn), nearest-first to
    ``preferred`` (closing along world y keeps the wrist near its rest angle). Gripper yaw is mod pi."""
    cands = [object_yaw + k * 2 * np.pi / symmetry for k in range(symmetry)]
    def dist(a: float) -> float:
        d = (a - preferred) % np.pi
        return min(d, np.pi - d)
    uniq: list[float] = []
    for a in sorted(cands, key=dist):
        a = (a + np.pi / 2) % np.pi - np.pi / 2
        if all(abs(((a - b) + np.pi / 2) % np.pi - np.pi / 2) > 1e-3 for b in uniq):
            uniq.append(a)
    return uniq


@dataclass
class Grasp:
    """A planned grasp: the TCP pose at closing and the object's pose then (both world frame)."""

    arm: int
    tcp: sapien.Pose
    object_pose: sapien.Pose

    @property
    def object_to_tcp(self) -> sapien.Pose:
        """The object's pose in the TCP frame, assumed rigid while held."""
        return self.tcp.inv() * self.object_pose

    def tcp_for_object_at(self, object_pose: sapien.Pose) -> sapien.Pose:
        """TCP pose that puts the held object at ``object_pose``."""
        return object_pose * self.object_to_tcp.inv()

    def tcp_for_object_position(self, p) -> sapien.Pose:
        """TCP pose that moves the held object to position ``p`` keeping the grasp's orientation (no wrist turn)."""
        delta = np.asarray(p, dtype=np.float64) - np.asarray(self.object_pose.p)
        return sapien.Pose(np.asarray(self.tcp.p) + delta, self.tcp.q)


@dataclass
class GraspPlan:
    """A chosen top-down grasp with the exact joint paths that reach it (see :meth:`DualArmExpert.plan_grasp`)."""

    tcp: sapien.Pose
    to_pre: np.ndarray  # (n, 7) rest -> pre-grasp
    approach: np.ndarray  # (m, 7) pre-grasp -> grasp, a straight descent


class DualArmExpert:
    """Stateful action builder over the two arms; every primitive is a generator of 16-D actions.

    env: a :class:`ahabench.envs.base.DualArmTableEnv` right after reset (read once, here).
    """

    def __init__(self, env, vel_scale: float = 1.8, settle_steps: int = 3, gripper_steps: int = 8):
        self.env = env
        self.dt = 1.0 / env.control_freq
        self.settle_steps = settle_steps
        self.gripper_steps = gripper_steps
        self.planners: list[ArmPlanner] = []
        for arm in env.arms:
            robot = arm.robot
            pose = robot.pose.sp if hasattr(robot.pose, "sp") else robot.pose
            self.planners.append(ArmPlanner(
                sapien.Pose(np.asarray(pose.p).reshape(-1)[:3], np.asarray(pose.q).reshape(-1)[:4]), self.dt,
                [link.get_name() for link in robot.get_links()],
                [j.get_name() for j in robot.get_active_joints()], vel_scale=vel_scale))
        q16 = env.qpos16()
        self.q = [q16[0:7].astype(np.float64), q16[8:15].astype(np.float64)]
        self.g = [float(q16[7]), float(q16[15])]
        self.home = [q.copy() for q in self.q]
        top = env.table_top_z
        for p in self.planners:
            # Table top as an obstacle, 1 cm lower so fingertips may graze it at grasp height.
            p.add_box("table", (TABLE_DEPTH / 2, TABLE_LENGTH / 2, 0.05), sapien.Pose([0, 0, top - 0.05 - 0.01]))

    # ------------------------------------------------------------------ basics
    def action(self) -> np.ndarray:
        return np.concatenate([self.q[0], [self.g[0]], self.q[1], [self.g[1]]]).astype(np.float32)

    def tcp(self, arm: int) -> sapien.Pose:
        """World TCP pose at the arm's last commanded configuration."""
        return self.planners[arm].tcp_pose(self.q[arm])

    def hold(self, steps: int) -> Actions:
        for _ in range(steps):
            yield self.action()

    def follow(self, arm: int, path: np.ndarray) -> Actions:
        for q in path:
            self.q[arm] = np.asarray(q, dtype=np.float64)
            yield self.action()

    def _plan(self, arm: int, goal: sapien.Pose, screw_only: bool = False) -> np.ndarray:
        path = self.planners[arm].plan(self.q[arm], goal, screw_only=screw_only)
        if path is None:
            raise ExpertFailure(f"arm {arm}: no path to {goal}")
        return path

    # ------------------------------------------------------------------ motions
    def move_to_pose(self, arm: int, goal: sapien.Pose, screw_only: bool = False, settle: int | None = None) -> Actions:
        """Move one arm's TCP to ``goal`` (screw, RRT fallback), then hold a few steps to let the PD settle."""
        yield from self.follow(arm, self._plan(arm, goal, screw_only))
        yield from self.hold(self.settle_steps if settle is None else settle)

    def move_both(self, goals: Sequence[sapien.Pose | None], screw_only: bool = False) -> Actions:
        """Move both arms at once (``None`` keeps an arm still); the shorter path waits at its end."""
        paths = [self._plan(a, g, screw_only) if g is not None else self.q[a][None] for a, g in enumerate(goals)]
        n = max(len(p) for p in paths)
        for i in range(n):
            for a, p in enumerate(paths):
                self.q[a] = np.asarray(p[min(i, len(p) - 1)], dtype=np.float64)
            yield self.action()
        yield from self.hold(self.settle_steps)

    def move_home(self, arm: int) -> Actions:
        """Back to the arm's configuration at reset, in joint space."""
        path = self.planners[arm].plan_qpos(self.q[arm], self.home[arm])
        if path is None:
            raise ExpertFailure(f"arm {arm}: no path home")
        yield from self.follow(arm, path)
        yield from self.hold(self.settle_steps)

    def set_gripper(self, arm: int, target: float, steps: int | None = None) -> Actions:
        self.g[arm] = float(target)
        yield from self.hold(self.gripper_steps if steps is None else steps)

    def open_gripper(self, arm: int, steps: int | None = None) -> Actions:
        yield from self.set_gripper(arm, GRIPPER_OPEN, steps)

    def close_gripper(self, arm: int, steps: int | None = None) -> Actions:
        yield from self.set_gripper(arm, GRIPPER_CLOSED, steps)

    # ------------------------------------------------------------------ manipulation
    def choose_top_grasp(self, arm: int, center, object_yaw: float, symmetry: int = 4,
                         pre_height: float = 0.08, preferred: float = np.pi / 2) -> sapien.Pose:
        """The first top-down grasp (over the object's face directions, nearest to closing along world
        direction ``preferred`` first) whose pre-grasp the arm reaches from its commanded configuration and
        whose grasp it then reaches with a collision-free straight (screw) approach."""
        for yaw in yaw_candidates(object_yaw, symmetry, preferred):
            g = top_down_pose(center, yaw)
            pre = sapien.Pose([0, 0, pre_height]) * g
            path = self.planners[arm].plan(self.q[arm], pre)
            if path is None:
                continue
            if self.planners[arm].plan_screw(path[-1], g) is not None:
                return g
        raise ExpertFailure(f"arm {arm}: no reachable top-down grasp at {np.round(center, 3)}")

    def grasp(self, arm: int, tcp_goal: sapien.Pose, object_pose: sapien.Pose, pre_height: float = 0.08) -> Actions:
        """Pre-grasp above, straight approach, close. Sets ``self.last_grasp``."""
        pre = sapien.Pose([0, 0, pre_height]) * tcp_goal
        yield from self.open_gripper(arm, steps=0)
        yield from self.move_to_pose(arm, pre)
        yield from self.move_to_pose(arm, tcp_goal, screw_only=True)
        yield from self.close_gripper(arm)
        self.last_grasp = Grasp(arm, tcp_goal, object_pose)

    def lift(self, arm: int, height: float = 0.1) -> Actions:
        """Raise the TCP straight up by ``height`` from its commanded pose."""
        yield from self.move_to_pose(arm, sapien.Pose([0, 0, height]) * self.tcp(arm))

    def place(self, arm: int, tcp_goal: sapien.Pose, above: float = 0.06, release: bool = True,
              retreat: float = 0.08, alt_yaws: Sequence[float] = (0.0,)) -> Actions:
        """Carry to above ``tcp_goal``, descend straight, release, retreat straight up.

        alt_yaws: turns of the goal about the vertical through the TCP to try in order when the previous one
            cannot be planned (for objects symmetric about that axis, e.g. cubes: (0, pi/2, -pi/2, pi)).
        """
        for i, d in enumerate(alt_yaws):
            goal = sapien.Pose(tcp_goal.p, (sapien.Pose(q=[np.cos(d / 2), 0, 0, np.sin(d / 2)])
                                            * sapien.Pose(q=tcp_goal.q)).q)
            over = sapien.Pose([0, 0, above]) * goal
            path = self.planners[arm].plan(self.q[arm], over)
            if path is not None and self.planners[arm].plan_screw(path[-1], goal) is not None:
                break
            if i == len(alt_yaws) - 1:
                raise ExpertFailure(f"arm {arm}: cannot place at {np.round(tcp_goal.p, 3)} (yaws {list(alt_yaws)})")
        yield from self.follow(arm, path)
        yield from self.hold(self.settle_steps)
        yield from self.move_to_pose(arm, goal, screw_only=True)
        if release:
            yield from self.release(arm)
            if retreat > 0:
                yield from self.retreat(arm, retreat)

    def release(self, arm: int) -> Actions:
        yield from self.open_gripper(arm)

    def retreat(self, arm: int, height: float = 0.08) -> Actions:
        """Back the TCP off straight up (world z)."""
        yield from self.move_to_pose(arm, sapien.Pose([0, 0, height]) * self.tcp(arm))

    def avoid_other_arm(self, arm: int, enable: bool = True, radius_scale: float = 1.0,
                        skip: tuple[str, ...] = ()) -> None:
        """Make ``arm``'s planner see the other arm (spheres on its links at its *commanded* configuration, so
        call it again after the other arm moves) as an obstacle; ``enable=False`` clears it."""
        other = 1 - arm
        if enable:
            self.planners[arm].set_other_arm(self.planners[other], self.q[other], radius_scale, skip)
        else:
            self.planners[arm].clear_other_arm()

    # ------------------------------------------------------------------ deterministic pick and place
    def plan_grasp(self, arm: int, grasps: Sequence[sapien.Pose], pre_height: float = 0.08) -> GraspPlan:
        """Pick the first TCP pose in ``grasps`` reachable from the arm's commanded configuration through a
        pre-grasp ``pre_height`` above it and a straight descent.

        Straight (screw) motions are tried for every candidate before any RRT fallback: screw paths are
        deterministic, RRT-Connect and mplib's IK are not, so a seed's expert run repeats exactly whenever the
        screw paths suffice. The two gripper yaws that differ by pi grasp alike but leave joint 7 at opposite
        ends of its range, so callers pass both.
        """
        planner = self.planners[arm]
        found: list[GraspPlan] = []
        for use_rrt in (False, True):
            for g in grasps:
                pre = sapien.Pose([0, 0, pre_height]) * g
                path = planner.plan_rrt(self.q[arm], pre) if use_rrt else planner.plan_screw(self.q[arm], pre)
                if path is None:
                    continue
                approach = planner.plan_screw(path[-1], g)
                if approach is not None:
                    found.append(GraspPlan(g, path, approach))
            if found:
                # Prefer the wrist (joint 7) nearest the middle of its +-2.9 rad range: a grasp that starts near
                # a joint-7 limit cannot turn on the way to the place pose.
                return min(found, key=lambda gp: abs(float(gp.approach[-1][6])))
        raise ExpertFailure(f"arm {arm}: none of {len(grasps)} top-down grasps is reachable")

    def execute_grasp(self, arm: int, plan: GraspPlan, object_pose: sapien.Pose) -> Actions:
        """Open, follow the planned paths, close; records ``self.last_grasp`` like :meth:`grasp`."""
        yield from self.open_gripper(arm, steps=0)
        yield from self.follow(arm, plan.to_pre)
        yield from self.hold(self.settle_steps)
        yield from self.follow(arm, plan.approach)
        yield from self.hold(self.settle_steps)
        yield from self.close_gripper(arm)
        self.last_grasp = Grasp(arm, plan.tcp, object_pose)

    def move_straight(self, arm: int, goal: sapien.Pose, settle: int | None = None, allow_rrt: bool = True) -> Actions:
        """Straight-line TCP motion to ``goal``, deterministic whenever possible.

        mplib 0.1.1's screw planner occasionally fails on a reachable goal for numerical reasons (a goal 1 mm
        away then plans fine), so before any RRT fallback the goal is retried with sub-millimetre offsets.
        """
        planner = self.planners[arm]
        for dz in (0.0, 0.0005, -0.0005, 0.001):
            path = planner.plan_screw(self.q[arm], sapien.Pose(np.asarray(goal.p) + [0.0, 0.0, dz], goal.q))
            if path is not None:
                break
        else:
            path = planner.plan_rrt(self.q[arm], goal) if allow_rrt else None
        if path is None:
            raise ExpertFailure(f"arm {arm}: no path to {goal}")
        yield from self.follow(arm, path)
        yield from self.hold(self.settle_steps if settle is None else settle)

    def pick_up(self, arm: int, grasps: Sequence[sapien.Pose], object_pose: sapien.Pose, lift: float) -> Actions:
        """:meth:`plan_grasp` over ``grasps``, grasp the object resting at ``object_pose``, lift it straight up by
        ``lift``; ``self.last_grasp`` holds the grasp for the place."""
        plan = self.plan_grasp(arm, grasps)
        yield from self.execute_grasp(arm, plan, object_pose)
        yield from self.move_straight(arm, sapien.Pose([0, 0, lift]) * self.last_grasp.tcp)

    def put_down(self, arm: int, target, above: float = 0.08, retreat: float = 0.08) -> Actions:
        """Carry the held object (``self.last_grasp``) to ``above`` over position ``target``, lower it straight
        onto it (never by RRT: a random path could knock things over), let go and back off ``retreat`` up."""
        grasp = self.last_grasp
        yield from self.move_straight(arm, grasp.tcp_for_object_position(target + [0, 0, above]))
        yield from self.move_straight(arm, grasp.tcp_for_object_position(target), allow_rrt=False)
        yield from self.release(arm)
        yield from self.move_straight(arm, sapien.Pose([0, 0, retreat]) * grasp.tcp_for_object_position(target))

    def transfer(self, arm: int, center, object_yaw: float, target, lift: float = 0.1,
                 preferred: float = np.pi / 2, alt_yaws: Sequence[float] = CUBE_YAWS) -> Actions:
        """Top-down grasp of the object resting with its centre at ``center`` (see :meth:`choose_top_grasp`),
        lift it by ``lift``, place its centre at ``target`` (:meth:`place`) and send the arm home."""
        g = self.choose_top_grasp(arm, center, object_yaw, preferred=preferred)
        yield from self.grasp(arm, g, sapien.Pose(center))
        yield from self.lift(arm, lift)
        yield from self.place(arm, self.last_grasp.tcp_for_object_position(target), alt_yaws=alt_yaws)
        yield from self.move_home(arm)
