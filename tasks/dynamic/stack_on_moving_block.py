"""stack_on_moving_block: pick a block off the table and stack it on a bigger block gliding across the table."""

from __future__ import annotations

from ahabench.envs.adapter import register_robotwin_task
from ahabench.tasks.dynamic.carriers import PlateGeom, build_plate
from ahabench.tasks.dynamic.place_on_carrier import PlaceOnCarrierEnv
from ahabench.tasks.robotwin.shapes import ABOVE_TABLE, add_box, finish

#: The moving base is itself the carrier: a kinematic 6 cm cube gliding just above the table.
BASE = PlateGeom(half_x=0.03, half_y=0.03, half_h=0.03)
TOP_HALF = 0.02
TOP_RGB = (0.95, 0.75, 0.1)
#: Stacked: the top block's centre within this distance of the base's centre along both axes (m).
XY_TOL = 0.015


@register_robotwin_task("stack_on_moving_block", max_steps=250, suite="dynamic")
class StackOnMovingBlockEnv(PlaceOnCarrierEnv):
    """
    Description:
        Stack the yellow block on top of the green block while the green block slides past.
    Randomizations:
        The yellow block's position (x in [-0.2, -0.13], |y| in [0.12, 0.26]) and yaw (+-0.4 rad), on a drawn
        side; the green block's start x in [0.02, 0.1] and |y| in [0.45, 0.52] on the same side, heading to the
        other side; its motion (level 1 constant velocity, 2 polynomial path, 3 chaotic) at ``BASE_SPEED`` x
        ``speed`` m/s (0.12 m/s by default).
    Success:
        The yellow block rests on the green one (its bottom within 1 cm of the green block's top, moving with it),
        its centre within 1.5 cm of the green block's centre along both axes, and no gripper holds it.
    """

    BASE_SPEED = 0.12
    CARRIER, BLOCK_HALF, CENTRE_TOL = BASE, TOP_HALF, XY_TOL
    ON_KEY, CENTRE_KEY = "block_on_base", "centred"
    INSTRUCTIONS_SEEN = (
        "Stack the yellow block on the moving green block.",
        "Put the yellow cube on top of the sliding green cube.",
        "Place the small block onto the big block as it passes.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Set the yellow cube on the gliding green block with the {arm} arm.",
        "Pile the small cube onto the moving one.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.base = self.add_task_actor(build_plate(self.scene, "base_block", BASE, (0.2, 0.6, 0.25)))
        self.carrier_actor = self.base
        b = self.scene.create_actor_builder()
        add_box(b, (0, 0, 0), (TOP_HALF,) * 3, TOP_RGB, 500.0, grip=True)
        self.block = self.add_task_actor(finish(b, "top_block", ABOVE_TABLE))
