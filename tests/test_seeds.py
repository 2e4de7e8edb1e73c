"""Eval seeds (ahabench.seeds) with a stand-in expert: the RoboTwin protocol, the verdict cache and its code key."""

from __future__ import annotations

import json

import pytest

from ahabench import seeds
from ahabench.codehash import task_code_hash

TASK = "click_bell"


class FakeEnv:
    closed = 0

    def close(self) -> None:
        FakeEnv.closed += 1


@pytest.fixture
def played(monkeypatch, tmp_path):
    """Cache under tmp; the 'expert' solves every seed not divisible by 4; returns the list of seeds it played."""
    import ahabench.experts.evaluate as evaluate
    import ahabench.task_registry as registry

    monkeypatch.setenv("AHABENCH_CACHE", str(tmp_path))
    monkeypatch.setattr(seeds, "SHIPPED_TABLE", tmp_path / "no-shipped-table.csv")
    calls: list[int] = []

    def expert_episode(env, seed, setting="clean", lookahead=0):
        calls.append(seed)
        return seed % 4 != 0, 10

    monkeypatch.setattr(evaluate, "expert_episode", expert_episode)
    monkeypatch.setattr(registry, "make_task_env", lambda name, **kw: FakeEnv())
    return calls


def test_eval_seeds_are_the_first_solved_from_the_base(played):
    assert seeds.eval_seeds(TASK, 4) == [100001, 100002, 100003, 100005]
    assert played == [100000, 100001, 100002, 100003, 100004, 100005]
    assert seeds.eval_seeds(TASK, 2, base=1) == [200001, 200002]
    assert seeds.collection_seeds(TASK, 2) == [1, 2]


def test_verdicts_are_cached_under_the_task_code_hash(played, tmp_path):
    seeds.eval_seeds(TASK, 4)
    n = len(played)
    assert seeds.eval_seeds(TASK, 4) == [100001, 100002, 100003, 100005] and len(played) == n  # from the cache
    data = json.loads((tmp_path / "seeds" / f"{TASK}__clean.json").read_text())
    assert data["code"] == task_code_hash(TASK) and data["verdicts"]["100000"] is False


def test_a_cache_made_with_other_code_is_measured_again(played, tmp_path):
    path = tmp_path / "seeds" / f"{TASK}__clean.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"task": TASK, "setting": "clean", "code": "0123456789abcdef",
                                "verdicts": {str(s): True for s in range(100000, 100010)}}))
    assert seeds.eval_seeds(TASK, 2) == [100001, 100002] and played == [100000, 100001, 100002]
    assert json.loads(path.read_text())["code"] == task_code_hash(TASK)


def test_a_broken_expert_stops_the_search(played, monkeypatch):
    import ahabench.experts.evaluate as evaluate

    monkeypatch.setattr(evaluate, "expert_episode", lambda env, seed, setting="clean", lookahead=0: (False, 0))
    with pytest.raises(RuntimeError, match=f"failed {seeds.MAX_CONSECUTIVE_FAILURES} seeds in a row"):
        seeds.eval_seeds(TASK, 1, setting="randomized")
    with pytest.raises(ValueError, match="n must be"):
        seeds.solvable_seeds(TASK, -1, 0)


def test_shipped_verdicts_spare_the_expert_and_count_only_for_the_same_code(played, tmp_path, monkeypatch):
    code = task_code_hash(TASK)
    table = tmp_path / "verdicts.csv"
    table.write_text("task,setting,code_hash,first_seed,verdicts\n"
                     f"{TASK},clean,{code},100000,10110\n{TASK},randomized,{code},100000,11111\n")
    monkeypatch.setattr(seeds, "SHIPPED_TABLE", table)
    assert seeds.eval_seeds(TASK, 3) == [100000, 100002, 100003] and played == []
    assert seeds.eval_seeds(TASK, 4) == [100000, 100002, 100003, 100005] and played == [100005]  # past the row
    table.write_text(f"task,setting,code_hash,first_seed,verdicts\n{TASK},clean,0123456789abcdef,100000,00000\n")
    (tmp_path / "seeds" / f"{TASK}__clean.json").unlink()
    assert seeds.eval_seeds(TASK, 1) == [100001] and played[1:] == [100000, 100001]  # other code: measured again


def test_the_shipped_table_matches_the_task_code_and_covers_make_eval():
    from ahabench.seed_table import read_rows, stale_rows
    from ahabench.task_registry import resolve_tasks

    assert stale_rows() == [], "task code changed: run `ahabench seed-table all` and commit tasks/eval_seed_verdicts.csv"
    rows = {r["task"]: r for r in read_rows() if r["setting"] == "clean"}
    short = [t for t in resolve_tasks("all") if rows.get(t, {}).get("verdicts", "").count("1") < 10]
    assert short == [], f"no shipped verdicts for 10 eval seeds of {short}"
