"""Episode seeds, RoboTwin's protocol: evaluation uses only seeds the scripted expert solves.

Evaluation seeds for run index ``base`` start at ``100000 * (1 + base)`` and search upward; collection seeds start
at 0. A seed is kept only if the task's expert succeeds on it (physics only, no rendering). Verdicts are cached
in a JSON file per (task, setting) under the ahabench cache directory, so a second call is instant; the cache
is keyed by the task's code hash (:func:`ahabench.codehash.task_code_hash`: every repository file the task and its
expert import, found by following their imports), so editing any of them invalidates it.

The verdicts of the default evaluation seeds also ship with the package (:data:`SHIPPED_TABLE`, written by
``ahabench seed-table``, see :mod:`ahabench.seed_table`): they are fixed by the task code, so a first evaluation on a
fresh machine plays no expert at all. Shipped rows count only while their code hash matches the task's code.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from ahabench.codehash import task_code_hash
from ahabench.envs.meshes import cache_dir
from ahabench.fileio import atomic_write_text

logger = logging.getLogger(__name__)

EVAL_SEED_STRIDE = 100_000
#: The shipped verdicts: task, setting, code_hash, first_seed, verdicts ('1' solved / '0' not, one per seed upward).
SHIPPED_TABLE = Path(__file__).resolve().parents[1] / "tasks" / "eval_seed_verdicts.csv"
#: Give up when this many consecutive candidate seeds fail: the expert (not the seeds) is broken.
MAX_CONSECUTIVE_FAILURES = 50


def eval_seed_start(base: int = 0) -> int:
    return EVAL_SEED_STRIDE * (1 + int(base))


def shipped_verdicts(task: str, setting: str, code: str, table: Path | None = None) -> dict[int, bool]:
    """seed -> solved from the shipped table, for rows of ``task``/``setting`` measured with task code ``code``."""
    path = SHIPPED_TABLE if table is None else table
    out: dict[int, bool] = {}
    if not path.is_file():
        return out
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["task"] == task and row["setting"] == setting and row["code_hash"] == code:
                first = int(row["first_seed"])
                out.update({first + i: c == "1" for i, c in enumerate(row["verdicts"])})
    return out


def task_env_kwargs(task_args: dict[str, Any] | None) -> dict[str, Any]:
    """The :func:`~ahabench.task_registry.make_task_env` kwargs that pass ``task_args`` to the task's env class."""
    return {"env_kwargs": dict(task_args)} if task_args else {}


def _args_digest(task_args: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(task_args, sort_keys=True).encode()).hexdigest()[:12]


class SeedVerdicts:
    """The cached expert verdicts of one (task, setting): seed -> solved."""

    def __init__(self, task: str, setting: str, task_args: dict[str, Any] | None = None):
        self.task, self.setting, self.task_args = task, setting, dict(task_args or {})
        # Task args (a dynamic task's level, speed) change which seeds the expert solves: their verdicts are
        # cached apart, and the shipped table (measured at the defaults) does not apply to them.
        suffix = f"__{_args_digest(self.task_args)}" if self.task_args else ""
        self.path = cache_dir() / "seeds" / f"{task}__{setting}{suffix}.json"
        self.code = task_code_hash(task)
        self.verdicts: dict[int, bool] = {} if self.task_args else shipped_verdicts(task, setting, self.code)
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text())
                if data.get("code") == self.code:
                    self.verdicts.update({int(k): bool(v) for k, v in data["verdicts"].items()})
                else:
                    logger.info("%s: made with other task code (%s, now %s); measuring again", self.path,
                                data.get("code"), self.code)
            except (json.JSONDecodeError, KeyError, ValueError):
                logger.warning("ignoring unreadable seed cache %s", self.path)
        self._env = None

    def solved(self, seed: int) -> bool:
        if seed not in self.verdicts:
            from ahabench.experts.evaluate import expert_episode
            from ahabench.task_registry import make_task_env

            if self._env is None:
                self._env = make_task_env(self.task, render=False, **task_env_kwargs(self.task_args))
            ok, steps = expert_episode(self._env, seed, self.setting)
            self.verdicts[seed] = ok
            logger.info("%s/%s seed %d: expert %s (%d steps)", self.task, self.setting, seed,
                        "solves" if ok else "fails", steps)
        return self.verdicts[seed]

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps({"task": self.task, "setting": self.setting, "code": self.code,
                                                 "verdicts": {str(k): v for k, v in sorted(self.verdicts.items())}}))

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None


def solvable_seeds(task: str, n: int, start: int, setting: str = "clean",
                   task_args: dict[str, Any] | None = None) -> list[int]:
    """The first ``n`` seeds >= ``start`` that the task's expert solves (with the env kwargs ``task_args``)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    v = SeedVerdicts(task, setting, task_args)
    out: list[int] = []
    seed, misses = start, 0
    try:
        while len(out) < n:
            if v.solved(seed):
                out.append(seed)
                misses = 0
            else:
                misses += 1
                if misses >= MAX_CONSECUTIVE_FAILURES:
                    raise RuntimeError(f"{task}/{setting}: expert failed {misses} seeds in a row from {seed - misses + 1}")
            seed += 1
    finally:
        v.save()
        v.close()
    return out


def eval_seeds(task: str, n: int, setting: str = "clean", base: int = 0,
               task_args: dict[str, Any] | None = None) -> list[int]:
    """``n`` evaluation seeds for ``task``: expert-solvable seeds from ``100000 * (1 + base)`` upward."""
    return solvable_seeds(task, n, eval_seed_start(base), setting, task_args)


def collection_seeds(task: str, n: int, setting: str = "clean") -> list[int]:
    """``n`` demonstration-collection seeds for ``task``: expert-solvable seeds from 0 upward."""
    return solvable_seeds(task, n, 0, setting)
