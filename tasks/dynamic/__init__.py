"""The ``dynamic`` suite: moving-object tasks on the dual-Panda table, where latency costs success.

Each task module registers its task on import; this package only declares the suite's order.
"""

SUITE: tuple[str, ...] = (
    "pick_conveyor_block", "click_moving_bell", "place_on_moving_tray", "stack_on_moving_block",
    "beat_moving_block", "pick_conveyor_can",
)
