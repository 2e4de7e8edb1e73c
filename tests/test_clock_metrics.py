"""Metrics, the action queue's merge rules and timeline serialisation of the clock core."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import ahabench.clock
from ahabench.clock import ActionQueue, Clock, ClockConfig, Timeline, episode_metrics, percentile
from ahabench.clock.fakes import ScriptedRunner, ScriptedWorld
from ahabench.records import EpisodeRecord


def test_percentile_matches_linear_interpolation():
    xs = [1.0, 2.0, 3.0, 4.0]
    assert percentile(xs, 50) == 2.5
    assert percentile(xs, 95) == pytest.approx(3.85)
    assert percentile([5.0], 99) == 5.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="101"):
        percentile(xs, 101)


def test_queue_replace_is_latest_wins_and_keep_extends():
    q = ActionQueue()
    assert q.merge(0, ["a0", "a1", "a2", "a3"], job=0) == (4, 0)
    assert q.merge(2, ["b2", "b3"], job=1) == (2, 0)  # replaces ticks 2..3 and anything after
    assert [q.pop(t) for t in range(4)] == [("a0", 0), ("a1", 0), ("b2", 1), ("b3", 1)]
    q = ActionQueue()
    q.merge(0, ["a0", "a1", "a2"], job=0)
    assert q.merge(1, ["b1", "b2", "b3", "b4"], job=1, rule="keep") == (2, 2)
    assert q.remaining(1) == 4
    assert [q.pop(t)[0] for t in range(5)] == ["a0", "a1", "a2", "b3", "b4"]
    assert q.pop(5) is None


def test_keep_merge_in_async_counts_discarded_actions():
    config = ClockConfig(control_hz=25, max_steps=20, mode="async", chunk_len=8, execute_len=4, has_planner=False,
                         merge="keep")
    tl = Clock(config, ScriptedWorld(), ScriptedRunner({"call": 10_000}, 8)).run()
    # call 0 on o_0 lands at 10 ms: ticks 1..7 (tick 0 stale); at tick 4 (4 left) call 1 on o_4 lands at
    # 170 ms: tick 4 stale, ticks 5..7 already queued are kept (3 discarded), ticks 8..11 are added
    a = tl.arrivals[1]
    assert (a.obs_tick, a.stale, a.placed, a.discarded, a.first_tick) == (4, 1, 4, 3, 5)
    assert [t.source for t in tl.ticks[:12]] == [None] + [0] * 7 + [1] * 4


def test_metrics_fill_every_clock_field_of_episode_record():
    config = ClockConfig(control_hz=25, max_steps=30, mode="async", chunk_len=16, execute_len=8, has_planner=True)
    tl = Clock(config, ScriptedWorld(success_at=20), ScriptedRunner({"prefill": 34_590, "chunk": 41_370}, 16)).run()
    m = episode_metrics(tl)
    record_fields = set(EpisodeRecord.__dataclass_fields__)
    assert set(m) <= record_fields
    env_side = {"task", "setting", "seed", "policy", "mode", "profile", "latency", "frames_rendered", "error",
                "error_kind", "instruction", "reproducible", "extra",
                # motion quality: from the executed actions (ahabench.engine.motion), not the clock
                "jerk_rms", "path_length_rad", "idle_ratio", "joint_limit_ticks"}
    assert record_fields - set(m) == env_side
    assert m["ticks"] == 21 and m["sim_time_s"] == pytest.approx(0.84) and m["t_success_s"] == pytest.approx(0.84)
    assert m["chunk_hz"] == pytest.approx(1000 / 41.37)
    assert m["achieved_chunk_rate"] == pytest.approx(m["n_chunks"] / 0.84)


def test_timeline_round_trips_through_json():
    config = ClockConfig(control_hz=25, max_steps=30, mode="async", chunk_len=16, execute_len=8, has_planner=True)
    tl = Clock(config, ScriptedWorld(), ScriptedRunner({"prefill": 34_590, "chunk": 41_370}, 16)).run()
    back = Timeline.from_dict(json.loads(json.dumps(tl.to_dict())))
    assert back == tl
    assert episode_metrics(back) == episode_metrics(tl)


def test_clock_core_is_stdlib_only():
    code = ("import sys, ahabench.clock, ahabench.clock.fakes; "
            "print([m for m in ('numpy', 'torch', 'sapien', 'yaml') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    # no wall clock anywhere in the core: simulated time only
    for path in Path(ahabench.clock.__file__).parent.glob("*.py"):
        text = path.read_text()
        assert "import time" not in text and "from time" not in text, path


def test_zero_latency_async_does_not_livelock():
    # Zero-duration chunks submitted mid-tick (after a prefill lands at 10 ms) lose one action to
    # staleness; with trigger = chunk_len - 1 that would re-trigger forever at one instant.
    config = ClockConfig(control_hz=25, max_steps=12, mode="async", chunk_len=4, execute_len=1, has_planner=True,
                         max_context_age_us=None)
    tl = Clock(config, ScriptedWorld(), ScriptedRunner({"prefill": 10_000, "chunk": 0}, 4)).run()
    assert tl.n_ticks == 12
    assert len({(j.submit_us, j.call) for j in tl.jobs}) == len(tl.jobs)
    assert tl.ticks[0].source is None and all(t.source is not None for t in tl.ticks[1:])
