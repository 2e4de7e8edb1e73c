"""The ``maniskill`` suite: ManiSkill's Panda tasks behind the TaskEnv interface, with recorded MP experts."""

from __future__ import annotations

import os

os.environ.setdefault("LP_NUM_THREADS", "1")

import pytest

from ahabench.task_registry import make_task_env, suites, task_spec

#: A seed each task's expert solves (ManiSkill's recorded solution, or for LiftPegUpright, PegInsertionSide and
#: PlugCharger our plan-checked experts in tasks/maniskill/experts.py).
EXPERT_SEED = {"PickCube": 0, "StackCube": 0, "PushCube": 0, "PullCube": 0, "LiftPegUpright": 0,
               "PegInsertionSide": 2, "PlugCharger": 2}
TASKS = list(suites()["maniskill"])


def test_suite_declared():
    assert TASKS == list(EXPERT_SEED)
    for t in TASKS:
        spec = task_spec(t)
        assert (spec.suite, spec.arms, spec.action_dim, spec.control_hz) == ("maniskill", 1, 8, 20.0)


@pytest.mark.parametrize("task", TASKS)
def test_single_arm_actions_and_settings(task):
    """What the contract test (test_task_contract.py) does not check: the 8-D single-arm action box, a hold
    action inside it, and the clean-only setting."""
    env = make_task_env(task, render=False)
    try:
        info = env.reset(3)
        assert info.action_dim == 8 and env.action_low.shape == (8,)
        hold = env.hold_action()
        assert ((hold >= env.action_low - 1e-6) & (hold <= env.action_high + 1e-6)).all()
        with pytest.raises(ValueError, match="randomized"):
            env.reset(3, "randomized")
    finally:
        env.close()
