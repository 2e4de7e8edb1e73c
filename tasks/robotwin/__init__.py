"""The ``robotwin`` suite: RoboTwin-like dual-arm tasks on the dual-Panda table, one module per task.

Each task module registers its task on import; this package only declares the suite's order.
"""

SUITE: tuple[str, ...] = (
    "stack_blocks_two", "stack_blocks_three", "blocks_ranking_rgb", "blocks_ranking_size", "handover_block",
    "lift_pot", "pick_dual_bottles", "click_bell", "place_container_plate", "place_empty_cup",
    "beat_block_hammer", "move_can_pot",
)
