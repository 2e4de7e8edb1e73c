"""Async-mode timelines of the simulated clock, computed by hand (25 Hz: dt = 40 ms = 40000 us)."""

from __future__ import annotations

import pytest

from ahabench.clock import Clock, ClockConfig, episode_metrics
from ahabench.clock.fakes import ScriptedRunner, ScriptedWorld

P, C = 34_590, 41_370  # the paper's prefill and chunk latencies, in us


def run(durations, success_at=None, **cfg):
    base = dict(control_hz=25, max_steps=40, mode="async", chunk_len=16, execute_len=16, has_planner=True)
    base.update(cfg)
    config = ClockConfig(**base)
    world, runner = ScriptedWorld(success_at=success_at), ScriptedRunner(durations, config.chunk_len)
    return Clock(config, world, runner).run(), world, runner


def sources(tl):
    return [t.source for t in tl.ticks]


def test_worked_example_of_the_spec():
    tl, world, runner = run({"prefill": P, "chunk": C}, max_steps=32)
    j0, j1 = tl.jobs[0], tl.jobs[1]
    assert (j0.call, j0.device, j0.submit_us, j0.start_us, j0.end_us, j0.obs_tick) == (
        "prefill", "gpu0", 0, 0, 34_590, 0)
    assert tl.contexts[0].version == 1 and tl.contexts[0].publish_us == 34_590 and tl.contexts[0].obs_tick == 0
    # the executor starts chunk 1 on o_0, the newest observation at or before 34.59 ms
    assert (j1.call, j1.submit_us, j1.start_us, j1.end_us, j1.obs_tick) == ("chunk", 34_590, 34_590, 75_960, 0)
    assert (j1.context_version, j1.phase_offset, j1.context_age_us) == (1, 0, 34_590)
    a = tl.arrivals[0]
    assert (a.job, a.time_us, a.stale, a.placed, a.first_tick) == (1, 75_960, 2, 14, 2)
    # ticks 0, 1 hold; ticks 2..15 execute chunk 1; reaction for o_0 = 80 ms
    assert sources(tl)[:16] == [None, None] + [1] * 14
    assert j1.first_exec_tick == 2
    assert episode_metrics(tl)["reaction_ms_p50"] == 80.0
    # the robot executes the chunk's own actions 2..15 at ticks 2..15
    assert [act[2] for t, act in world.applied[2:16]] == list(range(2, 16))
    # And so on (trigger 0: the next request comes when the queue is dry, at tick 16 = 640 ms): context v1 was
    # captured at 0 ms, 640 ms old > 500 ms, so the request waits and a refresh runs on o_16 first.
    assert (tl.waits[0].time_us, tl.waits[0].context_version, tl.waits[0].age_us) == (640_000, 1, 640_000)
    j2, j3 = tl.jobs[2], tl.jobs[3]
    assert (j2.call, j2.obs_tick, j2.start_us, j2.end_us) == ("prefill", 16, 640_000, 674_590)
    assert (j3.call, j3.obs_tick, j3.start_us, j3.end_us, j3.context_version) == ("chunk", 16, 674_590, 715_960, 2)
    assert sources(tl)[16:] == [None, None] + [3] * 14
    assert world.observed == [0, 16]  # lazy rendering: only consumed frames


def test_async_steady_state_with_trigger_refresh_and_staleness():
    tl, _, _ = run({"prefill": P, "chunk": C}, async_trigger=8)
    calls = [(j.id, j.call, j.obs_tick, j.start_us, j.end_us) for j in tl.jobs]
    assert calls == [
        (0, "prefill", 0, 0, 34_590),
        (1, "chunk", 0, 34_590, 75_960),
        (2, "chunk", 8, 320_000, 361_370),  # 8 actions left at tick 8 (ticks 8..15)
        (3, "prefill", 9, 361_370, 395_960),  # 2 chunks since the refresh: planner on the newest frame o_9
        (4, "chunk", 16, 640_000, 681_370),
        (5, "prefill", 24, 960_000, 994_590),  # context v2 (o_9, 360 ms) is 600 ms old: refresh first
        (6, "chunk", 24, 994_590, 1_035_960),
        (7, "chunk", 32, 1_280_000, 1_321_370),
        (8, "prefill", 33, 1_321_370, 1_355_960),  # 2 chunks (6, 7) since the last refresh
    ]
    assert [(j.context_version, j.phase_offset, j.context_age_us) for j in tl.jobs_of("chunk")] == [
        (1, 0, 34_590), (1, 8, 320_000), (2, 7, 280_000), (3, 0, 34_590), (3, 8, 320_000)]
    assert [(a.stale, a.placed, a.first_tick) for a in tl.arrivals] == [(2, 14, 2), (2, 14, 10), (2, 14, 18),
                                                                         (2, 14, 26), (2, 14, 34)]
    assert sources(tl) == [None] * 2 + [1] * 8 + [2] * 8 + [4] * 8 + [6] * 8 + [7] * 6
    assert [(w.time_us, w.context_version, w.age_us) for w in tl.waits] == [(960_000, 2, 600_000)]
    m = episode_metrics(tl)
    assert m["reaction_ms_p50"] == 80.0 and m["actions_stale"] == 10 and m["actions_produced"] == 80
    assert m["ticks_held"] == 2 and m["hold_ratio"] == pytest.approx(2 / 40)
    assert m["context_age_ms_max"] == 320.0 and m["n_prefills"] == 4 and m["n_chunks"] == 5


def test_executor_priority_and_latest_wins_prefill():
    # One device, refresh after every chunk, trigger 14: the executor asks again as soon as a chunk lands,
    # so every queued refresh loses to the chunk and is then replaced by a newer one.
    tl, _, _ = run({"prefill": 30_000, "chunk": 50_000}, async_trigger=14, refresh_every=1, max_context_age_us=None,
                   max_steps=8)
    rows = [(j.id, j.call, j.obs_tick, j.submit_us, j.start_us, j.status) for j in tl.jobs]
    assert rows[:8] == [
        (0, "prefill", 0, 0, 0, "done"),
        (1, "chunk", 0, 30_000, 30_000, "done"),
        (2, "prefill", 2, 80_000, None, "superseded"),  # submitted first, but the chunk has priority
        (3, "chunk", 2, 80_000, 80_000, "done"),
        (4, "prefill", 3, 130_000, None, "superseded"),  # latest wins: it replaced job 2 ...
        (5, "chunk", 3, 130_000, 130_000, "done"),
        (6, "prefill", 4, 180_000, None, "superseded"),  # ... and was replaced by job 6
        (7, "chunk", 4, 180_000, 180_000, "done"),
    ]
    assert all(j.context_version == 1 for j in tl.jobs_of("chunk", status=None) if j.start_us is not None)
    assert [j.phase_offset for j in tl.jobs_of("chunk")][:4] == [0, 2, 3, 4]
    assert [(a.stale, a.first_tick) for a in tl.arrivals][:3] == [(2, 2), (2, 4), (2, 5)]
    assert len(tl.contexts) == 1


def test_two_devices_run_planner_and_executor_concurrently():
    tl, _, _ = run({"prefill": 30_000, "chunk": 50_000}, async_trigger=14, refresh_every=1, max_context_age_us=None,
                   max_steps=6, devices={"prefill": "gpu1", "chunk": "gpu0", "call": "gpu0"})
    rows = [(j.id, j.call, j.device, j.obs_tick, j.start_us, j.end_us) for j in tl.jobs[:8]]
    assert rows == [
        (0, "prefill", "gpu1", 0, 0, 30_000),
        (1, "chunk", "gpu0", 0, 30_000, 80_000),
        (2, "prefill", "gpu1", 2, 80_000, 110_000),
        (3, "chunk", "gpu0", 2, 80_000, 130_000),  # overlaps job 2 on the other device
        (4, "prefill", "gpu1", 3, 130_000, 160_000),
        (5, "chunk", "gpu0", 3, 130_000, 180_000),
        (6, "prefill", "gpu1", 4, 180_000, 210_000),
        (7, "chunk", "gpu0", 4, 180_000, 230_000),
    ]
    assert tl.devices == ["gpu0", "gpu1"]
    chunks = tl.jobs_of("chunk")
    # context of o_2 (captured 80 ms) is published at 110 ms, in time for the chunk submitted at 130 ms
    assert [(j.context_version, j.phase_offset, j.context_age_us) for j in chunks][:3] == [
        (1, 0, 30_000), (1, 2, 80_000), (2, 1, 50_000)]


def test_sync_policy_async_holds_only_at_start():
    # A Fast-WAM-like call (190 ms, chunk 32, execute 24 -> trigger 8) deployed asynchronously.
    tl, _, _ = run({"call": 190_000}, has_planner=False, chunk_len=32, execute_len=24, max_steps=60)
    assert [(j.obs_tick, j.start_us, j.end_us) for j in tl.jobs] == [
        (0, 0, 190_000), (24, 960_000, 1_150_000), (48, 1_920_000, 2_110_000)]
    assert [(a.stale, a.placed, a.first_tick) for a in tl.arrivals] == [(5, 27, 5), (5, 27, 29), (5, 27, 53)]
    assert sources(tl) == [None] * 5 + [0] * 24 + [1] * 24 + [2] * 7
    m = episode_metrics(tl)
    assert m["hold_ratio"] == pytest.approx(5 / 60) and m["reaction_ms_p50"] == 200.0
    assert m["stale_ratio"] == pytest.approx(15 / 96) and m["context_age_ms_p50"] is None


def test_planner_slower_than_staleness_bound_never_lets_executor_run():
    tl, world, _ = run({"prefill": 600_000, "chunk": C}, max_steps=40)
    assert tl.jobs_of("chunk", status=None) == []
    assert [(j.obs_tick, j.start_us) for j in tl.jobs] == [(0, 0), (15, 600_000), (30, 1_200_000)]
    assert [(w.time_us, w.context_version, w.age_us) for w in tl.waits] == [(600_000, 1, 600_000),
                                                                            (1_200_000, 2, 600_000)]
    assert all(a is None for _, a in world.applied)
    assert episode_metrics(tl)["hold_ratio"] == 1.0


def test_jittered_durations_are_deterministic_per_seed_and_call_index():
    from ahabench.latency import CallRequest, make_latency_model

    model = make_latency_model("profile", "rtx5090d-paper", jitter_sigma=0.3)

    class JitterRunner(ScriptedRunner):
        def __init__(self, seed):
            super().__init__({"prefill": 0, "chunk": 0}, 16)
            self.seed = seed

        def duration(self, call):
            return model.duration_us(CallRequest("aha-wam", call, self._count.get(call, 0), self.seed))

    def timeline(seed):
        config = ClockConfig(control_hz=25, max_steps=80, mode="async", chunk_len=16, execute_len=12, has_planner=True)
        return Clock(config, ScriptedWorld(), JitterRunner(seed)).run().to_dict()

    a, b, c = timeline(7), timeline(7), timeline(8)
    assert a == b
    assert a != c
    lat = [j["latency_us"] for j in a["jobs"] if j["call"] == "chunk"]
    assert len(set(lat)) == len(lat) > 3  # jitter really varies per call


def test_stop_on_success_and_run_to_the_end():
    tl, _, _ = run({"prefill": P, "chunk": C}, success_at=10, async_trigger=8)
    m = episode_metrics(tl)
    assert tl.n_ticks == 11 and m["t_success_s"] == pytest.approx(0.44) and m["success_at_end"]
    tl2, _, _ = run({"prefill": P, "chunk": C}, success_at=10, async_trigger=8, stop_on_success=False)
    assert tl2.n_ticks == 40 and episode_metrics(tl2)["t_success_s"] == pytest.approx(0.44)
