"""Task suites. Importing this package registers every task (each task module registers itself on import).

``SUITES`` names each suite's tasks in order; ``DEFAULT_SUITES`` is what ``all`` selects.
"""

from __future__ import annotations

import importlib
import os

os.environ.setdefault("MS_SKIP_ASSET_DOWNLOAD_PROMPT", "1")

SUITES: dict[str, tuple[str, ...]] = {
    "robotwin": (
        "stack_blocks_two", "stack_blocks_three", "blocks_ranking_rgb", "blocks_ranking_size", "handover_block",
        "lift_pot", "pick_dual_bottles", "click_bell", "place_container_plate", "place_empty_cup",
        "beat_block_hammer", "move_can_pot",
    ),
    "maniskill": ("PickCube", "StackCube", "PushCube", "PullCube", "LiftPegUpright", "PegInsertionSide",
                  "PlugCharger"),
}
DEFAULT_SUITES: tuple[str, ...] = ("robotwin",)

# Each task module registers itself with gymnasium and the harness on import.
for _name in SUITES["robotwin"]:
    importlib.import_module(f"tasks.robotwin.{_name}")
importlib.import_module("tasks.maniskill")
