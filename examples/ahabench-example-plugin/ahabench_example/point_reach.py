"""``example_point_reach``: move a two-joint point onto a target that only the camera shows.

Description: a point on a plane is driven by a 2-D joint target (each tick it moves at most ``MAX_STEP`` toward
it). The head camera shows the target as a red dot; proprioception gives the point's position.
Randomizations: the target position, uniform in [-0.8, 0.8]^2, from the episode seed.
Success: the point is within ``SUCCESS_RADIUS`` of the target.

A task without physics, to show the plugin interface in a few lines; a robot task subclasses the same
:class:`~ahabench.task_registry.TaskEnv` over a ManiSkill environment (see the repository's tasks/ folder).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ahabench.task_registry import TaskEnv, TaskSpec, register_task
from ahabench.types import EpisodeInfo, Observation

NAME = "example_point_reach"
IMAGE_SIZE = 64
MAX_STEP = 0.05
SUCCESS_RADIUS = 0.05
INSTRUCTION = "move the point onto the red dot"
SPEC = TaskSpec(name=NAME, suite="example", env_id="none", description="move a point onto a target seen by the camera",
                arms=1, max_steps=80, control_hz=20.0, action_dim=2)


def to_pixel(xy: np.ndarray) -> tuple[int, int]:
    """Plane coordinates in [-1, 1]^2 -> (row, column) of the camera image (x to the right, y up)."""
    col = int(np.clip((xy[0] + 1) / 2 * IMAGE_SIZE, 0, IMAGE_SIZE - 1))
    row = int(np.clip((1 - xy[1]) / 2 * IMAGE_SIZE, 0, IMAGE_SIZE - 1))
    return row, col


class PointReachEnv(TaskEnv):
    spec = SPEC
    action_low = np.full(2, -1.0, np.float32)
    action_high = np.full(2, 1.0, np.float32)

    def __init__(self, **_: object) -> None:
        self.frames_rendered = 0
        self.q = np.zeros(2, np.float32)
        self.cmd = np.zeros(2, np.float32)
        self.target = np.zeros(2, np.float32)

    def reset(self, seed: int, setting: str = "clean", unseen_instructions: bool = True) -> EpisodeInfo:
        self.target = np.random.default_rng(seed).uniform(-0.8, 0.8, 2).astype(np.float32)
        self.q = np.zeros(2, np.float32)
        self.cmd = self.q.copy()
        return EpisodeInfo(task=NAME, suite=SPEC.suite, instruction=INSTRUCTION, action_dim=2,
                           control_hz=SPEC.control_hz, max_steps=SPEC.max_steps, seed=seed, setting=setting)

    def observe(self, tick: int, time_us: int) -> Observation:
        self.frames_rendered += 1
        img = np.zeros((IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
        img[to_pixel(self.target)] = (255, 0, 0)
        return Observation(images={"head": img}, qpos=self.q.copy(), instruction=INSTRUCTION, tick=tick, time_us=time_us)

    def evaluate(self) -> dict[str, bool]:
        near = bool(np.linalg.norm(self.q - self.target) < SUCCESS_RADIUS)
        return {"point_on_target": near, "success": near}

    def step(self, action: np.ndarray) -> dict[str, bool]:
        self.cmd = np.asarray(action, np.float32)
        self.q = self.q + np.clip(self.cmd - self.q, -MAX_STEP, MAX_STEP)
        return self.evaluate()

    def hold_action(self) -> np.ndarray:
        return self.cmd.copy()

    def expert(self) -> Iterator[np.ndarray]:
        while True:
            yield self.target.copy()

    def close(self) -> None:
        pass


register_task(SPEC, PointReachEnv)
