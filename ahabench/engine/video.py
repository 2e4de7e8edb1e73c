"""``--video``: keep the frames the policy was shown and write them as one MP4 per episode under ``RUN/videos``."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class FrameRecorder:
    """A transparent TaskEnv proxy that keeps every frame the policy was shown, for ``--video``.

    It records only what :meth:`observe` rendered (the policy's view, at its request rate), so turning
    video on renders nothing extra and leaves the episode record unchanged.
    """

    def __init__(self, env: Any):
        self._env = env
        self._frames: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)

    def observe(self, tick: int, time_us: int) -> Any:
        obs = self._env.observe(tick, time_us)
        self._frames.append(_mosaic(obs.images))
        return obs

    def save(self, path: Path, fps: float = 10.0) -> Path | None:
        if not self._frames:
            return None
        import cv2

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        h, w = self._frames[0].shape[:2]
        vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        for fr in self._frames:
            vw.write(cv2.cvtColor(fr, cv2.COLOR_RGB2BGR))
        vw.release()
        self._frames.clear()
        return path


def _mosaic(images: dict[str, Any]) -> Any:
    """Head camera on top, wrist cameras side by side below, each resized to the head's height."""
    import cv2
    import numpy as np

    from ahabench.types import CAMERAS

    head = images.get(CAMERAS[0], next(iter(images.values())))
    h, w = head.shape[:2]
    wrists = [images[c] for c in CAMERAS[1:] if c in images]
    if not wrists:
        return np.ascontiguousarray(head)
    half = w // len(wrists)
    row = np.concatenate([cv2.resize(im, (half, h)) for im in wrists], axis=1)
    if row.shape[1] != w:
        row = cv2.resize(row, (w, h))
    return np.ascontiguousarray(np.concatenate([head, row], axis=0))
