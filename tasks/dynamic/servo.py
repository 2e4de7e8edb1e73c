"""Closed-loop experts for the ``dynamic`` suite: a Cartesian servo and a generator that re-plans per observation.

The harness pulls a whole chunk of actions from an expert at one observation instant and executes them later
(or never). :class:`ReplanningExpert` therefore keys its plan on the env's control step: at the first ``next()``
of a new step it re-reads the world (privileged state) and the robot's applied joint targets and restarts its
plan there (offset k = 0); further pulls at the same step extend the plan to ticks now + 1, now + 2, ...
predicting where the moving objects will be, as if the actions ran without latency. The expert never knows
the latency: under ``blocking`` its actions arrive late and it lags the object, which is what the suite measures.

Motion is resolved-rate servoing, not path planning: each tick moves the TCP a bounded step toward its target by
damped least squares on the arm's Jacobian (mplib's pinocchio model), a few microseconds per action, so 100
seeds per task stay cheap. The targets are top-down grasp/press poses above a table with nothing else to avoid.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import sapien

from ahabench.envs.base import CONTROL_HZ
from ahabench.envs.robot import GRIPPER_CLOSED, GRIPPER_OPEN
from ahabench.experts.planner import ArmPlanner
from ahabench.experts.primitives import top_down_pose

if TYPE_CHECKING:
    from ahabench.tasks.dynamic.moving_table import MovingTableEnv

DT = 1.0 / CONTROL_HZ
#: How far (s) the joint PD controller lags a moving target (damping / stiffness of the Panda drive = 100 / 1000):
#: a tracked target is aimed this much ahead so the real TCP, not the commanded one, meets the object.
PD_LAG_S = 0.1
#: TCP speed limits of the servo (m/s, rad/s) and the largest joint change per tick (rad).
MAX_LIN_SPEED = 0.7
MAX_ANG_SPEED = 2.5
MAX_JOINT_STEP = 0.12
#: Downward TCP speed limit (m/s): contact with what the fingers go down onto stays gentle.
DESCENT_SPEED = 0.3
#: Joint-limit margin (rad) kept by the servo.
LIMIT_MARGIN = 0.02

_PLANNERS: dict[tuple[float, ...], ArmPlanner] = {}


def rotvec(R: np.ndarray) -> np.ndarray:
    """Rotation vector (axis x angle) of a rotation matrix."""
    c = np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)
    angle = float(np.arccos(c))
    w = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    if angle < 1e-6:
        return 0.5 * w
    if np.pi - angle < 1e-4:  # near pi the skew part vanishes: take the axis from the diagonal
        axis = np.sqrt(np.maximum((np.diag(R) + 1.0) / 2.0, 0.0))
        k = int(np.argmax(axis))
        axis[np.arange(3) != k] *= np.sign(R[k, np.arange(3) != k] + R[np.arange(3) != k, k])
        return angle * axis / np.linalg.norm(axis)
    return angle * w / (2.0 * np.sin(angle))


def axis_rotation(v: np.ndarray) -> np.ndarray:
    """Rotation matrix of rotation vector ``v`` (Rodrigues)."""
    a = float(np.linalg.norm(v))
    if a < 1e-9:
        return np.eye(3)
    k = v / a
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(a) * K + (1 - np.cos(a)) * K @ K


class CartesianServo:
    """Damped-least-squares resolved-rate control of one Panda's TCP (world frame).

    planner: the arm's :class:`ArmPlanner` (only its kinematic model is used).
    """

    def __init__(self, planner: ArmPlanner, damping: float = 0.02) -> None:
        self.planner = planner
        self.model = planner.planner.pinocchio_model
        self.tcp_index = planner._link_index[planner.planner.move_group]
        self.base = np.asarray(planner.base_pose.p, dtype=np.float64)
        lim = np.asarray(self.model.get_joint_limits(), dtype=object)
        self.lo = np.array([float(np.asarray(x).reshape(-1)[0]) for x in lim[:7]]) + LIMIT_MARGIN
        self.hi = np.array([float(np.asarray(x).reshape(-1)[1]) for x in lim[:7]]) - LIMIT_MARGIN
        self.damping = damping

    def fk(self, q7: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position, rotation matrix) of the TCP at ``q7`` (world frame; the arm bases are not rotated)."""
        self.model.compute_forward_kinematics(ArmPlanner._full(q7))
        p = self.model.get_link_pose(self.tcp_index)
        R = sapien.Pose(p[:3], p[3:]).to_transformation_matrix()[:3, :3]
        return np.asarray(p[:3]) + self.base, R

    def step(self, q7: np.ndarray, p_goal: np.ndarray, R_goal: np.ndarray, extra_lin: float = 0.0,
             iterations: int = 2, max_speed: float = MAX_LIN_SPEED) -> np.ndarray:
        """One tick: move ``q7`` so the TCP goes toward (``p_goal``, ``R_goal``) by at most the speed limits
        (plus ``extra_lin`` m, the tracked object's own motion this tick, so a moving target can be kept)."""
        q = np.asarray(q7, dtype=np.float64).copy()
        p, R = self.fk(q)
        dp = p_goal - p
        lin_cap = max_speed * DT + extra_lin
        if np.linalg.norm(dp) > lin_cap:
            dp *= lin_cap / np.linalg.norm(dp)
        dw = rotvec(R_goal @ R.T)
        ang_cap = MAX_ANG_SPEED * DT
        if np.linalg.norm(dw) > ang_cap:
            dw *= ang_cap / np.linalg.norm(dw)
        p_t, R_t = p + dp, axis_rotation(dw) @ R
        for _ in range(iterations):
            p, R = self.fk(q)
            err = np.concatenate([p_t - p, rotvec(R_t @ R.T)])
            if np.abs(err).max() < 1e-5:
                break
            self.model.compute_full_jacobian(ArmPlanner._full(q))
            J = np.asarray(self.model.get_link_jacobian(self.tcp_index, local=False))[:, :7]
            dq = J.T @ np.linalg.solve(J @ J.T + self.damping**2 * np.eye(6), err)
            q_new = np.clip(q + dq, self.lo, self.hi)
            q = q_new
        d = q - q7
        big = np.abs(d).max()
        if big > MAX_JOINT_STEP:
            q = q7 + d * (MAX_JOINT_STEP / big)
        return q


def shared_planner(base: np.ndarray, dt: float, link_names: list[str], joint_names: list[str]) -> ArmPlanner:
    """One kinematic model per arm base per process: building mplib's planner costs ~0.1 s, the servo only
    needs its (stateless) forward kinematics and Jacobian."""
    key = tuple(np.round(np.asarray(base, dtype=np.float64), 6))
    if key not in _PLANNERS:
        _PLANNERS[key] = ArmPlanner(sapien.Pose(list(key)), dt, link_names, joint_names)
    return _PLANNERS[key]


class ReplanningExpert:
    """Base of the dynamic tasks' experts: an endless generator of 16-D actions re-planned per observation.

    Subclasses write :meth:`observe` (read the world at a new observation instant, set the plan's phase) and
    :meth:`plan_tick` (set ``self.q`` / ``self.g`` for one future tick, advancing the phase in plan time).
    """

    def __init__(self, env: MovingTableEnv) -> None:
        self.env = env
        self.servos: list[CartesianServo] = []
        for arm in env.arms:
            robot = arm.robot
            base = np.asarray(robot.pose.p[0].cpu().numpy(), dtype=np.float64)
            planner = shared_planner(base, DT, [link.get_name() for link in robot.get_links()],
                                     [j.get_name() for j in robot.get_active_joints()])
            self.servos.append(CartesianServo(planner))
        a = env.last_action
        self.home = [a[0:7].astype(np.float64), a[8:15].astype(np.float64)]
        self.q = [h.copy() for h in self.home]
        self.g = [float(a[7]), float(a[15])]
        self._obs_step: int | None = None
        self.now = 0
        self.k = 0

    # ------------------------------------------------------------------ the generator
    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            now = int(self.env.control_step)
            if now != self._obs_step:
                # A new observation instant: restart the plan from the joint targets the robot holds now.
                self._obs_step, self.now, self.k = now, now, 0
                a = self.env.last_action
                self.q = [a[0:7].astype(np.float64), a[8:15].astype(np.float64)]
                self.g = [float(a[7]), float(a[15])]
                self.observe()
            else:
                self.k += 1
            self.plan_tick(now + self.k)
            yield self.action()

    def action(self) -> np.ndarray:
        return np.concatenate([self.q[0], [self.g[0]], self.q[1], [self.g[1]]]).astype(np.float32)

    def observe(self) -> None:
        raise NotImplementedError

    def plan_tick(self, tick: int) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def time_of(tick: int) -> float:
        """The instant the action of ``tick`` has taken effect (end of that control step), plus the PD lag."""
        return (tick + 1) * DT + PD_LAG_S

    def tcp(self, arm: int) -> tuple[np.ndarray, np.ndarray]:
        """Commanded TCP (position, rotation) of ``arm`` in the plan."""
        return self.servos[arm].fk(self.q[arm])

    def move(self, arm: int, p_goal: np.ndarray, yaw: float, extra_lin: float = 0.0,
             max_speed: float = MAX_LIN_SPEED, descent_speed: float = DESCENT_SPEED) -> None:
        """Servo ``arm`` one tick toward a top-down TCP pose at ``p_goal`` closing along ``yaw``, going down at
        most ``descent_speed`` m/s (fingers meet objects gently)."""
        p_goal = np.asarray(p_goal, dtype=np.float64).copy()
        p_now, _ = self.tcp(arm)
        p_goal[2] = max(p_goal[2], p_now[2] - descent_speed * DT)
        R = top_down_pose(p_goal, yaw).to_transformation_matrix()[:3, :3]
        self.q[arm] = self.servos[arm].step(self.q[arm], np.asarray(p_goal, dtype=np.float64), R, extra_lin,
                                            max_speed=max_speed)

    def home_tick(self, arm: int) -> None:
        """One bounded joint-space step of ``arm`` toward its configuration at reset."""
        d = self.home[arm] - self.q[arm]
        big = np.abs(d).max()
        self.q[arm] = self.q[arm] + (d if big <= 0.05 else d * (0.05 / big))

    def set_gripper(self, arm: int, closed: bool) -> None:
        self.g[arm] = GRIPPER_CLOSED if closed else GRIPPER_OPEN

    def closing_yaw(self, arm: int, preferred: float = np.pi / 2) -> float:
        """The closing direction equivalent to ``preferred`` (mod pi) nearest the wrist's rest angle, so the
        wrist turns as little as possible."""
        _, R = self.servos[arm].fk(self.home[arm])
        rest = float(np.arctan2(R[1, 1], R[0, 1]))  # the TCP's y axis is the closing direction
        cands = [preferred + n * np.pi for n in (-2, -1, 0, 1, 2)]
        return min(cands, key=lambda a: abs(a - rest))
