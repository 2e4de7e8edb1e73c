"""handover_block, lift_pot, pick_dual_bottles, click_bell: step limits, objects at rest, plan determinism, and each
task's success test (the contract every task keeps is checked in test_task_contract.py)."""

from __future__ import annotations

import numpy as np
import pytest
import sapien
import torch

from ahabench.task_registry import make_task_env, suites, task_spec
from task_checks import object_poses

TASKS = ("handover_block", "lift_pot", "pick_dual_bottles", "click_bell")
STEP_LIMITS = {"handover_block": 800, "lift_pot": 400, "pick_dual_bottles": 400, "click_bell": 400}


@pytest.fixture(scope="module", params=TASKS)
def env(request):
    e = make_task_env(request.param, render=False)
    yield e
    e.close()


def test_registered_in_suite_with_robotwin_limits():
    for name in TASKS:
        assert name in suites()["robotwin"]
        spec = task_spec(name)
        assert spec.max_steps == STEP_LIMITS[name]
        assert spec.action_dim == 16 and spec.arms == 2


def test_objects_rest_on_the_table(env):
    """Randomized setting lowers the table: objects must follow it and stay put when nothing touches them."""
    env.reset(5, setting="randomized")
    before = object_poses(env)
    for _ in range(10):
        assert not env.step(env.hold_action())["success"]
    after = object_poses(env)
    assert np.allclose(before, after, atol=2e-3), np.abs(before - after).max()


def test_expert_plan_is_deterministic_and_in_bounds(env):
    """The expert reads the scene once and plans without mplib's random RRT: a seed fixes its whole plan."""
    env.reset(7)
    first = np.stack(list(env.expert()))
    env.reset(7)
    second = np.stack(list(env.expert()))
    assert first.shape == second.shape and first.shape[1] == 16
    assert np.array_equal(first, second)
    assert (first >= env.action_low - 1e-6).all() and (first <= env.action_high + 1e-6).all()
    assert len(first) < env.spec.max_steps


# ---------------------------------------------------------------------------------------------- success tests
@pytest.fixture(scope="module")
def bell():
    e = make_task_env("click_bell", render=False)
    yield e
    e.close()


def test_bell_click_is_latched(bell):
    bell.reset(0)
    env = bell.env
    assert float(env.button_depth()[0]) < 1e-3
    env.bell.set_qpos(torch.tensor([[-0.011]]))  # pushed nearly to the bottom
    assert bell.evaluate()["success"]
    for _ in range(10):  # the spring pushes the button back up; the click stays counted
        cond = bell.step(bell.hold_action())
    assert float(env.button_depth()[0]) < 1e-3
    assert cond["success"] and not cond["button_pressed"]
    bell.reset(0)
    assert not bell.step(bell.hold_action())["success"], "reset must clear the latch"


def test_bottles_success_needs_lift_and_upright():
    e = make_task_env("pick_dual_bottles", render=False)
    try:
        e.reset(0)
        env = e.env
        from ahabench.tasks.robotwin.pick_dual_bottles import target_xyz

        def put(q):
            for side, bottle in enumerate(env.bottles):
                bottle.set_pose(sapien.Pose(target_xyz(side, env.table_top_z), q))
            return e.evaluate()

        assert put([1, 0, 0, 0])["success"]
        tipped = put([np.cos(np.pi / 4), np.sin(np.pi / 4), 0, 0])
        assert not tipped["success"] and tipped["left_at_target"] and not tipped["left_upright"]
        for side, bottle in enumerate(env.bottles):  # at the target in xy but standing on the table
            bottle.set_pose(sapien.Pose(target_xyz(side, env.table_top_z) * [1, 1, 0] + [0, 0, env.table_top_z]))
        low = e.evaluate()
        assert not low["success"] and not low["left_lifted"] and low["right_at_target"]
    finally:
        e.close()


def test_pot_handles_belong_to_their_arms():
    from ahabench.tasks.robotwin.lift_pot import GEOM, handle_positions

    p = torch.tensor([[0.0, 0.0, 0.74]])
    yaw = 0.3
    q = torch.tensor([[np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]])
    h = handle_positions(p, q)[0].numpy()
    assert h[0, 1] > 0 > h[1, 1]  # the left arm's handle (larger y) first
    assert np.allclose(np.linalg.norm(h[:, :2], axis=1), GEOM.handle_center_r, atol=1e-5)
    q_flip = torch.tensor([[np.cos((yaw + np.pi) / 2), 0.0, 0.0, np.sin((yaw + np.pi) / 2)]])
    assert np.allclose(handle_positions(p, q_flip)[0].numpy(), h, atol=1e-5)


def test_handover_needs_release_on_the_pad():
    e = make_task_env("handover_block", render=False)
    try:
        e.reset(0)
        env = e.env
        pad = env.pad.pose.p[0].cpu().numpy()
        env.block.set_pose(sapien.Pose([pad[0] + 0.01, pad[1], env.table_top_z]))
        assert e.evaluate()["success"]
        env.block.set_pose(sapien.Pose([pad[0] + 0.05, pad[1], env.table_top_z]))
        assert not e.evaluate()["on_pad"]
        env.block.set_pose(sapien.Pose([pad[0], pad[1], env.table_top_z + 0.05]))
        assert not e.evaluate()["resting"]
    finally:
        e.close()
