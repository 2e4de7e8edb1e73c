"""pick_conveyor_can: pick an upright can off a pallet gliding across the table and drop it into a bin."""

from __future__ import annotations

from ahabench.envs.adapter import register_robotwin_task
from ahabench.tasks.dynamic.conveyor import ConveyorPickEnv
from ahabench.tasks.robotwin.shapes import ABOVE_TABLE, add_cylinder, finish

#: The can: a 7 cm tall, 4.4 cm wide cylinder standing on the pallet (local origin at its centre).
CAN_R, CAN_HALF_H = 0.022, 0.035
CAN_RGB = (0.1, 0.55, 0.3)


@register_robotwin_task("pick_conveyor_can", max_steps=250, suite="dynamic")
class PickConveyorCanEnv(ConveyorPickEnv):
    """
    Description:
        Pick the green can standing on the moving pallet and drop it into the bin.
    Randomizations:
        The pallet's start x in [-0.02, 0.1] and side (|y| in [0.32, 0.42], left or right), heading to the other
        side; its motion (level 1 constant velocity, 2 polynomial path, 3 chaotic) at ``BASE_SPEED`` x ``speed``
        m/s (0.15 m/s by default); the can's offset on the pallet (+-1 cm).
    Success:
        The can rests inside the bin (centre within the bin's inner square, below its rim, not held, slower than
        5 cm/s), and it never touched the table on the way (a can knocked off the pallet is lost).
    """

    ITEM = "can"
    ITEM_HALF_H = CAN_HALF_H
    #: The gripper closes this far above the can's centre: its fingers clear the pallet, its palm the can's top.
    GRASP_ABOVE = 0.008
    INSTRUCTIONS_SEEN = (
        "Pick the green can off the moving pallet and drop it in the bin.",
        "Grab the can riding on the conveyor and put it into the bin.",
        "Catch the moving can coming from the {side} and place it in the box.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Take the green tin from the sliding pallet and drop it into the container.",
        "Snatch the cylinder as it passes and put it in the bin.",
    )

    def build_item(self) -> object:
        b = self.scene.create_actor_builder()
        add_cylinder(b, 0.0, CAN_HALF_H, CAN_R, CAN_RGB, 500.0, grip=True, metallic=0.3)
        self.can = finish(b, "can", ABOVE_TABLE)
        return self.can
