"""Camera mosaic: the head view on top, the two wrist views at half size side by side below.

With the default 64 x 80 head view the mosaic is (96, 80, 3) uint8. A missing wrist camera (single-arm
tasks have no left wrist) is a black tile, so every task yields the same shape.
"""

from __future__ import annotations

import cv2
import numpy as np


def _resize(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    if img.shape[:2] == hw:
        return img
    return cv2.resize(img, (hw[1], hw[0]), interpolation=cv2.INTER_AREA)


#: The head tile of the mosaic, i.e. the model's input size (the WAM checkpoints are trained on (96, 80, 3)
#: mosaics). Equal to the default camera size (ahabench.envs.camera) so that, by default, nothing is resized,
#: but a separate quantity: a run with ``--camera 240x320`` still feeds the policy 64 x 80 head tiles.
MOSAIC_HEAD_HW: tuple[int, int] = (64, 80)


def make_mosaic(images: dict[str, np.ndarray], head_hw: tuple[int, int] = MOSAIC_HEAD_HW) -> np.ndarray:
    """Compose ``images`` ("head", "left_wrist", "right_wrist": (H, W, 3) uint8) into one uint8 image of shape
    (head_h + head_h // 2, head_w, 3)."""
    h, w = int(head_hw[0]), int(head_hw[1])
    if h < 2 or w < 2:
        raise ValueError(f"head_hw must be at least (2, 2), got {head_hw!r}")
    if "head" not in images:
        raise KeyError(f"make_mosaic needs a 'head' image; got {sorted(images)}")
    out = np.zeros((h + h // 2, w, 3), dtype=np.uint8)
    out[:h] = _resize(np.asarray(images["head"], dtype=np.uint8), (h, w))
    tile = (h // 2, w // 2)
    for i, name in enumerate(("left_wrist", "right_wrist")):
        if name in images:
            out[h:, i * tile[1]: (i + 1) * tile[1]] = _resize(np.asarray(images[name], dtype=np.uint8), tile)
    return out
