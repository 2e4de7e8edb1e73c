"""The committed expert-success table (tasks/expert_success.csv) cannot outlive the code it was measured on."""

from __future__ import annotations

from pathlib import Path

from ahabench.codehash import task_code_hash
from ahabench.experts.success_table import SeedResult, read_table, stale_rows, summarize, write_table
from ahabench.task_registry import suites

TABLE = Path(__file__).resolve().parents[1] / "tasks" / "expert_success.csv"


def test_committed_expert_table_matches_the_task_code():
    """Every row was measured on the code its task has now (code hash: every repository file the task and its
    expert import). A change to any of them without measuring again fails here; re-measure the stale rows with
    ``ahabench expert-table stale`` (100 seeds, 2 workers)."""
    registered = [t for s in suites().values() for t in s]
    rows = read_table(TABLE)
    rows = rows[(rows.setting == "clean") & rows.task.isin(registered)]
    missing = sorted(set(registered) - set(rows.task))
    assert not missing, f"tasks of a suite with no measured expert success (ahabench expert-table stale): {missing}"
    assert (rows.code_hash.str.len() == 16).all(), f"rows without a code hash: {list(rows.task[rows.code_hash == ''])}"
    stale = stale_rows(rows)
    assert stale.empty, ("expert success measured on other code (task: recorded -> now): "
                         + ", ".join(f"{r.task}: {r.code_hash} -> {r.code_hash_now}" for r in stale.itertuples()))
    from ahabench.api import list_tasks

    assert not [r["name"] for r in list_tasks() if r["expert_success_stale"]]


def test_a_changed_task_makes_its_row_stale(tmp_path):
    """The check above can fail: a row recorded with another hash is reported, with the current one beside it."""
    path = tmp_path / "t.csv"
    row = summarize([SeedResult("PushCube", 0, True, 50, 1.0)])
    assert row.code_hash.iloc[0] == task_code_hash("PushCube") and stale_rows(row).empty
    write_table(row.assign(code_hash="0123456789abcdef"), path)
    stale = stale_rows(read_table(path))
    assert list(stale.task) == ["PushCube"] and stale.code_hash_now.iloc[0] == task_code_hash("PushCube")
