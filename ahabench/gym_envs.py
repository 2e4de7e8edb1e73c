"""Registers every ahabench task with gymnasium, for ``gymnasium.make`` in a fresh interpreter.

gymnasium 1.x has no plugin entry points; its own way to make an env whose package is not imported yet is the
``"module:env_id"`` form, which imports the module first::

    import gymnasium as gym
    env = gym.make("ahabench.gym_envs:ahabench/ClickBell-v1")

Importing this module imports the task packages (each task registers its ManiSkill env, and ManiSkill registers it
with gymnasium) and the installed task plugins (``ahabench.tasks`` entry points).
"""

from __future__ import annotations

from ahabench.task_plugins import load_task_plugins
from ahabench.task_registry import suites


def register_all() -> tuple[str, ...]:
    """Import every task (shipped and plugin) and return their gymnasium ids."""
    from ahabench.task_registry import task_spec

    names = [t for ts in suites().values() for t in ts] + load_task_plugins()
    return tuple(task_spec(n).env_id for n in names if task_spec(n).env_id != "none")


#: Every registered task's gymnasium id, e.g. ``ahabench/ClickBell-v1``.
ENV_IDS: tuple[str, ...] = register_all()

__all__ = ["ENV_IDS", "register_all"]
