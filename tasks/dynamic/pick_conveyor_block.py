"""pick_conveyor_block: pick a block off a pallet gliding across the table and drop it into a bin."""

from __future__ import annotations

from ahabench.envs.adapter import register_robotwin_task
from ahabench.tasks.dynamic.conveyor import ConveyorPickEnv
from ahabench.tasks.robotwin.shapes import ABOVE_TABLE, add_box, finish

BLOCK_HALF = 0.02
BLOCK_RGB = (0.85, 0.15, 0.12)


@register_robotwin_task("pick_conveyor_block", max_steps=250, suite="dynamic")
class PickConveyorBlockEnv(ConveyorPickEnv):
    """
    Description:
        Pick the block off the moving pallet and drop it into the bin.
    Randomizations:
        The pallet's start x in [-0.02, 0.1] and side (|y| in [0.32, 0.42], left or right), heading to the other
        side; its motion (level 1 constant velocity, 2 polynomial path, 3 chaotic) at ``BASE_SPEED`` x ``speed``
        m/s (0.15 m/s by default); the block's offset on the pallet (+-1 cm).
    Success:
        The block rests inside the bin (centre within the bin's inner square, below its rim, not held, slower than
        5 cm/s), and it never touched the table on the way (a block knocked off the pallet is lost).
    """

    ITEM = "block"
    ITEM_HALF_H = BLOCK_HALF
    INSTRUCTIONS_SEEN = (
        "Pick the red block off the moving pallet and drop it in the bin.",
        "Grab the block riding on the conveyor and put it into the bin.",
        "Catch the moving cube coming from the {side} and place it in the box.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Take the red block from the sliding pallet and drop it into the container.",
        "Snatch the cube as it passes and put it in the bin.",
    )

    def build_item(self) -> object:
        b = self.scene.create_actor_builder()
        add_box(b, (0, 0, 0), (BLOCK_HALF,) * 3, BLOCK_RGB, 500.0, grip=True)
        self.block = finish(b, "block", ABOVE_TABLE)
        return self.block
