"""Task and suite registry: tasks are registered by name, suites are declared in the ``tasks`` package.

A task is a ManiSkill environment registered with gymnasium (e.g. ``ahabench/StackBlocksTwo-v1``) plus
what the harness needs around it: its suite, arms, step limit, instruction templates and scripted
expert. The evaluation engine and the collector talk to a task only through :class:`TaskEnv`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from ahabench.types import EpisodeInfo, Observation

SETTINGS: tuple[str, ...] = ("clean", "randomized")


@dataclass(frozen=True)
class TaskSpec:
    """Static description of one task.

    name: snake_case task name, as RoboTwin names it (``stack_blocks_two``) or ManiSkill's id for the
        ``maniskill`` suite (``PickCube``).
    env_id: the gymnasium id it is registered under.
    max_steps: episode limit in control steps (actions); the time limit is max_steps / control_hz seconds.
    """

    name: str
    suite: str
    env_id: str
    description: str
    arms: int
    max_steps: int
    control_hz: float
    action_dim: int

    @property
    def time_limit_s(self) -> float:
        return self.max_steps / self.control_hz


class TaskEnv(abc.ABC):
    """One episode-at-a-time view of a task, as the harness uses it.

    Rendering is lazy: :meth:`observe` renders the cameras; :meth:`step` does not. ``frames_rendered``
    counts renders so the engine can report rendered vs consumed frames.
    """

    spec: TaskSpec
    frames_rendered: int

    @abc.abstractmethod
    def reset(self, seed: int, setting: str = "clean", unseen_instructions: bool = True) -> EpisodeInfo:
        """Reset to the episode defined by ``seed`` (object poses, setting draws, instruction)."""

    @abc.abstractmethod
    def observe(self, tick: int, time_us: int) -> Observation:
        """Render the cameras now and return what a robot would see."""

    @abc.abstractmethod
    def step(self, action: np.ndarray) -> dict[str, bool]:
        """Apply one absolute joint-target action for one control period; return ``evaluate()``'s
        named boolean conditions, including ``success``."""

    @abc.abstractmethod
    def hold_action(self) -> np.ndarray:
        """The action that holds the robot still: the last commanded absolute joint targets."""

    @abc.abstractmethod
    def expert(self) -> Iterator[np.ndarray]:
        """The task's scripted expert, as a generator of absolute joint-target actions (privileged)."""

    @abc.abstractmethod
    def close(self) -> None: ...


TaskEnvFactory = Callable[..., TaskEnv]

_TASKS: dict[str, tuple[TaskSpec, TaskEnvFactory]] = {}


def register_task(spec: TaskSpec, factory: TaskEnvFactory) -> None:
    if spec.name in _TASKS:
        raise ValueError(f"task {spec.name!r} is already registered")
    _TASKS[spec.name] = (spec, factory)


def _load() -> Any:
    import tasks  # noqa: F401  (importing the tasks package registers every task and declares suites)

    return tasks


def suites() -> dict[str, tuple[str, ...]]:
    return dict(_load().SUITES)


def task_spec(name: str) -> TaskSpec:
    _load()
    if name not in _TASKS:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(sorted(_TASKS))}")
    return _TASKS[name][0]


def task_factory(name: str) -> TaskEnvFactory:
    """The callable that builds the task's :class:`TaskEnv` (its ``__module__`` is where the task is registered)."""
    task_spec(name)
    return _TASKS[name][1]


def make_task_env(name: str, **kwargs: Any) -> TaskEnv:
    """Build the harness view of a task (kwargs: camera size, render backend options)."""
    task_spec(name)
    return _TASKS[name][1](**kwargs)


def resolve_tasks(selector: str) -> list[str]:
    """``all`` -> every task of the default suites; a suite name -> its tasks; else comma-separated names."""
    mod = _load()
    all_suites: dict[str, tuple[str, ...]] = mod.SUITES
    sel = selector.strip()
    if sel == "all":
        return [t for s in mod.DEFAULT_SUITES for t in all_suites[s]]
    if sel in all_suites:
        return list(all_suites[sel])
    names = [n.strip() for n in sel.split(",") if n.strip()]
    if not names:
        raise KeyError(f"empty task selector {selector!r}")
    for n in names:
        task_spec(n)
    return names
