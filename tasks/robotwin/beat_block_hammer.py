"""beat_block_hammer: grasp a hammer by its handle and beat a block with its head (RoboTwin, 400 actions)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.base import DualArmTableEnv
from ahabench.experts.primitives import LEFT, RIGHT, DualArmExpert, top_down_pose
from ahabench.tasks.robotwin.objects import BlockGeom, HammerGeom, build_block, build_hammer
from ahabench.tasks.robotwin.poses import place_actor, quat_apply, rot2, rot3, sp_pose, yaw_of
from ahabench.tasks.robotwin.shapes import ABOVE_TABLE

#: Where the grasp sits on the handle, measured from the handle's centre toward the head (m): close to the
#: hammer's centre of mass so the head does not pitch the handle inside the fingers.
GRASP_ALONG_HANDLE = 0.03
#: Head-to-block tolerances of the success test (RoboTwin: within 2 cm in xy and touching).
XY_TOL = 0.02
CONTACT_FORCE_N = 0.05


@register_robotwin_task("beat_block_hammer", max_steps=400)
class BeatBlockHammerEnv(DualArmTableEnv):
    """Grasp the hammer by its handle and strike the block's top with the hammer's head.

    Description:
        A hammer (wooden handle, steel head across its end) lies flat on the table in front of one arm; a red
        block stands further away on the same side. The arm on that side picks the hammer up by the handle,
        carries the head above the block and brings it down onto the block.
    Randomizations:
        - the side (left / right arm) is drawn per episode;
        - the hammer's position x in [-0.16, -0.08], |y| in [0.12, 0.26] and its yaw within +-0.35 rad of
          pointing away from the robots;
        - the block's position x in [0.04, 0.16], |y| in [0.05, 0.30] on the same side, at least 10 cm clear of
          the hammer's head; its yaw is uniform.
    Success:
        - the head's centre is within 2 cm of the block's centre in xy (``head_over_block``);
        - the hammer touches the block (``hammer_touches_block``, a contact force > 0.05 N).
    """

    INSTRUCTIONS_SEEN = (
        "Pick up the hammer with the {arm} arm and beat the block.",
        "Use the hammer to hit the {color} block.",
        "Grab the hammer by its handle and strike the block on top.",
        "Hammer the {color} block using the {arm} gripper.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Take the hammer and knock it down onto the {color} cube.",
        "With the {arm} hand, lift the hammer and tap the block with its head.",
        "Bring the hammer's head down on the {color} block.",
    )

    geom = HammerGeom()
    block_half = 0.025

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.hammer = self.add_task_actor(build_hammer(self.scene, "hammer", self.geom))
        self.block = self.add_task_actor(build_block(
            self.scene, "block", BlockGeom((self.block_half,) * 3, 1200), (0.85, 0.15, 0.15), grip=False, park=ABOVE_TABLE))

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        self.side = 1.0 if rng.uniform() < 0.5 else -1.0  # +1: left arm (+y)
        hx, hy = rng.uniform(-0.16, -0.08), self.side * rng.uniform(0.12, 0.26)
        hyaw = rng.uniform(-0.35, 0.35)
        head = np.array([hx, hy]) + rot2(hyaw) @ self.geom.head_center[:2]
        for _ in range(100):  # rejection-sample the block clear of the head
            bx, by = rng.uniform(0.04, 0.16), self.side * rng.uniform(0.05, 0.30)
            if np.hypot(bx - head[0], by - head[1]) > 0.10:
                break
        byaw = rng.uniform(-np.pi, np.pi)
        place_actor(self.hammer, hx, hy, self.table_top_z, hyaw)
        place_actor(self.block, bx, by, self.table_top_z, byaw)

    def instruction_fields(self) -> dict[str, str]:
        return {"arm": "left" if self.side > 0 else "right", "color": "red"}

    # ------------------------------------------------------------------ success
    def head_position(self) -> torch.Tensor:
        """(N, 3) world position of the hammer head's centre."""
        hc = torch.as_tensor(self.geom.head_center, dtype=torch.float32, device=self.device)
        return self.hammer.pose.p + quat_apply(self.hammer.pose.q, hc)

    def evaluate(self) -> dict:
        head = self.head_position()
        block = self.block.pose.p
        # The block's origin is its bottom face; compare centres in xy only.
        over = torch.linalg.norm(head[:, :2] - block[:, :2], dim=1) <= XY_TOL
        force = torch.linalg.norm(self.scene.get_pairwise_contact_forces(self.hammer, self.block), dim=1)
        touching = force > CONTACT_FORCE_N
        return {"head_over_block": over, "hammer_touches_block": touching, "success": over & touching}

    # ------------------------------------------------------------------ expert
    def expert(self) -> Iterator[np.ndarray]:
        ex = DualArmExpert(self)
        arm = LEFT if self.side > 0 else RIGHT
        hammer = sp_pose(self.hammer.pose)
        block = sp_pose(self.block.pose)
        yaw = yaw_of(hammer.q)
        # Grasp the handle from above, fingers closing across it.
        grasp_local = np.array([GRASP_ALONG_HANDLE, 0.0, self.geom.handle_half_w])
        center = hammer.p + rot3(yaw) @ grasp_local
        yield from ex.pick_up(arm, [top_down_pose(center, yaw + s * np.pi / 2) for s in (1, -1)], hammer, 0.12)
        grasp = ex.last_grasp
        # Target: hammer translated (orientation kept) so the head's centre is above the block's centre and its
        # bottom face meets the block's top; the final descent presses 4 mm further to make firm contact.
        head_world = hammer.p + rot3(yaw) @ self.geom.head_center
        block_top = block.p[2] + 2 * self.block_half
        shift = np.array([block.p[0] - head_world[0], block.p[1] - head_world[1], block_top - hammer.p[2]])
        above = grasp.tcp_for_object_position(hammer.p + shift + [0, 0, 0.08])
        yield from ex.move_straight(arm, above)
        strike = grasp.tcp_for_object_position(hammer.p + shift + [0, 0, -0.004])
        yield from ex.move_straight(arm, strike, settle=10, allow_rrt=False)
        yield from ex.hold(20)

