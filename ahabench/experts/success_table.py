"""Expert-success table: how often each task's scripted expert solves its task, over seeds 0-99.

The benchmark's requirement is expert success >= 95 % per task over seeds 0-99, measured by a command and
kept in a committed table (``tasks/expert_success.csv``). :func:`measure_expert_success` plays the expert
closed-loop without rendering (``ahabench.experts.evaluate.expert_episode``: one action per control step,
success checked every step, episode over at first success or at the step limit) in ``workers`` forkserver
processes with one torch thread each; :func:`write_table` merges the result into the table, replacing the
rows of the measured tasks and keeping the others (tasks that land later are measured on their own).

Every row records ``code_hash``: :func:`ahabench.codehash.task_code_hash` of the task when it was measured (every
repository file the task and its expert import). :func:`stale_rows` lists the rows whose task code has changed
since; the test suite fails on any, so the table cannot silently outlive the code it describes.

Run as ``ahabench expert-table [TASKS|every|stale]`` (:func:`measure_table`; ``stale``: only the rows whose
task code changed since they were measured).
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)

#: The committed table: tasks/expert_success.csv beside the task modules (repo root, or site-packages).
DEFAULT_TABLE = Path(__file__).resolve().parents[2] / "tasks" / "expert_success.csv"
#: Required success rate per task (the benchmark's acceptance bar).
THRESHOLD = 0.95
COLUMNS = ["task", "suite", "setting", "seeds", "successes", "success_rate", "mean_expert_steps",
           "mean_episode_wall_s", "errors", "failed_seeds", "code_hash"]


@dataclass(frozen=True)
class SeedResult:
    """One expert episode. steps: control steps to success (the step limit when it failed).
    error: the exception text when the episode raised (counted as a failure), else ''."""

    task: str
    seed: int
    success: bool
    steps: int
    wall_s: float
    error: str = ""


ProgressFn = Callable[[SeedResult, int, int], None]  # (result, done, total)


# -- worker side ------------------------------------------------------------------------------------
_ENV: dict[str, object] = {}  # this process's env, one task at a time (work items are ordered by task)


def _run_item(item: tuple[str, list[int], str, int]) -> list[SeedResult]:
    """Pool job: :func:`run_seeds` on one (task, seeds, setting, lookahead) item."""
    return run_seeds(*item)


def _task_env(task: str):
    from ahabench.task_registry import make_task_env

    if task not in _ENV:
        for old in list(_ENV):  # keep one env alive: SAPIEN scenes hold a lot of memory
            _ENV.pop(old).close()
        _ENV[task] = make_task_env(task, render=False)
    return _ENV[task]


def run_seeds(task: str, seeds: list[int], setting: str = "clean", lookahead: int = 0) -> list[SeedResult]:
    """Play the expert on each seed (in this process); an exception is a failed episode, not a crash."""
    from ahabench.experts.evaluate import expert_episode

    env = _task_env(task)
    out = []
    for seed in seeds:
        t0 = time.perf_counter()
        try:
            ok, steps = expert_episode(env, seed, setting, lookahead)
            err = ""
        except Exception as e:  # noqa: BLE001 - a task bug must show up in the table, not kill the run
            logger.error("%s seed %d raised:\n%s", task, seed, traceback.format_exc())
            ok, steps, err = False, 0, f"{type(e).__name__}: {e}"
            _ENV.pop(task, None)  # the env may be in a bad state: rebuild it for the next seed
            try:
                env.close()
            except Exception:  # noqa: BLE001 - a broken env may fail to close; it is dropped anyway
                logger.warning("%s: closing the env after an error failed", task, exc_info=True)
            env = _task_env(task)
        out.append(SeedResult(task, int(seed), bool(ok), int(steps), time.perf_counter() - t0, err))
    return out


# -- parent side ------------------------------------------------------------------------------------
def _chunks(tasks: list[str], seeds: list[int], workers: int) -> list[tuple[str, list[int]]]:
    """Work items ordered by task; ~4 items per worker per task so workers stay on one task's env."""
    size = max(1, math.ceil(len(seeds) / (4 * max(1, workers))))
    return [(t, seeds[i:i + size]) for t in tasks for i in range(0, len(seeds), size)]


def summarize(results: Iterable[SeedResult], setting: str = "clean",
              code_hashes: dict[str, str] | None = None) -> pd.DataFrame:
    """Per-task table (columns :data:`COLUMNS`) from per-seed results, tasks in first-seen order.

    mean_expert_steps averages the successful episodes only (steps to success); NaN when none succeeded.
    code_hashes: task -> code hash the seeds were played with (default: the task's code hash now).
    """
    from ahabench.codehash import task_code_hash
    from ahabench.task_registry import task_spec

    by_task: dict[str, list[SeedResult]] = {}
    for r in results:
        by_task.setdefault(r.task, []).append(r)
    rows = []
    for task, rs in by_task.items():
        rs = sorted(rs, key=lambda r: r.seed)
        wins = [r for r in rs if r.success]
        rows.append(dict(
            task=task, suite=task_spec(task).suite, setting=setting, seeds=len(rs), successes=len(wins),
            success_rate=len(wins) / len(rs),
            mean_expert_steps=(sum(r.steps for r in wins) / len(wins)) if wins else float("nan"),
            mean_episode_wall_s=sum(r.wall_s for r in rs) / len(rs),
            errors=sum(bool(r.error) for r in rs),
            failed_seeds=" ".join(str(r.seed) for r in rs if not r.success),
            code_hash=(code_hashes or {}).get(task) or task_code_hash(task)))
    return pd.DataFrame(rows, columns=COLUMNS)


def measure_expert_success(tasks: list[str], seeds: Iterable[int] = range(100), workers: int = 2,
                           progress: ProgressFn | None = None, setting: str = "clean", lookahead: int = 0,
                           on_task: Callable[[pd.DataFrame], None] | None = None) -> pd.DataFrame:
    """Expert success per task over ``seeds`` (physics only, no rendering).

    workers: processes (forkserver, one torch thread each); 1 runs in this process.
    progress(result, done, total): called in this process after every episode.
    on_task(row_frame): called with a task's one-row table as soon as all its seeds are done (lets a long
        run write the table task by task).
    Returns one row per task (columns :data:`COLUMNS`), in the order of ``tasks``. Each row's ``code_hash`` is
    the task's code hash when the measurement started; a task whose code changes while it is measured raises.
    """
    from ahabench.codehash import task_code_hash
    from ahabench.task_registry import task_spec

    tasks, seeds = list(dict.fromkeys(tasks)), [int(s) for s in seeds]
    if not tasks or not seeds:
        raise ValueError(f"need at least one task and one seed, got tasks={tasks!r}, seeds={seeds!r}")
    for t in tasks:
        task_spec(t)  # fail fast on an unknown name, before starting processes
    hashes = {t: task_code_hash(t) for t in tasks}

    def check_unchanged(task: str) -> None:
        now = task_code_hash(task)
        if now != hashes[task]:
            raise RuntimeError(f"{task}: its code changed while it was measured (code hash {hashes[task]} -> {now});"
                               " measure it again")

    items = _chunks(tasks, seeds, workers)
    total = len(tasks) * len(seeds)
    results: list[SeedResult] = []
    per_task: dict[str, int] = {}

    def collect(batch: list[SeedResult]) -> None:
        for r in batch:
            results.append(r)
            if progress is not None:
                progress(r, len(results), total)
            per_task[r.task] = per_task.get(r.task, 0) + 1
            if per_task[r.task] == len(seeds) and on_task is not None:
                check_unchanged(r.task)
                on_task(summarize([x for x in results if x.task == r.task], setting, hashes))

    if workers <= 1:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for task, chunk in items:
                collect(run_seeds(task, chunk, setting, lookahead))
        finally:
            torch.set_num_threads(threads)
            for old in list(_ENV):
                _ENV.pop(old).close()
    else:
        from ahabench.pool import run_jobs

        def failed(item: tuple[str, list[int], str, int], e: BaseException) -> None:
            # e.g. the env failed to build, or the worker died: the item's episodes are failures, with the reason
            task, chunk = item[0], item[1]
            logger.error("%s seeds %s: worker raised %s: %s", task, chunk, type(e).__name__, e)
            collect([SeedResult(task, s, False, 0, 0.0, f"{type(e).__name__}: {e}") for s in chunk])

        run_jobs(_run_item, [(task, chunk, setting, lookahead) for task, chunk in items], workers,
                 lambda _item, batch: collect(batch), on_error=failed, on_lost=failed)
    for t in tasks:
        check_unchanged(t)
    df = summarize(results, setting, hashes)
    return df.set_index("task").loc[tasks].reset_index()[COLUMNS]


def write_table(df: pd.DataFrame, path: Path = DEFAULT_TABLE) -> Path:
    """Merge ``df`` into the CSV at ``path``: rows of the same (task, setting) are replaced, others kept.

    Rows are ordered by suite (as ``tasks.SUITES`` lists them) then task order within the suite.
    """
    from ahabench.task_registry import suites

    path = Path(path)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"table is missing columns {missing}; expected {COLUMNS}")
    table = df[COLUMNS].copy()
    if path.exists():
        old = pd.read_csv(path, dtype={"failed_seeds": str, "code_hash": str}, keep_default_na=False, na_values=[""])
        old = old.reindex(columns=COLUMNS)
        keep = ~old.set_index(["task", "setting"]).index.isin(table.set_index(["task", "setting"]).index)
        table = pd.concat([old[keep], table], ignore_index=True)
    order = {t: i for i, t in enumerate(t for s in suites().values() for t in s)}
    table["_o"] = table["task"].map(lambda t: order.get(t, len(order)))
    table = table.sort_values(["_o", "task", "setting"], kind="stable").drop(columns="_o")
    table["failed_seeds"] = table["failed_seeds"].fillna("")
    table["code_hash"] = table["code_hash"].fillna("")
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, float_format="%.4g")
    return path


def read_table(path: Path = DEFAULT_TABLE) -> pd.DataFrame:
    """The committed table as written by :func:`write_table` (a table from before ``code_hash`` reads as '')."""
    table = pd.read_csv(path, dtype={"failed_seeds": str, "code_hash": str}, keep_default_na=False, na_values=[""])
    table = table.reindex(columns=COLUMNS)
    for col in ("failed_seeds", "code_hash"):
        table[col] = table[col].fillna("")
    return table


def stale_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows whose ``code_hash`` differs from their task's code hash now (code changed since the measurement),
    with the current hash in a ``code_hash_now`` column. Rows of tasks no longer registered are left out."""
    from ahabench.codehash import task_code_hash
    from ahabench.task_registry import task_spec

    now = {}
    for task in dict.fromkeys(table["task"]):
        try:
            task_spec(task)
        except KeyError:
            continue
        now[task] = task_code_hash(task)
    out = table[table["task"].isin(now)].copy()
    out["code_hash_now"] = out["task"].map(now)
    return out[out["code_hash"] != out["code_hash_now"]]


def below_threshold(df: pd.DataFrame, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Rows whose success rate is under the bar."""
    return df[df["success_rate"] < threshold]


def tasks_to_measure(selector: str, table: Path = DEFAULT_TABLE, setting: str = "clean") -> list[str]:
    """``every``: every task of every suite; ``stale``: the tasks whose row is missing or was measured on other
    code than today's; otherwise a task selector (``all``, a suite, comma-separated names)."""
    from ahabench.task_registry import resolve_tasks, suites

    every = [t for s in suites().values() for t in s]
    if selector == "every":
        return every
    if selector == "stale":
        df = read_table(table) if Path(table).exists() else pd.DataFrame(columns=COLUMNS)
        stale = stale_rows(df[df["setting"] == setting])
        missing = [t for t in every if t not in set(df["task"])]
        return list(dict.fromkeys(list(stale["task"]) + missing))
    return resolve_tasks(selector)


def measure_table(tasks: list[str], seeds: int = 100, workers: int = 2, setting: str = "clean",
                  out: Path = DEFAULT_TABLE, progress: ProgressFn | None = None,
                  on_row: Callable[[pd.Series], None] | None = None) -> pd.DataFrame:
    """Measure ``tasks`` on seeds 0..``seeds``-1 and merge each task's row into ``out`` as soon as it is done
    (an interrupted run keeps the rows it finished). ``ahabench expert-table`` is this, with progress."""

    def on_task(row: pd.DataFrame) -> None:
        write_table(row, out)
        if on_row is not None:
            on_row(row.iloc[0])

    return measure_expert_success(tasks, range(seeds), workers, progress, setting=setting, on_task=on_task)
