"""The ``dynamic`` suite: moving-object tasks whose carriers move on their own, as a function of the episode seed,
the motion level and the speed.

Fast checks run on the trajectories alone; the ones marked slow build the envs (physics only, no rendering).
The generic task contract (docstring, reset determinism, expert, holding still) is test_task_contract.py's.
"""

from __future__ import annotations

import os

os.environ.setdefault("LP_NUM_THREADS", "1")

import numpy as np
import pytest

from ahabench.task_registry import make_task_env, suites, task_spec
from ahabench.tasks.dynamic import SUITE
from ahabench.tasks.dynamic.motion import LEVELS, Region, Trajectory

REGION = Region(-0.08, 0.16, -0.6, 0.6)


def _traj(seed: int = 3, level: int = 1, speed: float = 1.0) -> Trajectory:
    return Trajectory(seed, level, speed, (0.05, 0.4), -1.0, 0.15, REGION, 10.0, 1.0 / 250)


def test_suite_is_declared_and_registered():
    assert suites()["dynamic"] == SUITE
    assert len(SUITE) == len(set(SUITE)) >= 6
    for name in SUITE:
        spec = task_spec(name)
        assert spec.suite == "dynamic" and spec.arms == 2 and spec.action_dim == 16
        assert spec.max_steps <= 300 and spec.control_hz == 25


@pytest.mark.parametrize("level", LEVELS)
def test_motion_is_a_function_of_seed_level_and_speed(level):
    a, b = _traj(level=level), _traj(level=level)
    assert np.array_equal(a.samples(), b.samples())
    assert not np.allclose(a.samples(), _traj(level=level, speed=1.5).samples())
    if level > 1:  # level 1 is a straight line at constant velocity: the seed only sets where it starts
        assert not np.allclose(a.samples(), _traj(seed=4, level=level).samples())


def test_levels_differ():
    paths = [_traj(level=lv).samples() for lv in LEVELS]
    for i in range(len(paths)):
        for j in range(i + 1, len(paths)):
            assert not np.allclose(paths[i], paths[j]), (LEVELS[i], LEVELS[j])


def test_level_1_is_constant_velocity_and_speed_scales_it():
    t = _traj(level=1)
    v = np.array([t.velocity(s) for s in np.linspace(0.0, 9.0, 20)])
    assert np.allclose(v, [0.0, -0.15], atol=1e-9)
    assert np.allclose(_traj(level=1, speed=2.0).velocity(1.0), [0.0, -0.3])
    assert np.allclose(_traj(level=1, speed=0.0).samples(), t.samples()[0])


@pytest.mark.parametrize("level", (2, 3))
def test_levels_2_and_3_stay_in_region_and_keep_moving(level):
    for seed in range(20):
        xy = _traj(seed=seed, level=level).samples()
        assert (xy[:, 0] >= REGION.x_lo - 1e-9).all() and (xy[:, 0] <= REGION.x_hi + 1e-9).all()
        step = np.linalg.norm(np.diff(xy, axis=0), axis=1) * 250
        assert step.max() < 0.15 * 2.0, "level speeds stay within 2x the nominal speed"
        assert abs(xy[-1, 1] - xy[0, 1]) > 0.5, "the carrier travels across the table"


def test_bad_level_and_speed_are_refused():
    with pytest.raises(ValueError, match="level"):
        _traj(level=4)
    with pytest.raises(ValueError, match="speed"):
        _traj(speed=-1.0)


# ------------------------------------------------------------------ with the simulator
def _carrier_path(env, seed: int, steps: int) -> np.ndarray:
    env.reset(seed)
    out = []
    for _ in range(steps):
        env.step(env.hold_action())
        out.append(np.concatenate([c.body.pose.p[0].cpu().numpy() for c in env.env.carriers]))
    return np.array(out)


@pytest.mark.slow
@pytest.mark.parametrize("task", SUITE)
def test_objects_move_while_the_robot_holds(task):
    env = make_task_env(task, render=False)
    try:
        path = _carrier_path(env, 5, 25)
        assert np.linalg.norm(path[-1, :2] - path[0, :2]) > 0.05, "a carrier moves >= 5 cm in one second"
        assert np.array_equal(path, _carrier_path(env, 5, 25)), "the motion repeats exactly for a seed"
        # Everything the task moves is driven by the carriers; the robot holding still keeps its joints.
        q0 = env.env.qpos16()
        env.step(env.hold_action())
        assert np.allclose(env.env.qpos16()[[0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14]],
                           q0[[0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14]], atol=2e-3)
    finally:
        env.close()


@pytest.mark.slow
@pytest.mark.parametrize("task", SUITE)
def test_level_and_speed_reach_the_env(task):
    paths = {}
    for kw in ({}, {"level": 2}, {"level": 3}, {"speed": 1.5}):
        env = make_task_env(task, render=False, env_kwargs=kw)
        try:
            paths[str(kw)] = _carrier_path(env, 7, 30)
        finally:
            env.close()
    keys = list(paths)
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            assert not np.allclose(paths[keys[i]], paths[keys[j]]), (keys[i], keys[j])


@pytest.mark.slow
@pytest.mark.parametrize("task", SUITE)
def test_holding_still_does_not_succeed(task):
    env = make_task_env(task, render=False, env_kwargs={"level": 3, "speed": 1.5})
    try:
        env.reset(2)
        for _ in range(env.spec.max_steps):
            assert not env.step(env.hold_action())["success"]
    finally:
        env.close()


@pytest.mark.slow
@pytest.mark.parametrize("task", SUITE)
def test_expert_replans_per_observation_instant(task):
    """Pulled a chunk at a time (the clock's frozen mode: 16 actions at one observation instant, the first 8
    executed, the rest dropped) the expert still solves its task: every pull at a new control step restarts its
    plan from the world as it is, and a pulled but dropped tail leaves nothing behind."""
    env = make_task_env(task, render=False)
    try:
        env.reset(1)
        gen = env.expert()
        ok, step = False, 0
        while not ok and step < env.spec.max_steps:
            chunk = [next(gen) for _ in range(16)]
            for a in chunk[:8]:
                ok, step = env.step(a)["success"], step + 1
                if ok:
                    break
        assert ok
    finally:
        env.close()


@pytest.mark.slow
def test_demos_collect_and_load_like_any_suites(tmp_path):
    """The closed-loop expert records demos through the same collector as the static suites."""
    from ahabench.api import collect
    from ahabench.data.collect import demos_present
    from ahabench.data.format import load_meta

    collect(["click_moving_bell"], 2, out=tmp_path)
    assert demos_present(tmp_path, ["click_moving_bell"], 2)
    assert load_meta(tmp_path, "click_moving_bell") is not None
