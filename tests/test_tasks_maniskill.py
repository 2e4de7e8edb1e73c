"""The ``maniskill`` suite: ManiSkill's Panda tasks behind the TaskEnv interface, with recorded MP experts."""

from __future__ import annotations

import os

os.environ.setdefault("LP_NUM_THREADS", "1")

import numpy as np
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


@pytest.fixture(scope="module", params=TASKS)
def env(request):
    e = make_task_env(request.param, render=False)
    yield e
    e.close()


def _state(env) -> np.ndarray:
    actors = env.env.get_state_dict()["actors"]
    return np.concatenate([v[0, :7].cpu().numpy() for v in actors.values()])


def test_reset_is_deterministic_and_bounded(env):
    info = env.reset(3)
    a = _state(env)
    env.reset(4)
    assert env.reset(3).instruction == info.instruction
    assert np.allclose(a, _state(env))
    assert info.action_dim == 8 and env.action_low.shape == (8,)
    hold = env.hold_action()
    assert ((hold >= env.action_low - 1e-6) & (hold <= env.action_high + 1e-6)).all()
    with pytest.raises(ValueError, match="randomized"):
        env.reset(3, "randomized")


