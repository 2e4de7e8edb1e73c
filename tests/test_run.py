"""The multi-episode engine on a tiny fake task (no physics): files, determinism, workers, resume, crashes.

The fake task and the crashing policy are registered when this module is imported; worker processes
import it too (``imports=[__name__]``), the way a user plugin registers its own tasks and policies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from ahabench.policies.hold import HoldPolicy
from ahabench.policy import Policy, PolicySpec
from ahabench.policy_registry import _POLICIES, register_policy
from ahabench.task_registry import _TASKS, TaskEnv, TaskSpec, register_task
from ahabench.types import EpisodeInfo, Observation

FAKE_TASK = "h6_fake_reach"
FAKE_SPEC = TaskSpec(name=FAKE_TASK, suite="h6_fake", env_id="none", description="move a 2-D point onto a target",
                     arms=1, max_steps=40, control_hz=25.0, action_dim=2)


class FakeReachEnv(TaskEnv):
    """A point that follows its joint target at most ``max_speed`` (env kwarg, default 0.1) per tick; success within
    0.05 of a seeded target."""

    spec = FAKE_SPEC

    def __init__(self, **kwargs: Any):
        task_args = dict(kwargs.get("env_kwargs") or {})
        self.max_speed = float(task_args.pop("max_speed", 0.1))
        if task_args:  # as a real env class refuses an argument it does not take
            raise TypeError(f"FakeReachEnv got unexpected env kwargs {sorted(task_args)}")
        self.frames_rendered = 0
        self.q = np.zeros(2, np.float32)
        self.target = np.zeros(2, np.float32)
        self.cmd = np.zeros(2, np.float32)

    def reset(self, seed: int, setting: str = "clean", unseen_instructions: bool = True) -> EpisodeInfo:
        rng = np.random.default_rng(seed)
        self.target = rng.uniform(-1.0, 1.0, 2).astype(np.float32)
        self.q = np.zeros(2, np.float32)
        self.cmd = self.q.copy()
        return EpisodeInfo(task=FAKE_TASK, suite="h6_fake", instruction="reach", action_dim=2, control_hz=25.0,
                           max_steps=40, seed=seed, setting=setting)

    def observe(self, tick: int, time_us: int) -> Observation:
        self.frames_rendered += 1
        return Observation(images={"head": np.zeros((8, 8, 3), np.uint8)}, qpos=self.q.copy(), instruction="reach",
                           tick=tick, time_us=time_us)

    def step(self, action: np.ndarray) -> dict[str, bool]:
        self.cmd = np.asarray(action, np.float32)
        self.q = self.q + np.clip(self.cmd - self.q, -self.max_speed, self.max_speed)
        return {"success": bool(np.linalg.norm(self.q - self.target) < 0.05)}

    def hold_action(self) -> np.ndarray:
        return self.cmd.copy()

    def expert(self) -> Iterator[np.ndarray]:
        start = self.q.copy()
        for i in range(20):
            yield start + (self.target - start) * min(1.0, (i + 1) / 12)

    def close(self) -> None:
        pass


class CrashOnSeed(HoldPolicy):
    """Holds, but raises in the episode whose seed is 3 (crash isolation)."""

    def reset(self, episode: EpisodeInfo) -> None:
        super().reset(episode)
        self._seed = episode.seed

    def act(self, obs: Observation, context: Any = None, phase_offset: int = 0) -> np.ndarray:
        if self._seed == 3:
            raise RuntimeError("policy exploded on seed 3")
        return super().act(obs, context, phase_offset)


if FAKE_TASK not in _TASKS:
    register_task(FAKE_SPEC, FakeReachEnv)
if "h6-crash" not in _POLICIES:
    # Its spec name is ``hold`` (inherited), so the latency profile times it as the hold policy.
    register_policy("h6-crash", "test policy: raises on seed 3")(CrashOnSeed)


class FakeWAM(Policy):
    """Stands in for a WAM policy under its profile name (the profile times it): holds its position."""

    def __init__(self, name: str, planner: bool, mode: str):
        self.spec = PolicySpec(name=name, chunk_len=16, execute_len=8 if planner else 16, has_planner=planner,
                               default_mode=mode)

    def reset(self, episode: EpisodeInfo) -> None:
        pass

    def prefill(self, obs: Observation) -> Any:
        return obs.tick

    def act(self, obs: Observation, context: Any = None, phase_offset: int = 0) -> np.ndarray:
        return np.repeat(obs.qpos[None], 16, axis=0)


for _reg, _name, _planner, _mode in (("h6-aha", "aha-wam", True, "async"), ("h6-flash", "aha-wam-flash", True, "async"),
                                     ("h6-fast", "fast-wam", False, "blocking")):
    if _reg not in _POLICIES:
        register_policy(_reg, f"test stand-in timed as {_name}")(
            lambda _n=_name, _p=_planner, _m=_mode, **kw: FakeWAM(_n, _p, _m))

SEEDS = {FAKE_TASK: [0, 1, 2, 3, 4, 5]}


def run(tmp_path, name="run", **kw):
    from ahabench.api import eval_run

    args = dict(policy="expert", tasks=[FAKE_TASK], episodes=6, seeds=SEEDS, out=tmp_path / name, imports=[__name__])
    args.update(kw)
    return eval_run(**args)


def test_run_writes_all_files(tmp_path):
    res = run(tmp_path)
    out = res.out
    for f in ("manifest.json", "episodes.jsonl", "summary.csv", "summary.json"):
        assert (out / f).exists(), f
    man = json.loads((out / "manifest.json").read_text())
    assert man["config"]["policy"] == "expert" and man["config"]["mode"] == "blocking"
    assert man["seeds"] == {FAKE_TASK: SEEDS[FAKE_TASK]}
    assert {"versions", "git", "host", "created_utc"} <= man.keys()
    lines = (out / "episodes.jsonl").read_text().splitlines()
    assert [json.loads(x)["seed"] for x in lines] == SEEDS[FAKE_TASK]
    assert res.overall.episodes == 6 and res.overall.errors == 0
    # The scripted expert solves this task; ``hold`` never does.
    assert res.overall.successes == 6
    rec = res.records[0]
    assert rec.profile == "rtx5090d-paper" and rec.latency == "profile" and rec.chunk_ms_mean == pytest.approx(41.37)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["successes"] == 6


def test_timelines_are_kept_at_eval_time_and_the_report_only_reads_them(tmp_path, monkeypatch):
    from ahabench.engine import workers
    from ahabench.report.markdown import write_report
    from ahabench.rundir import read_timeline, timeline_path

    res = run(tmp_path, workers=2)
    for s in SEEDS[FAKE_TASK]:
        tl = read_timeline(res.out, FAKE_TASK, s)
        assert tl is not None and tl.ticks and any(j.call == "call" for j in tl.jobs)
    again = run(tmp_path, name="again")  # one worker: the stored timelines are the same bytes
    assert timeline_path(res.out, FAKE_TASK, 3).read_bytes() == timeline_path(again.out, FAKE_TASK, 3).read_bytes()

    def no_episodes(*_a, **_k):
        raise AssertionError("a report must not run an episode")

    monkeypatch.setattr(workers.EpisodeWorker, "run", no_episodes)
    text = write_report(res.out).read_text()
    assert f"Timeline of {FAKE_TASK} seed 0 (stored)" in text and (res.out / "plots" / "timeline.png").exists()
    timeline_path(res.out, FAKE_TASK, 0).unlink()
    assert "No stored timeline" in write_report(res.out).read_text()


def test_hold_never_succeeds(tmp_path):
    res = run(tmp_path, policy="hold")
    assert res.overall.successes == 0 and res.overall.errors == 0
    assert all(r.ticks == 40 for r in res.records)


def test_latency_alone_slows_the_expert(tmp_path):
    frozen = run(tmp_path, "f", mode="frozen")
    blocking = run(tmp_path, "b", mode="blocking", fixed_ms=200.0)
    assert frozen.overall.hold_ratio == 0.0
    assert frozen.overall.t_success_mean_s < blocking.overall.t_success_mean_s
    # The robot holds 5 ticks (200 ms at 25 Hz) before each 16-action chunk starts.
    assert blocking.overall.hold_ratio > 0.2
    assert blocking.records[0].profile == "fixed-200ms" and blocking.records[0].latency == "fixed"


def test_determinism_byte_identical(tmp_path):
    a = run(tmp_path, "a", policy="expert", mode="async")
    b = run(tmp_path, "b", policy="expert", mode="async")
    assert (a.out / "episodes.jsonl").read_bytes() == (b.out / "episodes.jsonl").read_bytes()


def test_workers_two_equals_one(tmp_path):
    one = run(tmp_path, "w1", workers=1)
    two = run(tmp_path, "w2", workers=2)
    assert (one.out / "episodes.jsonl").read_bytes() == (two.out / "episodes.jsonl").read_bytes()
    assert (one.out / "summary.csv").read_bytes() == (two.out / "summary.csv").read_bytes()


def test_resume_after_kill_with_partial_line(tmp_path):
    full = run(tmp_path, "full")
    ref = (full.out / "episodes.jsonl").read_bytes()
    lines = ref.splitlines(keepends=True)
    # Simulate a run killed mid-write: three complete lines, then half of the fourth.
    killed = tmp_path / "killed"
    killed.mkdir()
    (killed / "manifest.json").write_bytes((full.out / "manifest.json").read_bytes())
    (killed / "episodes.jsonl").write_bytes(b"".join(lines[:3]) + lines[3][: len(lines[3]) // 2])
    seen = []
    res = run(tmp_path, "killed", resume=True, progress=lambda ev: seen.append(ev.record.seed))
    assert seen == [3, 4, 5]  # only the missing episodes ran
    assert (killed / "episodes.jsonl").read_bytes() == ref  # nothing lost, nothing duplicated
    assert res.overall.episodes == 6


def test_existing_run_needs_resume_and_same_config(tmp_path):
    run(tmp_path, "r")
    with pytest.raises(FileExistsError, match="--resume"):
        run(tmp_path, "r")
    with pytest.raises(ValueError, match="mode: 'blocking' -> 'async'"):
        run(tmp_path, "r", resume=True, mode="async")
    # Resuming a finished run runs nothing and changes nothing.
    before = (tmp_path / "r" / "episodes.jsonl").read_bytes()
    run(tmp_path, "r", resume=True, progress=lambda ev: pytest.fail("nothing should run"))
    assert (tmp_path / "r" / "episodes.jsonl").read_bytes() == before


def test_crash_isolation(tmp_path):
    res = run(tmp_path, policy="h6-crash")
    by_seed = {r.seed: r for r in res.records}
    assert by_seed[3].error_kind == "crash" and "exploded on seed 3" in by_seed[3].error
    assert not by_seed[3].success_once
    assert all(by_seed[s].error is None and by_seed[s].ticks == 40 for s in (0, 1, 2, 4, 5))
    assert res.overall.errors == 1 and res.overall.failures == 5


def test_bad_config_fails_before_any_episode(tmp_path):
    with pytest.raises(KeyError, match="nope"):
        run(tmp_path, policy="nope")
    with pytest.raises(ValueError, match="'warp'"):
        run(tmp_path, mode="warp")
    with pytest.raises(ValueError, match="no-such-profile"):
        run(tmp_path, profile="no-such-profile")
    with pytest.raises(ValueError, match="setting 'dusty'"):
        run(tmp_path, setting="dusty")
    assert not (tmp_path / "run" / "episodes.jsonl").exists()


def test_compare_reproduces_the_paper_rates_through_the_clock(tmp_path):
    """Under rtx5090d-paper: AHA-WAM 24.17 Hz, Fast-WAM 5.26 Hz (4.59x), Flash 56.95 Hz (10.82x)."""
    from ahabench.api import compare

    res = compare(["h6-aha", "h6-flash", "h6-fast"], [FAKE_TASK], 2, seeds={FAKE_TASK: [0, 1]}, out=tmp_path,
                  imports=[__name__])
    assert res.baseline == "h6-fast"
    over = {r.policy: r for r in res.rows if r.task == "overall"}
    assert over["h6-aha"].mode == "async" and over["h6-fast"].mode == "blocking"
    assert round(over["h6-aha"].chunk_hz, 2) == 24.17
    assert round(over["h6-fast"].chunk_hz, 2) == 5.26
    assert round(over["h6-flash"].chunk_hz, 2) == 56.95
    assert round(over["h6-aha"].speedup_hz, 2) == 4.59
    assert round(over["h6-flash"].speedup_hz, 2) == 10.82
    written = json.loads((tmp_path / "compare.json").read_text())
    assert written["baseline"] == "h6-fast" and "| h6-flash |" in (tmp_path / "compare.md").read_text()


def test_video_changes_nothing_but_writes_mp4(tmp_path):
    plain = run(tmp_path, "plain", episodes=2)
    vid = run(tmp_path, "vid", episodes=2, video=True)
    assert (plain.out / "episodes.jsonl").read_bytes() == (vid.out / "episodes.jsonl").read_bytes()
    mp4 = vid.out / "videos" / f"{FAKE_TASK}_seed0.mp4"
    assert mp4.exists() and mp4.stat().st_size > 0


def test_resume_with_more_episodes_extends_the_run(tmp_path):
    full = run(tmp_path, "full")
    run(tmp_path, "grow", episodes=3)
    seen = []
    grown = run(tmp_path, "grow", resume=True, progress=lambda ev: seen.append((ev.record.seed, ev.done, ev.total)))
    assert seen == [(3, 4, 6), (4, 5, 6), (5, 6, 6)]
    assert (grown.out / "episodes.jsonl").read_bytes() == (full.out / "episodes.jsonl").read_bytes()
    with pytest.raises(ValueError, match="tasks"):
        run(tmp_path, "grow", resume=True, tasks=[FAKE_TASK, FAKE_TASK], seeds={FAKE_TASK: [0]})


class DieOnSeed(HoldPolicy):
    """Kills its worker process in the episode whose seed is 2 (a simulator segfault, say)."""

    def reset(self, episode: EpisodeInfo) -> None:
        super().reset(episode)
        if episode.seed == 2:
            import os

            os._exit(3)


if "h6-die" not in _POLICIES:
    register_policy("h6-die", "test policy: kills its process on seed 2")(DieOnSeed)


@pytest.mark.slow
def test_dead_worker_costs_only_its_own_episode(tmp_path):
    res = run(tmp_path, policy="h6-die", workers=2)
    by_seed = {r.seed: r for r in res.records}
    assert sorted(by_seed) == SEEDS[FAKE_TASK]
    assert by_seed[2].error_kind == "crash" and "died" in by_seed[2].error
    assert all(by_seed[s].error is None for s in (0, 1, 3, 4, 5))


def test_default_seeds_come_from_eval_seeds(tmp_path, monkeypatch):
    """Without explicit seeds the engine asks ahabench.seeds.eval_seeds(task, n, setting, base, task_args)."""
    import sys
    import types

    calls = []

    def eval_seeds(task, n, setting, base, task_args):
        calls.append((task, n, setting, base, task_args))
        return [100000 * (1 + base) + i for i in range(n)]

    monkeypatch.setitem(sys.modules, "ahabench.seeds", types.SimpleNamespace(eval_seeds=eval_seeds))
    res = run(tmp_path, seeds=None, episodes=2, seed=1, setting="randomized")
    assert calls == [(FAKE_TASK, 2, "randomized", 1, {})]
    assert [r.seed for r in res.records] == [200000, 200001]
    assert all(r.setting == "randomized" for r in res.records)
