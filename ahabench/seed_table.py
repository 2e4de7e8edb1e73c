"""The shipped table of evaluation-seed verdicts (``tasks/eval_seed_verdicts.csv``), and the command that writes it.

Which default evaluation seeds a task's expert solves is fixed by the task's code, so it is measured once, here,
and shipped: a first ``ahabench eval`` on a fresh machine then starts its episodes at once instead of playing the
expert on every candidate seed (:mod:`ahabench.seeds` reads the table). Each row covers one (task, setting) from the
first evaluation seed upward, as a string of ``1`` (solved) and ``0``, and carries the task's code hash; a test
fails when a row no longer matches its task's code. Run as ``ahabench seed-table [TASKS] --episodes N``.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from ahabench.fileio import atomic_write_text
from ahabench.seeds import SHIPPED_TABLE, SeedVerdicts, eval_seed_start, solvable_seeds

log = logging.getLogger(__name__)

COLUMNS = ("task", "setting", "code_hash", "first_seed", "verdicts")


def measure_row(job: tuple[str, str, int]) -> dict[str, str]:
    """Verdicts of ``task``/``setting`` from the first evaluation seed up to its ``n``-th solved seed."""
    task, setting, n = job
    start = eval_seed_start(0)
    solved = solvable_seeds(task, n, start, setting)  # plays the expert where neither cache nor table knows
    v = SeedVerdicts(task, setting)
    return {"task": task, "setting": setting, "code_hash": v.code, "first_seed": str(start),
            "verdicts": "".join("1" if v.verdicts[s] else "0" for s in range(start, solved[-1] + 1))}


def read_rows(path: Path = SHIPPED_TABLE) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def write_rows(rows: Sequence[dict[str, str]], path: Path = SHIPPED_TABLE) -> None:
    """Merge ``rows`` into the table at ``path`` (replacing rows of the same task and setting), sorted."""
    keep = {(r["task"], r["setting"]): r for r in read_rows(path)}
    keep.update({(r["task"], r["setting"]): dict(r) for r in rows})
    lines = [",".join(COLUMNS)] + [",".join(keep[k][c] for c in COLUMNS) for k in sorted(keep)]
    atomic_write_text(path, "\n".join(lines) + "\n")


def measure_seed_table(tasks: Sequence[str], n: int, setting: str = "clean", workers: int = 2,
                       path: Path = SHIPPED_TABLE, progress: Callable[[dict[str, str]], None] | None = None) -> list[dict]:
    """Measure each task's verdicts up to its ``n``-th solved evaluation seed (one task per worker process) and merge
    them into the table at ``path``."""
    from ahabench.pool import run_jobs

    if n < 1:
        raise ValueError(f"the seed table needs n >= 1 solved seeds per task, got {n}")
    rows: list[dict[str, str]] = []

    def done(_job: tuple, row: dict[str, str]) -> None:
        rows.append(row)
        log.info("%s/%s: %d seeds, %d solved", row["task"], row["setting"], len(row["verdicts"]),
                 row["verdicts"].count("1"))
        if progress is not None:
            progress(row)

    run_jobs(measure_row, [(t, setting, n) for t in tasks], max(1, min(workers, len(tasks))), done)
    write_rows(rows, path)
    return rows


def stale_rows(path: Path = SHIPPED_TABLE) -> list[str]:
    """Tasks whose shipped row was measured with other task code than the current one."""
    from ahabench.codehash import task_code_hash

    return [f"{r['task']}/{r['setting']}" for r in read_rows(path) if r["code_hash"] != task_code_hash(r["task"])]


__all__ = ["COLUMNS", "measure_row", "measure_seed_table", "read_rows", "stale_rows", "write_rows"]
