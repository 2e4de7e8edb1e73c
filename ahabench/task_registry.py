"""Task and suite registry: tasks and suites are found through Python entry points, like any installed plugin.

A task is a ManiSkill environment registered with gymnasium (e.g. ``ahabench/StackBlocksTwo-v1``) plus
what the harness needs around it: its suite, arms, step limit, instruction templates and scripted
expert. The evaluation engine and the collector talk to a task only through :class:`TaskEnv`.

Packages declare their tasks and suites in their metadata (this repo's pyproject.toml lists the shipped ones)::

    [project.entry-points."ahabench.tasks"]
    my_task = "my_package.my_task"          # task name -> the module that registers it (register_task)

    [project.entry-points."ahabench.suites"]
    my_suite = "my_package:MY_SUITE"        # suite name -> a tuple of task names

The registry imports no task itself: :func:`task_names` and :func:`suites` read metadata (a suite's entry point
names a plain tuple), and the module of a task is imported the first time that task is asked for, so an eval of
one task never builds the others. Tests may also call :func:`register_task` directly.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import numpy as np

from ahabench.types import EpisodeInfo, Observation

SETTINGS: tuple[str, ...] = ("clean", "randomized")
#: Entry-point group of tasks: task name -> the module that registers it when imported.
ENTRY_POINT_GROUP = "ahabench.tasks"
#: Entry-point group of suites: suite name -> ``module:ATTRIBUTE``, a tuple of task names in order.
SUITE_ENTRY_POINT_GROUP = "ahabench.suites"
#: What the selector ``all`` means: the suites every headline number is reported on.
DEFAULT_SUITES: tuple[str, ...] = ("robotwin",)


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


def _entry_points(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


def _load_entry_point(ep: EntryPoint, what: str) -> Any:
    try:
        return ep.load()
    except Exception as e:  # noqa: BLE001 - whatever a plugin raises, say which plugin it was
        raise ImportError(f"{what} {ep.name!r} ({ep.value}) failed to import: {type(e).__name__}: {e}") from e


def task_names() -> list[str]:
    """Every task name: installed entry points and tasks registered in this process (nothing is imported)."""
    return sorted(set(_entry_points(ENTRY_POINT_GROUP)) | set(_TASKS))


def _load(name: str) -> tuple[TaskSpec, TaskEnvFactory]:
    if name not in _TASKS:
        ep = _entry_points(ENTRY_POINT_GROUP).get(name)
        if ep is None:
            known = ", ".join(task_names()) or "none (is ahabench installed? pip install -e .)"
            raise KeyError(f"unknown task {name!r}; known tasks: {known}")
        _load_entry_point(ep, "task")  # the module registers the task on import
        if name not in _TASKS:
            raise KeyError(f"entry point {ep.value!r} of task {name!r} did not register it (register_task)")
    return _TASKS[name]


def suites() -> dict[str, tuple[str, ...]]:
    """Suite name -> its task names in order: the default suites first, then the others by name."""
    eps = _entry_points(SUITE_ENTRY_POINT_GROUP)
    order = [s for s in DEFAULT_SUITES if s in eps] + sorted(s for s in eps if s not in DEFAULT_SUITES)
    return {s: tuple(_load_entry_point(eps[s], "suite")) for s in order}


def task_spec(name: str) -> TaskSpec:
    return _load(name)[0]


def task_factory(name: str) -> TaskEnvFactory:
    """The callable that builds the task's :class:`TaskEnv` (its ``__module__`` is where the task is registered)."""
    return _load(name)[1]


def make_task_env(name: str, **kwargs: Any) -> TaskEnv:
    """Build the harness view of a task (kwargs: camera size, render backend options)."""
    return _load(name)[1](**kwargs)


def resolve_tasks(selector: str) -> list[str]:
    """``all`` -> every task of the default suites; a suite name -> its tasks; else comma-separated names."""
    all_suites = suites()
    sel = selector.strip()
    if sel == "all":
        return [t for s in DEFAULT_SUITES for t in all_suites[s]]
    if sel in all_suites:
        return list(all_suites[sel])
    names = [n.strip() for n in sel.split(",") if n.strip()]
    if not names:
        raise KeyError(f"empty task selector {selector!r}")
    for n in names:
        task_spec(n)
    return names
