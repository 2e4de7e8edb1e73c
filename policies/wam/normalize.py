"""The WAM family's action and proprioception conventions, and the normalisation shipped with a checkpoint.

Every WAM works in one 16-D layout, ``[left 7 joints, left finger, right 7 joints, right finger]``: a single-arm
(8-D) task is padded into the right-arm slots. Actions are absolute joint targets or, for a "delta" model,
targets relative to the joint position at the chunk's start (fingers stay absolute). :class:`NormStats` z-scores
both; it is computed from the training demos (``ahabench.data.dataset.compute_norm_stats``) and saved as
``norm_stats.json`` beside the weights (:mod:`ahabench.policies.wam.checkpoint`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FULL_DIM = 16
#: The finger dims of the 16-D layout [left 7 joints, left finger, right 7 joints, right finger]: absolute in
#: every action space (a gripper command is open/closed, not a motion from where the fingers are).
GRIPPER_DIMS = (7, 15)


def pad_to_full(x: np.ndarray, dim: int) -> np.ndarray:
    """Pad (..., dim) to (..., 16): 16-D passes through, an 8-D single arm goes into the right-arm slots."""
    if dim == FULL_DIM:
        return x.astype(np.float32)
    if dim != FULL_DIM // 2:
        raise ValueError(f"cannot pad a {dim}-D action/qpos to {FULL_DIM}-D (expected 8 or 16)")
    out = np.zeros((*x.shape[:-1], FULL_DIM), np.float32)
    out[..., FULL_DIM // 2 :] = x
    return out


def unpad_from_full(x: np.ndarray, dim: int) -> np.ndarray:
    """Inverse of :func:`pad_to_full`."""
    if dim == FULL_DIM:
        return x
    if dim != FULL_DIM // 2:
        raise ValueError(f"cannot unpad 16-D to {dim}-D (expected 8 or 16)")
    return x[..., FULL_DIM // 2 :]


def _joint_mask() -> np.ndarray:
    m = np.ones(FULL_DIM, np.float32)
    m[list(GRIPPER_DIMS)] = 0.0
    return m


def to_delta(actions: np.ndarray, qpos: np.ndarray) -> np.ndarray:
    """Absolute 16-D targets -> targets relative to ``qpos`` (broadcast), grippers left absolute."""
    return (actions - qpos * _joint_mask()).astype(np.float32)


def from_delta(deltas: np.ndarray, qpos: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_delta`."""
    return (deltas + qpos * _joint_mask()).astype(np.float32)


def dim_mask(dim: int) -> np.ndarray:
    """(16,) bool: True on the dimensions a ``dim``-D task really has (see :func:`pad_to_full`)."""
    m = np.zeros(FULL_DIM, bool)
    m[FULL_DIM - dim :] = True
    return m


@dataclass
class NormStats:
    """Per-dimension mean/std of qpos and actions over the training demos (saved with every checkpoint).

    action_min / action_max: the range of the demos' actions; a policy clips its output to it, since a
    sampled chunk may overshoot a limit (e.g. a gripper opening) that every demo respected.
    delta_mean / delta_std: statistics of the chunk-relative targets (see :func:`to_delta`).
    """

    qpos_mean: np.ndarray
    qpos_std: np.ndarray
    action_mean: np.ndarray
    action_std: np.ndarray
    action_min: np.ndarray | None = None
    action_max: np.ndarray | None = None
    delta_mean: np.ndarray | None = None
    delta_std: np.ndarray | None = None

    def norm_delta(self, d: np.ndarray) -> np.ndarray:
        if self.delta_mean is None or self.delta_std is None:
            raise ValueError("these norm stats have no delta statistics (made before delta actions existed)")
        return ((d - self.delta_mean) / self.delta_std).astype(np.float32)

    def denorm_delta(self, d: np.ndarray) -> np.ndarray:
        if self.delta_mean is None or self.delta_std is None:
            raise ValueError("these norm stats have no delta statistics (made before delta actions existed)")
        return (d * self.delta_std + self.delta_mean).astype(np.float32)

    def norm_actions(self, a: np.ndarray) -> np.ndarray:
        return ((a - self.action_mean) / self.action_std).astype(np.float32)

    def denorm_actions(self, a: np.ndarray) -> np.ndarray:
        return (a * self.action_std + self.action_mean).astype(np.float32)

    def norm_qpos(self, q: np.ndarray) -> np.ndarray:
        return ((q - self.qpos_mean) / self.qpos_std).astype(np.float32)

    def clip_actions(self, a: np.ndarray) -> np.ndarray:
        if self.action_min is None or self.action_max is None:
            return a
        return np.clip(a, self.action_min, self.action_max).astype(np.float32)

    def to_dict(self) -> dict[str, list[float]]:
        keys = [k for k in _STAT_KEYS if getattr(self, k) is not None]
        return {k: np.asarray(getattr(self, k), np.float64).round(8).tolist() for k in keys}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NormStats:
        return cls(**{k: np.asarray(d[k], np.float32) for k in _STAT_KEYS if k in d})

    @classmethod
    def identity(cls) -> NormStats:
        z, o = np.zeros(FULL_DIM, np.float32), np.ones(FULL_DIM, np.float32)
        return cls(z, o, z.copy(), o.copy())


_STAT_KEYS = ("qpos_mean", "qpos_std", "action_mean", "action_std", "action_min", "action_max", "delta_mean", "delta_std")
