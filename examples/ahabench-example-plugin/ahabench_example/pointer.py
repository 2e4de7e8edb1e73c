"""``example-pointer``: a policy that finds the red dot in the head camera and steers the point onto it.

It sees what a robot policy sees (the image, the proprioception, the instruction) and nothing of the simulator:
the target comes from the pixels. One synchronous call returns a chunk of ``CHUNK`` joint targets along the line
to the dot; latency is charged by whatever latency model the run uses (e.g. ``--fixed-ms 50``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ahabench.policy import Policy, PolicySpec
from ahabench.policy_registry import register_policy
from ahabench.types import EpisodeInfo, Observation

CHUNK = 8
STEP = 0.05  # per action, as far as the task's point moves per tick


def find_red(img: np.ndarray) -> np.ndarray | None:
    """Plane coordinates of the reddest pixel's centre (None when the image has no red)."""
    red = img[..., 0].astype(np.int32) - img[..., 1:].max(axis=-1)
    if red.max() <= 0:
        return None
    row, col = np.unravel_index(int(np.argmax(red)), red.shape)
    size = img.shape[0]
    return np.array([(col + 0.5) / size * 2 - 1, 1 - (row + 0.5) / size * 2], np.float32)


class PointerPolicy(Policy):
    def __init__(self, chunk_len: int = CHUNK, execute_len: int = CHUNK // 2) -> None:
        self.spec = PolicySpec(name="example-pointer", chunk_len=chunk_len, execute_len=execute_len)

    def reset(self, episode: EpisodeInfo) -> None:
        pass

    def act(self, obs: Observation, context: Any = None, phase_offset: int = 0) -> np.ndarray:
        q = np.asarray(obs.qpos, np.float32)
        goal = find_red(obs.images["head"])
        if goal is None:
            return np.repeat(q[None], self.spec.chunk_len, axis=0)
        delta = goal - q
        dist = float(np.linalg.norm(delta))
        steps = np.arange(1, self.spec.chunk_len + 1, dtype=np.float32)[:, None]
        along = np.minimum(steps * STEP, dist) / max(dist, 1e-9)
        return (q + along * delta).astype(np.float32)


@register_policy("example-pointer", "example plugin: steers onto the red dot it finds in the head camera")
def make_pointer(**kwargs: Any) -> PointerPolicy:
    return PointerPolicy(**kwargs)
