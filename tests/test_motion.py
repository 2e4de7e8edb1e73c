"""Motion-quality metrics of executed joint targets, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from ahabench.engine.motion import arm_joint_dims, motion_metrics


def test_grippers_are_not_joints():
    assert list(arm_joint_dims(16)) == [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14]
    assert list(arm_joint_dims(8)) == list(range(7)) and list(arm_joint_dims(2)) == [0, 1]


def test_jerk_path_idle_and_limits_by_hand():
    dt = 0.04
    # joint 0 of a 2-D "arm": 0, 0, 0, 1, 1, 1 (a step), joint 1 still
    acts = [np.array([x, 0.0]) for x in (0, 0, 0, 1, 1, 1)]
    m = motion_metrics(acts, dt, low=np.array([-2.0, -2.0]), high=np.array([1.0005, 2.0]))
    # third differences of joint 0: 1, -2, 1 (joint 1: 0, 0, 0) -> rms = sqrt((1 + 4 + 1) / 6) / dt^3
    assert m["jerk_rms"] == pytest.approx(1.0 / dt**3)
    assert m["path_length_rad"] == pytest.approx(1.0)
    assert m["idle_ratio"] == pytest.approx(4 / 5)  # 5 steps, one moves
    assert m["joint_limit_ticks"] == 3  # joint 0 at 1.0 is within 1e-3 of 1.0005
    gripper_flip = [np.r_[np.zeros(7), g] for g in (0.0, 0.04, 0.0, 0.04, 0.0)]
    assert motion_metrics(gripper_flip, dt)["jerk_rms"] == 0.0  # the gripper is not a joint
    assert motion_metrics([], dt)["jerk_rms"] is None and motion_metrics(acts[:3], dt)["jerk_rms"] is None
