"""Motion quality of an episode, from the joint targets the robot executed (holds included), one per control tick.

- ``jerk_rms`` (rad/s^3): root mean square over ticks and arm joints of the third finite difference of the executed
  joint targets divided by dt^3; a policy that switches chunks abruptly, or oscillates, scores high.
- ``path_length_rad``: the summed Euclidean length of the arm's joint-space path.
- ``idle_ratio``: the fraction of ticks whose arm targets did not change (holding or standing still).
- ``joint_limit_ticks``: ticks with some arm target within :data:`LIMIT_MARGIN` of its bound.

Grippers are left out of all four (their open/close command is a step by design). The action layout is the one of
:class:`ahabench.types.Observation`: per arm 7 joints then 1 gripper, left arm first; other action sizes count every
dimension as a joint. Collisions are not counted: the harness sees the simulator only through the task's interface.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Joints and gripper per Panda arm in the action vector.
ARM_JOINTS, PER_ARM = 7, 8
#: A target this close to a joint bound (rad) counts as at the limit.
LIMIT_MARGIN = 1e-3
#: Targets that move less than this (rad, any joint) leave the arm idle for that tick.
IDLE_TOL = 1e-6


def arm_joint_dims(action_dim: int) -> np.ndarray:
    """Indices of the arm joints in an action of ``action_dim`` (grippers left out for Panda layouts)."""
    if action_dim % PER_ARM == 0:
        return np.array([a * PER_ARM + j for a in range(action_dim // PER_ARM) for j in range(ARM_JOINTS)])
    return np.arange(action_dim)


def motion_metrics(actions: Sequence[np.ndarray], dt_s: float, low: np.ndarray | None = None,
                   high: np.ndarray | None = None) -> dict[str, float | int | None]:
    """The four metrics of the module docstring for the executed ``actions`` (one per tick, in order)."""
    if not actions:
        return {"jerk_rms": None, "path_length_rad": 0.0, "idle_ratio": None, "joint_limit_ticks": 0}
    a = np.asarray(actions, dtype=np.float64)
    dims = arm_joint_dims(a.shape[1])
    q = a[:, dims]
    steps = np.diff(q, axis=0)
    jerk = np.diff(q, n=3, axis=0) / dt_s**3 if len(q) >= 4 else None
    limit = np.zeros(len(q), dtype=bool)
    for bound, sign in ((low, -1.0), (high, 1.0)):
        if bound is not None:
            limit |= (sign * (q - np.asarray(bound, np.float64)[dims]) >= -LIMIT_MARGIN).any(axis=1)
    return {"jerk_rms": float(np.sqrt(np.mean(jerk**2))) if jerk is not None else None,
            "path_length_rad": float(np.linalg.norm(steps, axis=1).sum()),
            "idle_ratio": float((np.abs(steps).max(axis=1) < IDLE_TOL).mean()) if len(steps) else None,
            "joint_limit_ticks": int(limit.sum())}


__all__ = ["arm_joint_dims", "motion_metrics"]
