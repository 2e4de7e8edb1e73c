"""Helpers the RoboTwin task tests share (object poses, instruction templates, seeded resets), kept in one place."""

from __future__ import annotations

import numpy as np


def object_poses(env) -> np.ndarray:
    """Raw poses (p, q) of the task's own objects, concatenated."""
    return np.concatenate([a.pose.raw_pose[0].cpu().numpy() for a in env.env.task_objects()])


def instructions(env, seen: bool) -> list[str]:
    templates = env.env.INSTRUCTIONS_SEEN if seen else env.env.INSTRUCTIONS_UNSEEN
    return [t.format(**env.env.instruction_fields()) for t in templates]


def check_reset_is_deterministic(env) -> np.ndarray:
    """Same seed -> same object poses and instruction; another seed -> other poses; seen/unseen templates.

    Returns the object poses of seed 11 for task-specific follow-up checks."""
    a = env.reset(11)
    pa = object_poses(env)
    env.reset(12)
    pb = object_poses(env)
    b = env.reset(11)
    assert a.instruction == b.instruction
    assert np.allclose(pa, object_poses(env))
    assert not np.allclose(pa, pb), "different seeds should place objects differently"
    assert env.reset(11, unseen_instructions=False).instruction in instructions(env, seen=True)
    assert env.reset(11).instruction in instructions(env, seen=False)
    return pa
