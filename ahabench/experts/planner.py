"""One mplib 0.1.1 motion planner per arm, working in the world frame.

Each arm gets its own planner with ``set_base_pose`` (mplib plans for one articulation; the two Pandas are two
articulations). Goals are world-frame poses of ``panda_hand_tcp``. A planner does not know the other arm: add it
as an obstacle (:meth:`ArmPlanner.set_other_arm`) when the arms share space (handovers).
"""

from __future__ import annotations

import logging

import mplib
import numpy as np
import sapien
from mplib.pymp.collision_detection import fcl

from ahabench.envs.robot import PLANNER_SRDF, PLANNER_URDF, TCP_LINK

logger = logging.getLogger(__name__)

#: Links approximated by a sphere when an arm is another arm's obstacle, with radii (m).
_OBSTACLE_LINKS = {"panda_link3": 0.08, "panda_link4": 0.08, "panda_link5": 0.08, "panda_link6": 0.07,
                   "panda_link7": 0.07, "panda_hand": 0.07, "panda_hand_tcp": 0.04}


def pose_to_7d(pose: sapien.Pose) -> np.ndarray:
    return np.concatenate([np.asarray(pose.p, dtype=np.float64), np.asarray(pose.q, dtype=np.float64)])


class ArmPlanner:
    """Plans one Panda arm's joint paths to world-frame TCP poses.

    base_pose: the arm's root pose in the world.
    dt: control period (s); paths come out sampled at it.
    vel_scale / acc_scale: fraction of the planner's unit joint velocity / acceleration limits.
    """

    def __init__(self, base_pose: sapien.Pose, dt: float, link_names: list[str], joint_names: list[str],
                 vel_scale: float = 1.0, acc_scale: float | None = None):
        self.dt = dt
        self.base_pose = sapien.Pose(base_pose.p, base_pose.q)
        self.planner = mplib.Planner(urdf=PLANNER_URDF, srdf=PLANNER_SRDF, user_link_names=link_names,
                                     user_joint_names=joint_names, move_group=TCP_LINK)
        self.planner.set_base_pose(pose_to_7d(self.base_pose))
        self.planner.joint_vel_limits = np.ones(7) * vel_scale
        self.planner.joint_acc_limits = np.ones(7) * (vel_scale if acc_scale is None else acc_scale)
        self._model = self.planner.pinocchio_model
        self._link_index = {n: i for i, n in enumerate(self._model.get_link_names())}

    # ------------------------------------------------------------------ kinematics
    @staticmethod
    def _full(q7: np.ndarray, finger: float = 0.04) -> np.ndarray:
        return np.concatenate([np.asarray(q7, dtype=np.float64), [finger, finger]])

    def link_pose(self, q7: np.ndarray, link: str = TCP_LINK) -> sapien.Pose:
        """World pose of ``link`` at joint configuration ``q7``."""
        self._model.compute_forward_kinematics(self._full(q7))
        p = self._model.get_link_pose(self._link_index[link])
        return self.base_pose * sapien.Pose(p[:3], p[3:])

    def tcp_pose(self, q7: np.ndarray) -> sapien.Pose:
        return self.link_pose(q7, TCP_LINK)

    # ------------------------------------------------------------------ obstacles
    def add_box(self, name: str, half_size, pose: sapien.Pose) -> None:
        """Add (or move) a box obstacle, world frame."""
        obj = fcl.CollisionObject(fcl.Box(2 * np.asarray(half_size, dtype=np.float64)),
                                  np.asarray(pose.p, dtype=np.float64), np.asarray(pose.q, dtype=np.float64))
        self.planner.set_normal_object(name, obj)

    def add_sphere(self, name: str, radius: float, center) -> None:
        obj = fcl.CollisionObject(fcl.Sphere(float(radius)), np.asarray(center, dtype=np.float64),
                                  np.array([1.0, 0, 0, 0]))
        self.planner.set_normal_object(name, obj)

    def remove(self, name: str) -> None:
        self.planner.remove_normal_object(name)

    def set_other_arm(self, other: ArmPlanner, q_other: np.ndarray, radius_scale: float = 1.0,
                      skip: tuple[str, ...] = ()) -> None:
        """Treat the other arm, frozen at ``q_other``, as spheres along its distal links (handovers).

        The spheres are conservative (a hand 10 cm beside the other hand counts as a collision); for the final
        approach of a handover shrink them (``radius_scale``) or ``skip`` the hand links, or clear them.
        """
        self.clear_other_arm()
        for link, r in _OBSTACLE_LINKS.items():
            if link not in skip:
                self.add_sphere(f"other_{link}", r * radius_scale, other.link_pose(q_other, link).p)

    def clear_other_arm(self) -> None:
        names = set(self.planner.planning_world.get_normal_object_names())
        for link in _OBSTACLE_LINKS:
            if f"other_{link}" in names:
                self.remove(f"other_{link}")

    # ------------------------------------------------------------------ planning
    def plan_screw(self, q_start: np.ndarray, goal: sapien.Pose) -> np.ndarray | None:
        """Straight-line (screw) TCP motion; (n, 7) joint path sampled at dt, or None."""
        res = self.planner.plan_screw(pose_to_7d(goal), self._full(q_start), time_step=self.dt)
        if res["status"] != "Success":
            return None
        return np.asarray(res["position"], dtype=np.float64)

    def plan_rrt(self, q_start: np.ndarray, goal: sapien.Pose, planning_time: float = 1.0) -> np.ndarray | None:
        res = self.planner.plan_qpos_to_pose(pose_to_7d(goal), self._full(q_start), time_step=self.dt,
                                             planning_time=planning_time, wrt_world=True)
        if res["status"] != "Success":
            return None
        return np.asarray(res["position"], dtype=np.float64)

    def plan(self, q_start: np.ndarray, goal: sapien.Pose, screw_only: bool = False) -> np.ndarray | None:
        """Screw motion first (predictable, straight); RRT-Connect as the fallback unless ``screw_only``."""
        path = self.plan_screw(q_start, goal)
        if path is None and not screw_only:
            path = self.plan_rrt(q_start, goal)
        return path

    def plan_qpos(self, q_start: np.ndarray, q_goal: np.ndarray) -> np.ndarray | None:
        """Joint-space path to a configuration (RRT-Connect, time-parameterised)."""
        res = self.planner.plan_qpos_to_qpos([self._full(q_goal)], self._full(q_start), time_step=self.dt)
        if res["status"] != "Success":
            return None
        return np.asarray(res["position"], dtype=np.float64)
