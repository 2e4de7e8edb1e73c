"""place_on_moving_tray: pick a block off the table and set it down on the target mark of a passing tray."""

from __future__ import annotations

from ahabench.envs.adapter import register_robotwin_task
from ahabench.tasks.dynamic.carriers import PlateGeom, build_plate
from ahabench.tasks.dynamic.place_on_carrier import PlaceOnCarrierEnv
from ahabench.tasks.robotwin.shapes import ABOVE_TABLE, add_box, finish

TRAY = PlateGeom(half_x=0.07, half_y=0.07, rim_h=0.012)
#: Half-size of the painted target mark at the tray's centre; the block's centre must end within it.
MARK_HALF = 0.025
BLOCK_HALF = 0.02
BLOCK_RGB = (0.15, 0.35, 0.85)


@register_robotwin_task("place_on_moving_tray", max_steps=250, suite="dynamic")
class PlaceOnMovingTrayEnv(PlaceOnCarrierEnv):
    """
    Description:
        Pick up the blue block and set it down on the target mark of the moving tray.
    Randomizations:
        The block's position (x in [-0.2, -0.13], |y| in [0.12, 0.26]) and yaw (+-0.4 rad), on a drawn side;
        the tray's start x in [0.02, 0.1] and |y| in [0.45, 0.52] on the same side, heading to the other side;
        its motion (level 1 constant velocity, 2 polynomial path, 3 chaotic) at ``BASE_SPEED`` x ``speed`` m/s
        (0.15 m/s by default).
    Success:
        The block rests on the tray (its bottom within 1 cm of the tray's top face, moving with the tray),
        its centre within 2.5 cm of the tray's centre along both tray axes (on the target mark), and no gripper
        holds it.
    """

    BASE_SPEED = 0.15
    CARRIER, BLOCK_HALF, CENTRE_TOL = TRAY, BLOCK_HALF, MARK_HALF
    ON_KEY, CENTRE_KEY = "block_on_tray", "on_mark"
    INSTRUCTIONS_SEEN = (
        "Put the blue block on the mark of the moving tray.",
        "Place the block onto the tray as it slides past.",
        "Pick up the cube and set it on the passing tray's target.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Drop the blue cube onto the centre of the gliding tray.",
        "Load the block onto the moving tray with the {arm} arm.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.tray = self.add_task_actor(build_plate(self.scene, "tray", TRAY, (0.8, 0.8, 0.78),
                                                    rim_color=(0.35, 0.35, 0.38), mark_color=(0.95, 0.75, 0.1),
                                                    mark_half=MARK_HALF))
        self.carrier_actor = self.tray
        b = self.scene.create_actor_builder()
        add_box(b, (0, 0, 0), (BLOCK_HALF,) * 3, BLOCK_RGB, 500.0, grip=True)
        self.block = self.add_task_actor(finish(b, "block", ABOVE_TABLE))
