"""``--executor ray`` on a local Ray instance started by each test: same records as one worker, resume, and a
worker process killed mid-episode (retried once, then an infrastructure failure; nothing lost or duplicated).

The dying policy is registered when this module is imported; Ray's workers import it too (``imports``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ahabench.api import eval_run
from ahabench.policy_registry import _POLICIES, register_policy
from ahabench.types import EpisodeInfo
from policies.hold import HoldPolicy
from test_run import FAKE_TASK, SEEDS


class DieMidEpisode(HoldPolicy):
    """Holds; on seed 2 its process dies once (a marker file remembers it), on seed 4 every time."""

    def __init__(self, marker_dir: str) -> None:
        super().__init__()
        self.marker_dir = Path(marker_dir)

    def reset(self, episode: EpisodeInfo) -> None:
        super().reset(episode)
        marker = self.marker_dir / f"died_on_seed_{episode.seed}"
        if episode.seed == 4 or (episode.seed == 2 and not marker.exists()):
            marker.touch()
            os._exit(1)  # what a segfault in the simulator looks like to the executor


if "h11-die" not in _POLICIES:
    register_policy("h11-die", "test policy: its process dies on seeds 2 (once) and 4 (always)")(DieMidEpisode)


def run(tmp_path, name, **kw):
    args = dict(policy="expert", tasks=[FAKE_TASK], episodes=6, seeds=SEEDS, out=tmp_path / name, imports=[__name__])
    return eval_run(**{**args, **kw})


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_ray_gives_the_records_of_one_worker_and_resumes(tmp_path):
    run(tmp_path, "local")
    ray = run(tmp_path, "ray", executor="ray", workers=2)
    assert ray.config.executor == "ray" and len(ray.records) == 6
    assert (tmp_path / "ray/episodes.jsonl").read_bytes() == (tmp_path / "local/episodes.jsonl").read_bytes()
    run(tmp_path, "half", episodes=3)  # an interrupted run, continued on Ray
    run(tmp_path, "half", executor="ray", workers=2, resume=True)
    assert (tmp_path / "half/episodes.jsonl").read_bytes() == (tmp_path / "local/episodes.jsonl").read_bytes()


def test_a_killed_worker_is_retried_once_then_recorded_and_nothing_is_lost_or_duplicated(tmp_path):
    res = run(tmp_path, "r", policy="h11-die", executor="ray", workers=2, policy_kwargs={"marker_dir": str(tmp_path)})
    recs = [json.loads(line) for line in lines(tmp_path / "r/episodes.jsonl")]
    assert sorted(r["seed"] for r in recs) == SEEDS[FAKE_TASK]  # each seed exactly once
    bad = {r["seed"]: r for r in recs if r["error"]}
    assert list(bad) == [4] and bad[4]["error_kind"] == "infra" and "died on each of 2 tries" in bad[4]["error"]
    assert (tmp_path / "died_on_seed_2").exists()  # seed 2 died once and succeeded on its retry
    assert len(res.records) == 6
