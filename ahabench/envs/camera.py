"""The default camera resolution of every task env (head and wrist cameras), in one light module.

64 x 80 (H x W) keeps three cameras cheap to render on a CPU Vulkan device; ``--camera 240x320`` on ``eval``
and ``collect`` gives RoboTwin's resolution. Stdlib only, so the CLI can name it in its help without
importing SAPIEN.
"""

from __future__ import annotations

#: (height, width) in pixels.
DEFAULT_CAMERA_HW: tuple[int, int] = (64, 80)
