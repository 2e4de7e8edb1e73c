"""Run a task's scripted expert and measure how often it succeeds.

``expert_episode`` plays one episode physics-only (no rendering): the expert's actions are applied one per
control step, success is checked after every step, and the episode ends at first success (RoboTwin's
protocol) or at the task's step limit. ``lookahead`` > 0 pulls that many actions from the expert before
executing the first one, as the simulated clock does when it serves the expert as a policy.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable

from ahabench.task_registry import TaskEnv, make_task_env

logger = logging.getLogger(__name__)


def expert_episode(env: TaskEnv, seed: int, setting: str = "clean", lookahead: int = 0) -> tuple[bool, int]:
    """(success, steps) of the expert on one seed."""
    info = env.reset(seed, setting)
    gen = env.expert()
    queue: deque = deque()
    exhausted = False
    for step in range(info.max_steps):
        while not exhausted and len(queue) <= lookahead:
            try:
                queue.append(next(gen))
            except StopIteration:
                exhausted = True
        action = queue.popleft() if queue else env.hold_action()
        if env.step(action).get("success", False):
            return True, step + 1
    return False, info.max_steps


def expert_success(task: str, seeds: Iterable[int], setting: str = "clean", lookahead: int = 0,
                   env: TaskEnv | None = None) -> float:
    """Fraction of ``seeds`` on which ``task``'s expert succeeds (physics only, no rendering)."""
    own = env is None
    env = env or make_task_env(task, render=False)
    try:
        seeds = list(seeds)
        if not seeds:
            raise ValueError("expert_success needs at least one seed")
        wins = 0
        for s in seeds:
            ok, steps = expert_episode(env, s, setting, lookahead)
            wins += ok
            logger.info("%s seed %d (%s): %s in %d steps", task, s, setting, "success" if ok else "FAIL", steps)
        return wins / len(seeds)
    finally:
        if own:
            env.close()
