"""Pose and yaw arithmetic shared by the RoboTwin tasks and their experts.

Yaw helpers work on wxyz quaternions; batched helpers work on ManiSkill's (N, 4) tensors. All functions are
pure: the experts call them on poses read once at the start of an episode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import sapien
import torch


# ------------------------------------------------------------------------------------------------ yaw
def yaw_of(q, about_z: bool = False) -> float:
    """Yaw (rad) of an upright body from its wxyz quaternion (an array or a ``sapien.Pose``'s ``q``).

    A float32 quaternion (as SAPIEN poses hold) goes through numpy scalars and ``np.arctan2``; anything else
    through Python floats and libm's ``math.atan2``. The two can differ in the last bit, and each caller's
    expert keeps the arithmetic it was recorded with. ``about_z`` uses the shorter formula for a quaternion
    that is a rotation about z alone, ``2 atan2(z, w)``, as the block tasks' quaternions are.
    """
    arr = np.asarray(q).reshape(-1)[:4]
    if about_z:
        return float(2 * np.arctan2(arr[3], arr[0]))
    if arr.dtype == np.float32:
        w, x, y, z = arr
        return float(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))
    w, x, y, z = (float(v) for v in arr)
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def wrap_angle(a: float) -> float:
    """``a`` wrapped into [-pi, pi)."""
    return (a + math.pi) % (2.0 * math.pi) - math.pi


def closing_yaw_of(tcp: sapien.Pose) -> float:
    """World yaw of a TCP's closing direction (its local y axis projected on the table plane)."""
    y_axis = tcp.to_transformation_matrix()[:3, 1]
    return float(math.atan2(y_axis[1], y_axis[0]))


def nearest_equivalent_yaw(yaw: float, current: float) -> float:
    """The two-finger gripper is symmetric under a half turn: of ``yaw`` and ``yaw + pi`` return the one
    closer to ``current``, so a screw motion does not try to spin the wrist by 180 degrees."""
    best = yaw
    for cand in (yaw, yaw + math.pi, yaw - math.pi):
        if abs(wrap_angle(cand - current)) < abs(wrap_angle(best - current)):
            best = cand
    return wrap_angle(best)


def rot2(yaw: float) -> np.ndarray:
    """2-D rotation matrix by ``yaw``."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s], [s, c]])


def rot3(yaw: float) -> np.ndarray:
    """3-D rotation matrix about z by ``yaw``."""
    r = np.eye(3)
    r[:2, :2] = rot2(yaw)
    return r


# ---------------------------------------------------------------------------------------------- poses
def place_actor(actor, x: float, y: float, z: float, yaw: float = 0.0) -> None:
    """Put a dynamic actor at rest at (x, y, z) with a yaw about world z (z: its bottom face's height)."""
    actor.set_pose(sapien.Pose(p=[x, y, z], q=[math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]))
    actor.set_linear_velocity(torch.zeros(3))
    actor.set_angular_velocity(torch.zeros(3))


def sp_pose(pose) -> sapien.Pose:
    """First sub-scene's pose of a batched ManiSkill pose as a plain ``sapien.Pose``."""
    return sapien.Pose(pose.p[0].cpu().numpy().astype(np.float64), pose.q[0].cpu().numpy().astype(np.float64))


def side_pose(center: Sequence[float], approach: Sequence[float], closing: Sequence[float]) -> sapien.Pose:
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


# -------------------------------------------------------------------------------------------- batched
def tilt_cos(q: torch.Tensor) -> torch.Tensor:
    """cos of the angle between a body's z axis and world z, from batched wxyz quaternions."""
    _, x, y, _ = q.unbind(-1)
    return 1.0 - 2.0 * (x * x + y * y)


def is_upright(q: torch.Tensor, max_tilt_deg: float = 15.0) -> torch.Tensor:
    """(N,) whether bodies with wxyz quaternions ``q`` (N, 4) tilt less than ``max_tilt_deg`` from upright."""
    up = quat_apply(q, torch.tensor([0.0, 0.0, 1.0], device=q.device))[:, 2]
    return up > np.cos(np.deg2rad(max_tilt_deg))


def rests_on(p: torch.Tensor, support_p: torch.Tensor, support_top: float, xy_tol: float,
             z_tol: float) -> torch.Tensor:
    """(N,) whether objects with bottoms at ``p`` (N, 3) stand on supports whose origins are ``support_p``: centres
    within ``xy_tol`` in xy, bottoms from 5 mm below (contact slack) to ``z_tol`` above the support's top face,
    ``support_top`` above its origin."""
    xy_ok = torch.linalg.norm(p[:, :2] - support_p[:, :2], dim=1) <= xy_tol
    dz = p[:, 2] - (support_p[:, 2] + support_top)
    return xy_ok & (dz > -0.005) & (dz < z_tol)


def quat_apply(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate vector ``v`` (3,) by batched quaternions ``q`` (N, 4, wxyz)."""
    w, xyz = q[:, :1], q[:, 1:]
    v = v.expand_as(xyz)
    t = 2 * torch.cross(xyz, v, dim=1)
    return v + w * t + torch.cross(xyz, t, dim=1)
