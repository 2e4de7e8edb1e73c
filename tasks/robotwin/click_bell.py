"""click_bell: press the button of a desk bell with the arm on the bell's side of the table."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import sapien
import torch

from ahabench.envs.adapter import register_robotwin_task
from ahabench.envs.base import DualArmTableEnv, yaw_quat
from ahabench.envs.robot import GRIPPER_CLOSED
from ahabench.experts.primitives import LEFT, RIGHT, DualArmExpert, ExpertFailure, top_down_pose
from ahabench.tasks.robotwin.bell import BellGeom, build_bell
from ahabench.tasks.robotwin.motions import first_reachable, go_home, move_arm
from ahabench.tasks.robotwin.poses import closing_yaw_of

GEOM = BellGeom()
#: Where the bell may stand: the near two thirds of the table, both halves, clear of the distractor strip.
X_RANGE, Y_RANGE = (-0.15, 0.1), (-0.28, 0.28)
#: How far below the knob's resting top the closed fingertips are sent (the knob travels GEOM.rest_gap).
PRESS_BELOW_TOP = 0.010
#: Closed Panda fingertips reach this far below the TCP frame origin (measured on the URDF's finger meshes).
FINGERTIP_BELOW_TCP = 0.0095


@register_robotwin_task("click_bell", max_steps=400)
class ClickBellEnv(DualArmTableEnv):
    """
    Description:
        Press the button on top of the desk bell.
    Randomizations:
        The bell's position (x in [-0.15, 0.1], y in [-0.28, 0.28]) and yaw in [-pi, pi); the arm on the bell's
        side of the table (left arm for y >= 0) is the one expected to press it.
    Success:
        The bell's button has been pushed down at least 6 mm at some step of the episode (the click is latched:
        once rung, the episode counts as a success even after the button springs back).
    """

    INSTRUCTIONS_SEEN = (
        "Ring the bell.",
        "Press the button on the bell.",
        "Click the bell on the table.",
        "Use the {arm} arm to press the bell.",
    )
    INSTRUCTIONS_UNSEEN = (
        "Tap the top of the service bell.",
        "Push down on the bell's button once.",
        "Give the desk bell a ring with the {arm} hand.",
    )

    def _load_scene(self, options: dict):
        super()._load_scene(options)
        self.bell = self.add_task_actor(build_bell(self.scene, "bell", GEOM))
        self._button_joint = self.bell.active_joints[0]
        self._rung = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        rng = self._episode_rng
        x, y = rng.uniform(*X_RANGE), rng.uniform(*Y_RANGE)
        self.bell.set_pose(sapien.Pose([x, y, self.table_top_z], yaw_quat(rng.uniform(-np.pi, np.pi))))
        self.bell.set_qpos(torch.zeros((1, 1)))
        self.bell.set_qvel(torch.zeros((1, 1)))
        self._rung = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)

    def instruction_fields(self) -> dict[str, str]:
        return {"arm": "left" if float(self.bell.pose.p[0, 1]) >= 0 else "right"}

    def button_depth(self) -> torch.Tensor:
        """How far the button is pushed in (m, >= 0), batched."""
        return (-self.bell.get_qpos()[:, 0]).clamp(min=0.0)

    def evaluate(self) -> dict:
        pressed = self.button_depth() >= GEOM.press_depth
        # Latched: ManiSkill calls evaluate() once per control step, and the click only has to happen once.
        self._rung = self._rung | pressed
        return dict(button_pressed=pressed, rung=self._rung.clone(), success=self._rung.clone())

    def expert(self) -> Iterator[np.ndarray]:
        ex = DualArmExpert(self)
        p = self.bell.pose.p[0].cpu().numpy().astype(np.float64)
        arm = LEFT if p[1] >= 0 else RIGHT
        top = p[2] + GEOM.button_top
        press = np.array([p[0], p[1], top - PRESS_BELOW_TOP + FINGERTIP_BELOW_TCP])
        # A knob is round: any closing direction works; keep the wrist's own angle if it can.
        rest_yaw = closing_yaw_of(ex.tcp(arm))
        goals = [top_down_pose(press, rest_yaw + dyaw) for dyaw in (0.0, np.pi / 4, -np.pi / 4, np.pi / 2)]
        found = first_reachable(ex, arm, goals, sapien.Pose([0, 0, 0.06]))
        if found is None:
            raise ExpertFailure(f"arm {arm}: cannot reach above the bell at {np.round(p, 3)}")
        goal, path = found
        above = sapien.Pose([0, 0, 0.06]) * goal
        ex.g[arm] = GRIPPER_CLOSED  # close while travelling: closed fingers make a flat pad
        yield from ex.follow(arm, path)
        yield from ex.hold(ex.settle_steps)
        yield from move_arm(ex, arm, goal, settle=4)
        yield from move_arm(ex, arm, above)
        yield from go_home(ex, arm)
