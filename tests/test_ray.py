"""``--executor ray`` on a local Ray instance started by each test: same records as one worker, resume (after a run
on the local executor and after an interrupted Ray run), worker processes killed mid-episode (retried once, then an
infrastructure failure; nothing lost or duplicated), ``compare`` on one Ray instance, and plain runs without Ray.

The dying policy is registered when this module is imported; Ray's workers import it too (``imports``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ahabench.api import eval_run
from ahabench.policies.hold import HoldPolicy
from ahabench.policy import PolicyUnreachableError
from ahabench.policy_registry import _POLICIES, register_policy
from ahabench.types import EpisodeInfo
from test_run import FAKE_TASK, SEEDS


class DieMidEpisode(HoldPolicy):
    """Holds, and counts each try of each seed in ``marker_dir``. Its process dies on the first try of the seeds in
    ``die_once`` (``os._exit``, as a simulator segfault looks to the executor) and on every try of those in
    ``die_always`` (SIGKILL, as an out-of-memory kill); on the first try of ``lose_server_once`` it reports its
    policy server unreachable (which stops the run)."""

    def __init__(self, marker_dir: str, die_once: tuple[int, ...] = (), die_always: tuple[int, ...] = (),
                 lose_server_once: tuple[int, ...] = ()) -> None:
        super().__init__()
        self.marker_dir = Path(marker_dir)
        self.die_once, self.die_always, self.lose_server_once = set(die_once), set(die_always), set(lose_server_once)

    def reset(self, episode: EpisodeInfo) -> None:
        super().reset(episode)
        tries = self.marker_dir / f"tries_seed{episode.seed}"
        with tries.open("a") as f:
            f.write("x")
        first = len(tries.read_text()) == 1
        if episode.seed in self.lose_server_once and first:
            raise PolicyUnreachableError("the policy server went away")
        if episode.seed in self.die_once and first:
            os._exit(1)
        if episode.seed in self.die_always:
            os.kill(os.getpid(), signal.SIGKILL)


if "h11-die" not in _POLICIES:
    register_policy("h11-die", "test policy: its process dies or loses its server on the seeds it is given")(DieMidEpisode)


def run(tmp_path, name, **kw):
    args = dict(policy="expert", tasks=[FAKE_TASK], episodes=6, seeds=SEEDS, out=tmp_path / name, imports=[__name__])
    return eval_run(**{**args, **kw})


def episodes(tmp_path: Path, name: str) -> bytes:
    return (tmp_path / name / "episodes.jsonl").read_bytes()


def tries(marker_dir: Path) -> dict[int, int]:
    return {int(p.name.removeprefix("tries_seed")): len(p.read_text()) for p in marker_dir.glob("tries_seed*")}


def test_ray_gives_the_records_of_one_worker_and_resumes_a_local_run(tmp_path):
    run(tmp_path, "local")
    ray = run(tmp_path, "ray", executor="ray", workers=2)
    assert ray.config.executor == "ray" and len(ray.records) == 6
    assert episodes(tmp_path, "ray") == episodes(tmp_path, "local")
    run(tmp_path, "half", episodes=3)  # an interrupted run, continued on Ray
    run(tmp_path, "half", executor="ray", workers=2, resume=True)
    assert episodes(tmp_path, "half") == episodes(tmp_path, "local")


def test_killed_workers_are_retried_once_then_recorded_and_nothing_is_lost_or_duplicated(tmp_path):
    kw = {"marker_dir": str(tmp_path), "die_once": [2], "die_always": [4]}
    res = run(tmp_path, "r", policy="h11-die", executor="ray", workers=2, policy_kwargs=kw)
    recs = [json.loads(line) for line in episodes(tmp_path, "r").splitlines()]
    assert [r["seed"] for r in recs] == SEEDS[FAKE_TASK]  # each seed exactly once, in order
    bad = {r["seed"]: r for r in recs if r["error"]}
    assert list(bad) == [4] and bad[4]["error_kind"] == "infra" and "died on each of 2 tries" in bad[4]["error"]
    assert tries(tmp_path) == {0: 1, 1: 1, 2: 2, 3: 1, 4: 2, 5: 1}  # a dead worker's episode runs once more, once
    assert len(res.records) == 6


def test_a_ray_run_stopped_by_a_lost_policy_server_resumes_on_ray(tmp_path):
    kw = {"marker_dir": str(tmp_path), "lose_server_once": [3]}
    stopped = r"^the policy server went away; the run stopped after \d+ of 6 .*continue with --resume"
    with pytest.raises(PolicyUnreachableError, match=stopped):
        run(tmp_path, "cut", policy="h11-die", executor="ray", workers=2, policy_kwargs=kw)
    kept = [json.loads(line)["seed"] for line in episodes(tmp_path, "cut").splitlines()]
    assert 3 not in kept and len(kept) == len(set(kept))
    run(tmp_path, "cut", policy="h11-die", executor="ray", workers=2, policy_kwargs=kw, resume=True)
    run(tmp_path, "whole", policy="h11-die", policy_kwargs=kw)  # seed 3 has had its first try: runs through
    assert episodes(tmp_path, "cut") == episodes(tmp_path, "whole")


def test_compare_runs_every_policy_on_one_ray_instance(tmp_path, monkeypatch):
    import ray
    from typer.testing import CliRunner

    from ahabench.cli import app

    inits = []
    real_init = ray.init
    monkeypatch.setattr(ray, "init", lambda *a, **kw: inits.append(kw) or real_init(*a, **kw))
    args = ["compare", "expert", "hold", "--tasks", FAKE_TASK, "--seeds", "0,1,2", "-n", "3", "--import", __name__, "--json"]
    on_ray = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "ray"), "--executor", "ray", "--workers", "2"])
    assert on_ray.exit_code == 0, on_ray.output
    assert len(inits) == 1 and not ray.is_initialized()  # started once for both runs, stopped at the end
    local = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    for policy in ("expert", "hold"):
        assert episodes(tmp_path / "ray", policy) == episodes(tmp_path / "local", policy)


def test_a_local_run_does_not_import_ray(tmp_path):
    code = ("import sys; from test_ray import run; from pathlib import Path; run(Path(sys.argv[1]), 'r', episodes=2); "
            "sys.exit('ray' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    assert subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env).returncode == 0
