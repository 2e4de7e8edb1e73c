"""The single-episode runner with a fake TaskEnv and fake policies (no physics)."""

from __future__ import annotations

import numpy as np
import pytest

from ahabench.clock import Timeline
from ahabench.engine.episode import run_episode
from ahabench.latency import CallRequest, ProfileError, make_latency_model
from ahabench.policy import CallCost, Policy, PolicySpec
from ahabench.task_registry import TaskEnv, TaskSpec
from ahabench.types import EpisodeInfo, Observation

PAPER = make_latency_model("profile", "rtx5090d-paper")


class ReachEnv(TaskEnv):
    """A 2-D 'arm' whose joints jump to the commanded targets; success once joint 0 reaches 1.0."""

    def __init__(self, max_steps=100, bounds=True):
        self.spec = TaskSpec(name="fake_reach", suite="test", env_id="none", description="reach 1.0", arms=1,
                             max_steps=max_steps, control_hz=25.0, action_dim=2)
        self.frames_rendered = 0
        if bounds:
            self.action_low = np.array([-1.5, -1.5], np.float32)
            self.action_high = np.array([1.5, 1.5], np.float32)
        self.resets, self.steps = 0, 0

    def reset(self, seed, setting="clean", unseen_instructions=True):
        self.resets += 1
        self.q = np.zeros(2, np.float32)
        return EpisodeInfo(task=self.spec.name, suite="test", instruction=f"reach (seed {seed})", action_dim=2,
                           control_hz=25.0, max_steps=self.spec.max_steps, seed=seed, setting=setting)

    def observe(self, tick, time_us):
        self.frames_rendered += 1
        assert time_us == tick * 40_000
        return Observation(images={}, qpos=self.q.copy(), instruction="reach", tick=tick, time_us=time_us)

    def step(self, action):
        self.steps += 1
        self.q = np.asarray(action, np.float32).copy()
        return {"success": bool(self.q[0] >= 1.0 - 1e-6)}

    def hold_action(self):
        return self.q.copy()

    def expert(self):
        yield np.ones(2, np.float32)

    def close(self):
        pass


class RampPolicy(Policy):
    """Moves joint 0 up by 0.05 per action from the observed position (a planner variant too)."""

    def __init__(self, name, planner, chunk_len, execute_len, default_mode, modes=("frozen", "blocking", "async"),
                 async_trigger=None, nan_at=None, high=None, privileged=False):
        self.spec = PolicySpec(name=name, chunk_len=chunk_len, execute_len=execute_len, has_planner=planner,
                               modes=modes, default_mode=default_mode, async_trigger=async_trigger,
                               privileged=privileged)
        self.nan_at, self.high = nan_at, high
        self.acts, self.prefills, self.bound = [], [], None

    def reset(self, episode):
        self.episode = episode
        self.acts, self.prefills = [], []

    def prefill(self, obs):
        self.prefills.append(obs.tick)
        return {"tick": obs.tick}

    def act(self, obs, context=None, phase_offset=0):
        self.acts.append((obs.tick, context, phase_offset))
        start = float(obs.qpos[0])
        chunk = np.zeros((self.spec.chunk_len, 2), np.float32)
        chunk[:, 0] = np.minimum(1.0, start + 0.05 * np.arange(1, self.spec.chunk_len + 1))
        if self.nan_at is not None:
            chunk[self.nan_at] = np.nan
        if self.high is not None:
            chunk[3, 1] = self.high
        return chunk

    def cost(self, call):
        return {"prefill": CallCost(2e12, 1e9), "chunk": CallCost(3e12, 2e9), "call": CallCost(6e12, 3e9)}[call]

    def bind_env(self, env):
        if not self.spec.privileged:
            return super().bind_env(env)
        self.bound = env


def aha(name="aha-wam", **kw):
    return RampPolicy(name, True, 16, 16, "async", async_trigger=8, **kw)


def fast(name="fast-wam", **kw):
    return RampPolicy(name, False, 32, 24, "blocking", **kw)


def run(policy, env=None, mode=None, latency=PAPER, **kw):
    return run_episode(env or ReachEnv(), policy, seed=5, setting="clean", mode=mode, latency=latency, **kw)


def test_paper_profile_gives_the_published_rates():
    a, _ = run(aha())
    f, _ = run(fast())
    flash, _ = run(aha("aha-wam-flash"))
    assert round(a.chunk_hz, 2) == 24.17 and round(f.chunk_hz, 2) == 5.26 and round(flash.chunk_hz, 2) == 56.95
    assert round(a.chunk_hz / f.chunk_hz, 2) == 4.59 and round(flash.chunk_hz / f.chunk_hz, 2) == 10.82
    assert a.success_once and f.success_once
    assert a.t_success_s < f.t_success_s  # async hides the latency; blocking holds through every call


def test_record_fields_are_filled_and_deterministic():
    env = ReachEnv()
    rec, tl = run(aha(), env=env, record_timeline=True)
    assert isinstance(tl, Timeline)
    assert (rec.task, rec.setting, rec.seed, rec.policy, rec.mode) == ("fake_reach", "clean", 5, "aha-wam", "async")
    assert (rec.profile, rec.latency, rec.reproducible, rec.error) == ("rtx5090d-paper", "profile", True, None)
    assert rec.instruction == "reach (seed 5)"
    # ticks 0, 1 hold (the first chunk lands at 76 ms) and their 2 actions are stale, so the ramp stays on
    # schedule: action k (0.05 * (k + 1)) runs at tick k and joint 0 reaches 1.0 at tick 19
    assert rec.t_success_s == pytest.approx(20 * 0.04) and rec.ticks == 20 and rec.ticks_held == 2
    assert rec.frames_rendered == rec.frames_consumed == env.frames_rendered
    assert rec.n_prefills >= 1 and rec.prefill_ms_p50 == pytest.approx(34.59)
    assert rec.reaction_ms_p50 == 80.0 and rec.stale_ratio > 0
    assert rec.extra["control_hz"] == 25.0 and rec.extra["latency_scale"] == 1.0
    assert run(aha())[0].to_json() == rec.to_json()
    assert run(aha())[1] is None


def test_phase_offset_and_context_reach_the_policy():
    pol = aha()
    run(pol, env=ReachEnv(max_steps=60), stop_on_success=False)
    assert pol.prefills[0] == 0
    first_tick, ctx, off = pol.acts[0]
    assert (first_tick, ctx, off) == (0, {"tick": 0}, 0)
    assert all(off == tick - c["tick"] for tick, c, off in pol.acts)
    assert any(off > 0 for _, _, off in pol.acts)


def test_modes_change_time_to_success_not_success():
    frozen, _ = run(fast(), mode="frozen")
    blocking, _ = run(fast(), mode="blocking")
    asyn, _ = run(fast(), mode="async")
    assert frozen.success_once and blocking.success_once and asyn.success_once
    assert frozen.t_success_s == pytest.approx(0.8)  # 20 actions of 40 ms, no waiting at all
    assert blocking.t_success_s == pytest.approx(1.0)  # first chunk lands at 190 ms -> starts at tick 5
    assert frozen.reaction_ms_p50 == 0.0 and blocking.reaction_ms_p50 == 200.0


def test_unsupported_mode_raises_naming_it():
    with pytest.raises(ValueError, match="'async'"):
        run(fast(modes=("frozen", "blocking")), mode="async")
    with pytest.raises(ValueError, match="'warp'"):
        run(fast(), mode="warp")


@pytest.mark.parametrize("kind", ["nan", "bounds", "explicit_bounds"])
def test_bad_actions_end_the_episode_as_failed(kind):
    if kind == "nan":
        rec, _ = run(fast(nan_at=7))
        assert "nan" in rec.error and "row 7" in rec.error
    elif kind == "bounds":
        rec, _ = run(fast(high=2.5))
        assert "2.5" in rec.error and "row 3, dim 1" in rec.error and "high bound 1.5" in rec.error
    else:
        rec, _ = run(fast(high=0.9), env=ReachEnv(bounds=False), action_low=-1.0, action_high=[1.0, 0.5])
        assert "0.9" in rec.error and "dim 1" in rec.error
    assert rec.error_kind == "bad_action" and not rec.success_once and rec.t_success_s is None
    assert rec.ticks == 0  # the first chunk was already bad: nothing ran


def test_policy_and_env_exceptions_propagate():
    class Boom(RampPolicy):
        def act(self, obs, context=None, phase_offset=0):
            raise RuntimeError("policy exploded")

    with pytest.raises(RuntimeError, match="exploded"):
        run(Boom("fast-wam", False, 32, 24, "blocking"))


def test_latency_problems_surface_before_the_episode_starts():
    env = ReachEnv()
    with pytest.raises(ProfileError, match="'mystery'"):
        run(fast("mystery"), env=env)
    assert env.resets == 0


def test_measured_roofline_and_fixed_latency_models():
    rec, _ = run(fast(), latency=make_latency_model("measured"))
    assert (rec.latency, rec.reproducible) == ("measured", False)
    roof = make_latency_model("roofline", device="h100")
    rec, _ = run(fast(), latency=roof)
    want_ms = roof.base_ms(CallRequest("fast-wam", "call", 0, 5, cost=lambda: CallCost(6e12, 3e9)))
    assert (rec.latency, rec.profile) == ("roofline", "h100")
    assert rec.chunk_ms_p50 == pytest.approx(round(want_ms * 1000) / 1000)
    rec, _ = run(fast(), latency=make_latency_model("profile", fixed_ms=400))
    assert rec.latency == "fixed" and rec.chunk_ms_mean == 400.0


def test_privileged_policies_get_the_env_and_others_do_not():
    env = ReachEnv()
    oracle = fast("expert", privileged=True)
    run(oracle, env=env)
    assert oracle.bound is env
    plain = fast()
    run(plain, env=env)
    assert plain.bound is None


def test_two_devices_and_latency_scale():
    one, _ = run(aha(), env=ReachEnv(max_steps=80), stop_on_success=False)
    two, _ = run(aha(), env=ReachEnv(max_steps=80), stop_on_success=False, two_devices=True)
    assert two.chunk_hz == one.chunk_hz and two.extra["two_devices"]
    slow, _ = run(fast(), latency=make_latency_model("profile", scale=2.0))
    assert slow.chunk_ms_mean == pytest.approx(380.0) and slow.extra["latency_scale"] == 2.0


@pytest.mark.slow
def test_real_task_with_the_expert_is_reproducible():
    """End to end on a real ManiSkill task with the scripted expert."""
    from ahabench.policy_registry import make_policy
    from ahabench.task_registry import make_task_env

    env = make_task_env("stack_blocks_two")
    try:
        a, _ = run_episode(env, make_policy("expert"), seed=1, setting="clean", mode="blocking", latency=PAPER)
        b, _ = run_episode(env, make_policy("expert"), seed=1, setting="clean", mode="blocking", latency=PAPER)
    finally:
        env.close()
    assert a.error is None and a.success_once
    assert a.to_json() == b.to_json()  # byte-identical under a profile latency model
    assert a.frames_rendered == a.frames_consumed == a.n_chunks  # lazy rendering: one frame per call
