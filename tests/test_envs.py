"""The dual-arm embodiment, the TaskEnv adapter, the mosaic and the setting draws."""

from __future__ import annotations

import os

os.environ.setdefault("LP_NUM_THREADS", "1")

import numpy as np
import pytest

from ahabench.envs.mosaic import make_mosaic
from ahabench.envs.scene import draw_setting
from ahabench.task_registry import make_task_env, resolve_tasks, suites, task_spec
from ahabench.types import CAMERAS


def test_mosaic_shape_and_layout():
    head = np.full((64, 80, 3), 10, np.uint8)
    right = np.full((64, 80, 3), 200, np.uint8)
    m = make_mosaic({"head": head, "right_wrist": right})
    assert m.shape == (96, 80, 3) and m.dtype == np.uint8
    assert (m[:64] == 10).all()
    assert (m[64:, :40] == 0).all(), "a missing wrist camera must be a black tile"
    assert (m[64:, 40:] == 200).all()
    big = make_mosaic({"head": np.zeros((240, 320, 3), np.uint8), "left_wrist": head, "right_wrist": head},
                      head_hw=(240, 320))
    assert big.shape == (360, 320, 3)
    with pytest.raises(KeyError):
        make_mosaic({"left_wrist": head})


def test_setting_draws():
    region = (0.2, 0.3, -0.5, 0.5)
    clean = draw_setting("clean", 3, region)
    assert clean.table_dz == 0.0 and clean.distractors == []
    a, b = draw_setting("randomized", 3, region), draw_setting("randomized", 3, region)
    assert a == b, "a setting draw must be a function of the seed"
    assert -0.03 <= a.table_dz <= 0.0 and 1 <= len(a.distractors) <= 4
    assert draw_setting("randomized", 4, region) != a
    for _, x, y, _ in a.distractors:
        assert 0.2 <= x <= 0.3 and -0.5 <= y <= 0.5
    with pytest.raises(ValueError, match="bogus"):
        draw_setting("bogus", 0, region)


def test_suites_declared():
    s = suites()
    assert s["robotwin"][0] == "stack_blocks_two"
    assert "PickCube" in s["maniskill"] or s["maniskill"] == ()
    assert resolve_tasks("stack_blocks_two") == ["stack_blocks_two"]
    spec = task_spec("stack_blocks_two")
    assert (spec.arms, spec.action_dim, spec.control_hz, spec.max_steps) == (2, 16, 25.0, 800)
    assert spec.env_id == "ahabench/StackBlocksTwo-v1"


@pytest.fixture(scope="module")
def env():
    e = make_task_env("stack_blocks_two")
    yield e
    e.close()


def test_action_bounds_and_qpos(env):
    info = env.reset(0)
    assert info.action_dim == 16 and info.suite == "robotwin" and info.instruction
    assert env.action_low.shape == env.action_high.shape == (16,)
    assert (env.action_low < env.action_high).all()
    for arm in (0, 8):  # finger targets are metres per finger, closed -0.01 .. open 0.04
        assert env.action_low[arm + 7] == pytest.approx(-0.01) and env.action_high[arm + 7] == pytest.approx(0.04)
    hold = env.hold_action()
    assert hold.shape == (16,) and hold.dtype == np.float32
    assert ((hold >= env.action_low - 1e-6) & (hold <= env.action_high + 1e-6)).all()
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(8, np.float32))


def test_observe_renders_and_step_does_not(env):
    env.reset(1)
    assert env.frames_rendered == 0
    obs = env.observe(0, 0)
    assert env.frames_rendered == 1
    assert set(obs.images) == set(CAMERAS)
    for name, img in obs.images.items():
        assert img.shape == (64, 80, 3) and img.dtype == np.uint8
        assert img.std() > 1.0, f"camera {name} rendered a flat image"
    assert obs.qpos.shape == (16,) and obs.qpos.dtype == np.float32
    cond = env.step(env.hold_action())
    assert set(cond) >= {"success"} and all(isinstance(v, bool) for v in cond.values())
    assert env.frames_rendered == 1, "step must not render"


def test_hold_keeps_the_robot_still(env):
    env.reset(2)
    q0 = env.observe(0, 0).qpos
    for _ in range(10):
        env.step(env.hold_action())
    q1 = env.observe(10, 400_000).qpos
    assert np.abs(q1 - q0).max() < 0.01


def test_randomized_setting_changes_the_scene(env):
    env.reset(5, "clean")
    clean = env.observe(0, 0).images["head"].astype(float)
    top_clean = env.env.table_top_z
    env.reset(5, "randomized")
    rand = env.observe(0, 0).images["head"].astype(float)
    assert np.abs(rand - clean).mean() > 3.0
    assert env.env.table_top_z <= top_clean
    env.reset(5, "randomized")
    again = env.observe(0, 0).images["head"].astype(float)
    assert np.abs(again - rand).max() == 0, "the same seed and setting must render the same scene"


def test_robotwin_camera_resolution_renders():
    """RoboTwin's 320x240 cameras are available, and the mosaic still composes from them."""
    e = make_task_env("click_bell", camera_hw=(240, 320))
    try:
        e.reset(0)
        obs = e.observe(0, 0)
        for name, img in obs.images.items():
            assert img.shape == (240, 320, 3), name
            assert img.std() > 1.0, f"camera {name} rendered a flat image"
        assert make_mosaic(obs.images).shape == (96, 80, 3)
    finally:
        e.close()
