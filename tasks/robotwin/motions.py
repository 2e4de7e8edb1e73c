"""Deterministic arm motions for the RoboTwin experts: plan, move one or both arms, go home.

mplib's RRT-Connect and its IK use random restarts, so an expert that leans on them does not repeat its
demonstration from a seed. :func:`plan_to` therefore tries, most predictable first, a straight screw motion,
then a damped-least-squares IK from known seeds followed by a straight joint-space line, and only then RRT.
The generators drive a :class:`~ahabench.experts.primitives.DualArmExpert`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sapien

from ahabench.experts.primitives import Actions, DualArmExpert, ExpertFailure


def resample_path(path: np.ndarray, n: int) -> np.ndarray:
    """Stretch a joint path to ``n`` waypoints by linear interpolation along its index, so two arms moving
    one rigid object (a pot) start and stop together."""
    if len(path) == n:
        return path
    src = np.linspace(0.0, 1.0, len(path))
    dst = np.linspace(0.0, 1.0, n)
    return np.stack([np.interp(dst, src, path[:, j]) for j in range(path.shape[1])], axis=1)


def ik_near(planner, goal: sapien.Pose, seeds: Sequence[np.ndarray]) -> np.ndarray | None:
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


def plan_to(planner, q_start: np.ndarray, goal: sapien.Pose, seeds: Sequence[np.ndarray] = ()) -> np.ndarray | None:
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


def first_reachable(ex: DualArmExpert, arm: int, goals: Sequence[sapien.Pose],
                    pre_offset: sapien.Pose) -> tuple[sapien.Pose, np.ndarray] | None:
    """The first of ``goals`` whose pre-pose ``pre_offset * goal`` the arm reaches with :func:`plan_to` and
    from there the goal itself with a straight screw motion, with the path to the pre-pose; or None."""
    planner = ex.planners[arm]
    for goal in goals:
        path = plan_to(planner, ex.q[arm], pre_offset * goal)
        if path is not None and planner.plan_screw(path[-1], goal) is not None:
            return goal, path
    return None


def move_arm(ex: DualArmExpert, arm: int, goal: sapien.Pose, seeds: Sequence[np.ndarray] = (),
             settle: int | None = None) -> Actions:
    """Move one arm to ``goal`` with :func:`plan_to`, then hold a few steps to let the PD settle."""
    path = plan_to(ex.planners[arm], ex.q[arm], goal, seeds)
    if path is None:
        raise ExpertFailure(f"arm {arm}: no path to {goal}")
    yield from ex.follow(arm, path)
    yield from ex.hold(ex.settle_steps if settle is None else settle)


def move_arms(ex: DualArmExpert, goals: Sequence[sapien.Pose | None], sync: bool = False) -> Actions:
    """Move both arms at once with :func:`plan_to` (``None`` keeps an arm still). The shorter path waits at its
    end, or with ``sync`` both are stretched to the same duration (two hands on one object)."""
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


def go_home(ex: DualArmExpert, arm: int) -> Actions:
    """Back to the reset configuration along a straight joint-space line when it is collision-free
    (predictable), else with the expert's RRT ``move_home``."""
    path = joint_path(ex.planners[arm], ex.q[arm], ex.home[arm])
    if path is None:
        yield from ex.move_home(arm)
        return
    yield from ex.follow(arm, path)
    yield from ex.hold(ex.settle_steps)
