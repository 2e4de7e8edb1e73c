"""Blocking and frozen timelines of the simulated clock, computed by hand (25 Hz: dt = 40 ms)."""

from __future__ import annotations

import pytest

from ahabench.clock import Clock, ClockConfig, episode_metrics
from ahabench.clock.fakes import ScriptedRunner, ScriptedWorld

P, C = 34_590, 41_370


def run(durations, mode, **cfg):
    base = dict(control_hz=25, max_steps=60, mode=mode, chunk_len=16, execute_len=16, has_planner=True)
    base.update(cfg)
    config = ClockConfig(**base)
    world, runner = ScriptedWorld(), ScriptedRunner(durations, config.chunk_len)
    return Clock(config, world, runner).run(), world, runner


def sources(tl):
    return [t.source for t in tl.ticks]


def test_blocking_fast_wam_190ms_chunk32_execute24():
    tl, world, runner = run({"call": 190_000}, "blocking", has_planner=False, chunk_len=32, execute_len=24,
                            max_steps=70)
    # call on o_0 lands at 190 ms -> first tick at or after it is 5 (200 ms); 24 actions: ticks 5..28;
    # the next call is submitted after the last executed action, on o_29 (1160 ms), lands at 1350 ms -> tick 34
    assert [(j.obs_tick, j.start_us, j.end_us) for j in tl.jobs] == [
        (0, 0, 190_000), (29, 1_160_000, 1_350_000), (58, 2_320_000, 2_510_000)]
    assert [(a.stale, a.placed, a.discarded, a.first_tick) for a in tl.arrivals] == [
        (0, 24, 8, 5), (0, 24, 8, 34), (0, 24, 8, 63)]
    assert sources(tl) == [None] * 5 + [0] * 24 + [None] * 5 + [1] * 24 + [None] * 5 + [2] * 7
    # chunk actions are re-indexed: the chunk's first action runs first
    assert [a[2] for _, a in world.applied[5:29]] == list(range(24))
    assert world.observed == [0, 29, 58]
    m = episode_metrics(tl)
    assert m["hold_ratio"] == pytest.approx(15 / 70) and m["stale_ratio"] == 0.0
    assert m["reaction_ms_p50"] == 200.0 and m["chunk_hz"] == pytest.approx(1000 / 190)
    assert m["ticks_held"] == 15 and m["actions_produced"] == 96


def test_blocking_planner_holds_through_prefill_and_chunk():
    tl, _, runner = run({"prefill": P, "chunk": C}, "blocking", refresh_every=2)
    rows = [(j.call, j.obs_tick, j.submit_us, j.start_us, j.end_us, j.phase_offset) for j in tl.jobs]
    assert rows == [
        ("prefill", 0, 0, 0, 34_590, None),
        ("chunk", 0, 34_590, 34_590, 75_960, 0),  # back to back, on the prefill's frame
        ("chunk", 18, 720_000, 720_000, 761_370, 18),  # no refresh yet: the same context, 18 ticks later
        ("prefill", 36, 1_440_000, 1_440_000, 1_474_590, None),  # 2 chunks since the refresh
        ("chunk", 36, 1_474_590, 1_474_590, 1_515_960, 0),
        ("chunk", 54, 2_160_000, 2_160_000, 2_201_370, 18),
    ]
    assert sources(tl) == ([None] * 2 + [1] * 16 + [None] * 2 + [2] * 16 + [None] * 2 + [4] * 16 + [None] * 2
                           + [5] * 4)
    assert [c["context"] for c in runner.calls if c["call"] == "chunk"] == [("ctx", 0), ("ctx", 0), ("ctx", 36),
                                                                             ("ctx", 36)]
    m = episode_metrics(tl)
    assert m["hold_ratio"] == pytest.approx(8 / 60) and m["reaction_ms_p50"] == 80.0
    assert m["context_age_ms_max"] == 720.0  # the second chunk reads a context captured 720 ms earlier


def test_frozen_world_waits_for_the_model():
    tl, world, runner = run({"prefill": P, "chunk": C}, "frozen", max_steps=64)
    rows = [(j.call, j.obs_tick, j.start_us, j.end_us, j.latency_us) for j in tl.jobs]
    assert rows == [
        ("prefill", 0, 0, 0, P), ("chunk", 0, 0, 0, C),
        ("chunk", 16, 640_000, 640_000, C),
        ("prefill", 32, 1_280_000, 1_280_000, P), ("chunk", 32, 1_280_000, 1_280_000, C),
        ("chunk", 48, 1_920_000, 1_920_000, C),
    ]
    assert sources(tl) == [1] * 16 + [2] * 16 + [4] * 16 + [5] * 16
    m = episode_metrics(tl)
    assert m["hold_ratio"] == 0.0 and m["reaction_ms_p50"] == 0.0 and m["stale_ratio"] == 0.0
    assert m["chunk_ms_mean"] == pytest.approx(41.37) and m["prefill_ms_mean"] == pytest.approx(34.59)
    assert m["chunk_hz"] == pytest.approx(24.17, abs=0.005)
    assert m["sim_time_s"] == pytest.approx(2.56)  # the model's 0.15 s of compute cost no simulated time
    assert world.observed == [0, 16, 32, 48]


def test_frozen_sync_policy_executes_from_its_own_tick():
    tl, _, _ = run({"call": 190_000}, "frozen", has_planner=False, chunk_len=32, execute_len=24, max_steps=50)
    assert [j.obs_tick for j in tl.jobs] == [0, 24, 48]
    assert sources(tl) == [0] * 24 + [1] * 24 + [2] * 2
    assert [a.discarded for a in tl.arrivals] == [8, 8, 8]


def test_blocking_chunk_arriving_exactly_on_a_tick_runs_at_that_tick():
    tl, _, _ = run({"call": 80_000}, "blocking", has_planner=False, chunk_len=4, execute_len=4, max_steps=12)
    # lands at 80 ms = tick 2 exactly: arrivals are processed before the tick's action is fixed
    assert sources(tl) == [None, None, 0, 0, 0, 0, None, None, 1, 1, 1, 1]


def test_two_devices_change_nothing_in_blocking_mode():
    one, _, _ = run({"prefill": P, "chunk": C}, "blocking")
    two, _, _ = run({"prefill": P, "chunk": C}, "blocking", devices={"prefill": "gpu1", "chunk": "gpu0",
                                                                       "call": "gpu0"})
    assert sources(one) == sources(two)
    assert {j.device for j in two.jobs_of("prefill")} == {"gpu1"}


def test_bad_configs_name_the_value():
    with pytest.raises(ValueError, match="'warp'"):
        ClockConfig(control_hz=25, max_steps=10, mode="warp", chunk_len=4, execute_len=4)
    with pytest.raises(ValueError, match="execute_len"):
        ClockConfig(control_hz=25, max_steps=10, mode="async", chunk_len=4, execute_len=5)
    with pytest.raises(ValueError, match="trigger 4"):
        Clock(ClockConfig(control_hz=25, max_steps=10, mode="async", chunk_len=4, execute_len=4, async_trigger=4),
              ScriptedWorld(), ScriptedRunner({"call": 1}, 4))
