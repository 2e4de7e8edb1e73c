"""Demo collection: round trip through the on-disk format, expert failures skipped, resume without duplicates.

The fake task below (also used by test_dataset / test_train) is a 16-D point the expert drives to a goal:
fast and deterministic. Seeds with ``seed % 3 == 1`` make the expert give up early (an expert failure the
collector must skip). Images are a function of the state so that frames differ over an episode.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest

from ahabench.data.collect import collect_demos, run_expert_episode
from ahabench.data.format import iter_episodes, load_meta, paths
from ahabench.task_registry import _TASKS, TaskEnv, TaskSpec, register_task
from ahabench.types import EpisodeInfo, Observation

FAKE_TASK = "fake_reach_point"
FAKE_SPEC = TaskSpec(name=FAKE_TASK, suite="test", env_id="ahabench/FakeReach-v0", description="test", arms=2,
                     max_steps=120, control_hz=25.0, action_dim=16)


class FakeReachEnv(TaskEnv):
    spec = FAKE_SPEC

    def __init__(self, camera_hw: tuple[int, int] = (64, 80), **_: object):
        self.hw = camera_hw
        self.frames_rendered = 0
        self.q = np.zeros(16, np.float32)

    def reset(self, seed: int, setting: str = "clean", unseen_instructions: bool = True) -> EpisodeInfo:
        rng = np.random.default_rng(seed)
        self.seed = seed
        self.q = rng.uniform(-0.5, 0.5, 16).astype(np.float32)
        self.goal = rng.uniform(-0.5, 0.5, 16).astype(np.float32)
        self.n_steps = int(40 + rng.integers(0, 40))
        self.t = 0
        self.instruction = f"reach goal {seed % 2}"
        return EpisodeInfo(FAKE_TASK, "test", self.instruction, 16, 25.0, self.spec.max_steps, seed, setting)

    def qpos(self) -> np.ndarray:
        return self.q.copy()

    def observe(self, tick: int, time_us: int) -> Observation:
        self.frames_rendered += 1
        h, w = self.hw
        level = np.uint8(int(128 + 100 * np.tanh(self.q[0])) % 256)
        imgs = {cam: np.full((h, w, 3), (level + 30 * i) % 256, np.uint8)
                for i, cam in enumerate(("head", "left_wrist", "right_wrist"))}
        return Observation(imgs, self.q.copy(), self.instruction, tick, time_us)

    def step(self, action: np.ndarray) -> dict[str, bool]:
        self.q = self.q + 0.5 * (np.asarray(action, np.float32) - self.q)
        self.t += 1
        return {"success": bool(self.t >= self.n_steps and np.abs(self.q - self.goal).max() < 0.05)}

    def hold_action(self) -> np.ndarray:
        return self.q.copy()

    def expert(self) -> Iterator[np.ndarray]:
        start = self.q.copy()
        stop = 10 if self.seed % 3 == 1 else 10_000
        for k in range(min(self.n_steps + 5, stop)):
            a = min(1.0, (k + 1) / (self.n_steps - 8))
            yield (start + a * (self.goal - start)).astype(np.float32)

    def close(self) -> None:
        pass


def register_fake_task() -> str:
    if FAKE_TASK not in _TASKS:
        register_task(FAKE_SPEC, FakeReachEnv)
    return FAKE_TASK


def fake_mosaic(images: dict[str, np.ndarray]) -> np.ndarray:
    """Stand-in for ahabench.envs.mosaic.make_mosaic when testing without the env package."""
    head = images["head"]
    out = np.zeros((96, 80, 3), np.uint8)
    out[:64] = head[:64, :80]
    return out


# ---- tests ----------------------------------------------------------------------------------------


def test_fake_expert_episode_records_frames_on_grid():
    env = FakeReachEnv()
    ep = run_expert_episode(env, seed=0, setting="clean", frame_every=4)
    assert ep.success[-1] and ep.success.sum() == 1  # stops at the first success
    t = ep.length
    assert ep.actions.shape == (t, 16) and ep.qpos.shape == (t + 1, 16)
    assert ep.frame_steps.tolist() == list(range(0, t + 1, 4))
    assert ep.images["head"].shape == (len(ep.frame_steps), 64, 80, 3)
    assert env.frames_rendered == len(ep.frame_steps)  # only the grid steps were rendered


def test_collect_round_trip_and_resume(tmp_path: Path):
    task = register_fake_task()
    events = []
    s1 = collect_demos([task], episodes=2, setting="clean", out=tmp_path, progress=events.append)
    assert s1.tasks[task].kept == 2 and s1.tasks[task].new == 2
    meta = load_meta(tmp_path, task)
    assert [e["episode_seed"] for e in meta["episodes"]] == [0, 2]  # seed 1 failed and was skipped
    assert meta["failed_seeds"] == [1] and meta["next_seed"] == 3
    assert meta["env_info"]["env_id"] == "ahabench/FakeReach-v0"
    assert meta["episodes"][0]["reset_kwargs"] == {"seed": 0, "options": {"setting": "clean", "unseen_instructions": False}}
    assert [(e.seed, e.success) for e in events] == [(0, True), (1, False), (2, True)]
    eps = list(iter_episodes(tmp_path, task))
    # Replaying the stored actions from the stored seed reproduces the stored states.
    env = FakeReachEnv()
    env.reset(eps[1].seed)
    for a in eps[1].actions:
        env.step(a)
    np.testing.assert_allclose(env.q, eps[1].qpos[-1], atol=1e-6)
    assert eps[0].instruction == meta["episodes"][0]["instruction"]

    # A rerun asking for more continues from seed 3 and duplicates nothing.
    s2 = collect_demos([task], episodes=4, setting="clean", out=tmp_path)
    assert s2.tasks[task].new == 2
    seeds = [e["episode_seed"] for e in load_meta(tmp_path, task)["episodes"]]
    assert seeds == [0, 2, 3, 5] and len(set(seeds)) == 4
    # A rerun that already has enough does nothing.
    assert collect_demos([task], episodes=4, setting="clean", out=tmp_path).tasks[task].new == 0
    with h5py.File(paths(tmp_path, task)[0], "r") as f:
        assert sorted(f.keys()) == ["traj_0", "traj_1", "traj_2", "traj_3"]
        assert f["traj_0/obs/images/head"].compression == "gzip"


def test_incomplete_trailing_episode_is_dropped(tmp_path: Path):
    task = register_fake_task()
    collect_demos([task], episodes=1, setting="clean", out=tmp_path)
    h5p, jsp = paths(tmp_path, task)
    with h5py.File(h5p, "a") as f:  # a crash after writing the group but before the JSON entry
        f.create_group("traj_1").create_dataset("actions", data=np.zeros((3, 16)))
    collect_demos([task], episodes=2, setting="clean", out=tmp_path)
    meta = json.loads(jsp.read_text())
    assert [e["episode_id"] for e in meta["episodes"]] == [0, 1]
    eps = list(iter_episodes(tmp_path, task))
    assert eps[1].actions.shape[0] > 3 and eps[1].seed == 2


def test_setting_mismatch_refused(tmp_path: Path):
    task = register_fake_task()
    collect_demos([task], episodes=1, setting="clean", out=tmp_path)
    with pytest.raises(ValueError, match="setting"):
        collect_demos([task], episodes=2, setting="randomized", out=tmp_path)


@pytest.mark.slow
def test_collect_real_task_round_trip(tmp_path: Path):
    """Two stack_blocks_two demos through the real env: images on the 4-step grid, resume adds none."""
    from ahabench.data.dataset import DemoDataset

    s = collect_demos(["stack_blocks_two"], episodes=2, setting="clean", out=tmp_path)
    st = s.tasks["stack_blocks_two"]
    assert st.kept == 2 and st.error is None
    eps = list(iter_episodes(tmp_path, "stack_blocks_two"))
    for ep in eps:
        assert ep.success[-1] and ep.actions.shape[1] == 16
        assert ep.frame_steps.tolist() == list(range(0, ep.length + 1, 4))
        assert set(ep.images) == {"head", "left_wrist", "right_wrist"}
        assert ep.images["head"].shape[1:] == (64, 80, 3)
        assert np.abs(ep.qpos[1:] - ep.qpos[:-1]).max() > 0  # the robot moved
    before = load_meta(tmp_path, "stack_blocks_two")["episodes"]
    again = collect_demos(["stack_blocks_two"], episodes=2, setting="clean", out=tmp_path)
    assert again.tasks["stack_blocks_two"].new == 0 and load_meta(tmp_path, "stack_blocks_two")["episodes"] == before
    # ManiSkill-style replay from the sidecar alone: gym.make(env_id, **env_kwargs), reset(**reset_kwargs), actions.
    import gymnasium as gym

    info, entry = load_meta(tmp_path, "stack_blocks_two")["env_info"], before[1]
    env = gym.make(info["env_id"], **info["env_kwargs"])
    env.reset(**entry["reset_kwargs"])
    for a in eps[1].actions:
        *_, step_info = env.step(a)
    assert bool(np.asarray(step_info["success"]).reshape(-1)[0])
    env.close()
    ds = DemoDataset.from_dir(tmp_path, ["stack_blocks_two"])
    assert ds.sample(2, np.random.default_rng(0))["video"].shape == (2, 3, 96, 80, 3)


def test_dart_noise_executes_perturbed_targets_and_records_clean_ones():
    from ahabench.data.collect import JointNoise

    clean = run_expert_episode(FakeReachEnv(), seed=0, setting="clean")
    noisy = run_expert_episode(FakeReachEnv(), seed=0, setting="clean", action_noise=0.02)
    again = run_expert_episode(FakeReachEnv(), seed=0, setting="clean", action_noise=0.02)
    n = min(clean.length, noisy.length)
    # The recorded labels are the expert's clean targets; the states the arm visited are not the clean ones.
    np.testing.assert_array_equal(noisy.actions[:n], clean.actions[:n])
    assert np.abs(noisy.qpos[1:n] - clean.qpos[1:n]).max() > 1e-3
    np.testing.assert_array_equal(noisy.qpos, again.qpos)  # the noise depends only on the seed
    # Fingers (index 7 of each arm) never move off the expert's target: the state there is the clean one.
    np.testing.assert_allclose(noisy.qpos[:n, [7, 15]], clean.qpos[:n, [7, 15]], atol=1e-6)

    noise = JointNoise(0.02, 16, 25.0, seed=3)
    draws = np.stack([noise(np.zeros(16, np.float32)) for _ in range(4000)])
    assert np.all(draws[:, [7, 15]] == 0.0)
    assert 0.012 < draws[:, :7].std() < 0.028  # stationary std ~ sigma (correlated, so a loose band)
    lag1 = np.corrcoef(draws[:-1, 0], draws[1:, 0])[0, 1]
    assert lag1 > 0.8  # correlated over steps: the PD controller cannot filter it out
    with pytest.raises(ValueError, match="action_noise"):
        JointNoise(-0.1, 16, 25.0, seed=0)


def test_noise_level_mismatch_refused(tmp_path: Path):
    task = register_fake_task()
    collect_demos([task], episodes=1, setting="clean", out=tmp_path)
    with pytest.raises(ValueError, match="action_noise"):
        collect_demos([task], episodes=2, setting="clean", out=tmp_path, action_noise=0.01)
    assert load_meta(tmp_path, task)["action_noise"] == 0.0 and len(load_meta(tmp_path, task)["episodes"]) == 1
    with pytest.raises(ValueError, match="action_noise must be >= 0"):
        collect_demos([task], episodes=1, setting="clean", out=tmp_path / "neg", action_noise=-0.01)


def test_first_seed_starts_a_held_out_set(tmp_path: Path):
    task = register_fake_task()
    collect_demos([task], episodes=2, setting="clean", out=tmp_path, first_seed=30)
    meta = load_meta(tmp_path, task)
    assert [e["episode_seed"] for e in meta["episodes"]] == [30, 32]  # 31 % 3 == 1: the expert gives up
    assert meta["first_seed"] == 30 and meta["failed_seeds"] == [31]
    with pytest.raises(ValueError, match="start at seed 30"):
        collect_demos([task], episodes=3, setting="clean", out=tmp_path)
    with pytest.raises(ValueError, match="first_seed"):
        collect_demos([task], episodes=1, setting="clean", out=tmp_path / "x", first_seed=-1)
