"""The training-free policies: ``hold`` repeats proprioception; ``expert`` serves the scripted expert as chunks."""

from __future__ import annotations

import numpy as np
import pytest

from ahabench.policy_registry import make_policy, policy_names
from ahabench.types import EpisodeInfo, Observation


def info(dim=3, seed=0):
    return EpisodeInfo(task="t", suite="s", instruction="i", action_dim=dim, control_hz=25.0, max_steps=50, seed=seed)


def obs(q, tick=0):
    return Observation(images={}, qpos=np.asarray(q, np.float32), instruction="i", tick=tick, time_us=tick * 40000)


class ScriptEnv:
    """Just what the expert reads: an expert generator and the hold action."""

    def __init__(self, n=20, dim=3):
        self.n, self.dim, self.opened = n, dim, 0

    def expert(self):
        self.opened += 1
        for i in range(self.n):
            yield np.full(self.dim, float(i), np.float32)

    def hold_action(self):
        return np.full(self.dim, -1.0, np.float32)


def test_registered():
    assert {"hold", "expert"} <= set(policy_names())


def test_hold_repeats_qpos():
    p = make_policy("hold", chunk_len=4, execute_len=2)
    assert not p.spec.privileged and p.spec.calls == ("call",)
    p.reset(info(3))
    chunk = p.act(obs([0.1, -0.2, 0.04]))
    assert chunk.shape == (4, 3) and chunk.dtype == np.float32
    np.testing.assert_allclose(chunk, np.tile([0.1, -0.2, 0.04], (4, 1)), rtol=0, atol=1e-7)
    with pytest.raises(ValueError, match="2 values but the task's action has 3"):
        p.act(obs([0.0, 0.0]))
    with pytest.raises(PermissionError, match="hold"):
        p.bind_env(ScriptEnv())
    with pytest.raises(ValueError, match="execute_len=5"):
        make_policy("hold", chunk_len=4, execute_len=5)


def test_expert_serves_generator_in_chunks_and_pads():
    env = ScriptEnv(n=20)
    p = make_policy("expert")
    assert p.spec.privileged and p.spec.chunk_len == 16 and p.spec.execute_len == 16
    assert set(p.spec.modes) == {"frozen", "blocking", "async"}
    with pytest.raises(RuntimeError, match="bind_env"):
        p.reset(info())
        p.act(obs([0, 0, 0]))
    p.bind_env(env)
    p.reset(info())
    a = p.act(obs([0, 0, 0]))
    np.testing.assert_array_equal(a[:, 0], np.arange(16))
    b = p.act(obs([0, 0, 0], tick=16))
    # Actions 16..19, then the script is over: hold its final target.
    np.testing.assert_array_equal(b[:, 0], [16, 17, 18, 19] + [19] * 12)
    # A new episode opens a fresh generator.
    p.reset(info(seed=1))
    np.testing.assert_array_equal(p.act(obs([0, 0, 0]))[:3, 0], [0, 1, 2])
    assert env.opened == 2


def test_expert_with_empty_script_holds():
    env = ScriptEnv(n=0)
    p = make_policy("expert", chunk_len=4, execute_len=4)
    p.bind_env(env)
    p.reset(info())
    np.testing.assert_array_equal(p.act(obs([0, 0, 0])), np.full((4, 3), -1.0))


@pytest.mark.slow
def test_expert_and_hold_on_a_real_task(tmp_path):
    """The real stack_blocks_two task: the expert solves its eval seeds in frozen mode, hold never does."""
    from ahabench.api import eval_run
    from ahabench.task_registry import task_spec

    try:
        task_spec("stack_blocks_two")
    except KeyError:
        pytest.skip("stack_blocks_two is not registered in this checkout")
    seeds = {"stack_blocks_two": [100000, 100001]}
    exp = eval_run("expert", ["stack_blocks_two"], 2, mode="frozen", seeds=seeds, out=tmp_path / "e")
    hold = eval_run("hold", ["stack_blocks_two"], 2, seeds=seeds, out=tmp_path / "h")
    assert exp.overall.errors == 0 and hold.overall.errors == 0
    assert exp.overall.successes >= 1
    assert hold.overall.successes == 0
