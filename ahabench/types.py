"""Plain data records shared by tasks, policies, the clock and the evaluation engine.

Everything a policy may see is in :class:`Observation`: camera images, proprioception and the
instruction. Simulator state never reaches a (non-privileged) policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Camera names, in mosaic order: the head camera on top, the two wrists side by side below.
CAMERAS: tuple[str, ...] = ("head", "left_wrist", "right_wrist")


@dataclass(frozen=True)
class Observation:
    """What a robot's policy receives at one control tick.

    images: camera name -> (H, W, 3) uint8 RGB. Single-arm tasks carry "head" and "right_wrist" only.
    qpos: (D,) float32 proprioception: joint positions and gripper openings (16 for the dual Panda,
        per arm 7 joints + 1 gripper, left arm first; 8 for single-arm tasks).
    instruction: the natural-language instruction of the episode.
    tick: the control tick at which the observation was captured.
    time_us: simulated capture time in integer microseconds (tick * dt).
    """

    images: dict[str, np.ndarray]
    qpos: np.ndarray
    instruction: str
    tick: int
    time_us: int


@dataclass(frozen=True)
class EpisodeInfo:
    """What a policy is told at reset: the task's public description, never its state."""

    task: str
    suite: str
    instruction: str
    action_dim: int
    control_hz: float
    max_steps: int
    seed: int
    setting: str = "clean"
    extra: dict = field(default_factory=dict)
