"""``DualArmTableEnv``: the ManiSkill base environment every RoboTwin-like ahabench task derives from.

Two Franka Pandas stand side by side behind a 1.2 x 0.7 m table (top at 0.74 m, friction 0.5), facing it; the
left arm (index 0) is on the robots' left (+y). A task subclass writes only:

- ``_load_scene(options)``: call ``super()._load_scene(options)`` then build its objects (``self.build_box`` ...);
- ``_initialize_episode(env_idx, options)``: call ``super()._initialize_episode(env_idx, options)`` (robots,
  setting, instruction) then place its objects with ``self._episode_rng`` on ``self.table_top_z``;
- ``evaluate()``: named boolean conditions plus ``success`` (batched torch bools, as ManiSkill expects);
- ``INSTRUCTIONS_SEEN`` / ``INSTRUCTIONS_UNSEEN`` templates (``str.format`` fields from ``instruction_fields``);
- ``expert()``: the scripted expert, a generator of 16-D actions (see :mod:`ahabench.experts`).

Action: flat 16-D absolute ``pd_joint_pos`` targets [left 7 joints, left finger, right 7 joints, right finger];
control at 25 Hz over 250 Hz physics (RoboTwin's timestep).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import sapien
import torch
from mani_skill.envs.sapien_env import BaseEnv
from mani_skill.sensors.camera import CameraConfig
from mani_skill.utils import sapien_utils
from mani_skill.utils.structs.actor import Actor
from mani_skill.utils.structs.types import SimConfig

from ahabench.envs.robot import GRIPPER_OPEN, HAND_LINK, REST_QPOS, WRIST_CAMERA_POSE, AhaPanda  # registers the arm
from ahabench.envs.scene import LEFT_BASE, RIGHT_BASE, TABLE_HEIGHT, SettingDraw, TableScene, draw_setting

CONTROL_HZ = 25
SIM_HZ = 250
DEFAULT_CAMERA_HW = (64, 80)
#: Head camera: above and behind the robots, looking down at the table's centre.
HEAD_EYE = (-0.45, 0.0, 1.8)
HEAD_TARGET = (0.12, 0.0, TABLE_HEIGHT)
HEAD_FOVY = np.deg2rad(55)
WRIST_FOVY = np.deg2rad(75)
ARM_NAMES = ("left", "right")


def yaw_quat(yaw: float) -> list[float]:
    """Quaternion (wxyz) of a rotation by ``yaw`` about world z."""
    return [float(np.cos(yaw / 2)), 0.0, 0.0, float(np.sin(yaw / 2))]


class DualArmTableEnv(BaseEnv):
    """Base of the dual-arm table tasks (not registered itself)."""

    SUPPORTED_ROBOTS = [("ahabench_panda", "ahabench_panda")]
    SUPPORTED_REWARD_MODES = ["sparse", "none"]
    SUPPORTED_OBS_MODES = ["none", "state", "state_dict", "rgb", "sensor_data"]

    INSTRUCTIONS_SEEN: tuple[str, ...] = ()
    INSTRUCTIONS_UNSEEN: tuple[str, ...] = ()
    #: (x_min, x_max, y_min, y_max) of the table where randomized-setting distractors may stand; a task whose
    #: objects use the far strip overrides it.
    DISTRACTOR_REGION: tuple[float, float, float, float] = (0.2, 0.3, -0.5, 0.5)

    agent: Any

    def __init__(self, *args, camera_hw: tuple[int, int] = DEFAULT_CAMERA_HW,
                 robot_uids=("ahabench_panda", "ahabench_panda"), **kwargs):
        self.camera_hw = (int(camera_hw[0]), int(camera_hw[1]))
        self.setting = "clean"
        self.unseen_instructions = True
        self.instruction = ""
        self.setting_draw = SettingDraw()
        self.table_top_z = TABLE_HEIGHT
        super().__init__(*args, robot_uids=robot_uids, **kwargs)
        # ManiSkill exposes a dict action space for multi-robot agents; the harness wants one flat Box.
        lows, highs = [], []
        for arm in self.arms:
            space = arm.single_action_space
            lows.append(space.low)
            highs.append(space.high)
        self.single_action_space = gym.spaces.Box(np.concatenate(lows), np.concatenate(highs), dtype=np.float32)
        self.action_space = self.single_action_space

    # ------------------------------------------------------------------ configuration
    @property
    def _default_sim_config(self):
        # 250 Hz physics as in RoboTwin; 10 substeps per 25 Hz control step (measured ~200 control steps/s with
        # two arms and a few objects, fast enough for expert seed searches).
        return SimConfig(sim_freq=SIM_HZ, control_freq=CONTROL_HZ)

    @property
    def _default_sensor_configs(self):
        h, w = self.camera_hw
        cams = [CameraConfig("head", sapien_utils.look_at(HEAD_EYE, HEAD_TARGET), w, h, HEAD_FOVY, 0.01, 10)]
        for name, arm in zip(ARM_NAMES, self.arms):
            cams.append(CameraConfig(f"{name}_wrist", WRIST_CAMERA_POSE, w, h, WRIST_FOVY, 0.01, 10,
                                     mount=arm.robot.links_map[HAND_LINK]))
        return cams

    @property
    def _default_human_render_camera_configs(self):
        return CameraConfig("render_camera", sapien_utils.look_at(HEAD_EYE, HEAD_TARGET), 320, 256, HEAD_FOVY,
                            0.01, 10)

    def _load_agent(self, options: dict):
        poses = [sapien.Pose(p=LEFT_BASE.tolist()), sapien.Pose(p=RIGHT_BASE.tolist())]
        super()._load_agent(options, poses)

    def _load_lighting(self, options: dict):
        self.scene.set_ambient_light([0.35, 0.35, 0.35])
        self.scene.add_directional_light([0.5, 0.3, -1.0], [1.0, 1.0, 1.0])
        self.scene.add_directional_light([-0.3, -0.5, -1.0], [0.5, 0.5, 0.5])

    # ------------------------------------------------------------------ scene and episode
    def _load_scene(self, options: dict):
        self.table_scene = TableScene(self.scene)
        self._task_actors: list[Actor] = []

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        seed = int(self._episode_seed[0])
        self.setting = options.get("setting", "clean")
        self.unseen_instructions = bool(options.get("unseen_instructions", True))
        self.setting_draw = draw_setting(self.setting, seed, self.DISTRACTOR_REGION)
        self.table_scene.apply(self.setting_draw)
        self.table_top_z = self.table_scene.top_z
        rest = np.concatenate([REST_QPOS, [GRIPPER_OPEN, GRIPPER_OPEN]]).astype(np.float32)
        for arm, base in zip(self.arms, (LEFT_BASE, RIGHT_BASE)):
            arm.robot.set_pose(sapien.Pose(p=base.tolist()))
            arm.reset(torch.as_tensor(rest)[None])

    def reset(self, seed=None, options=None):
        obs, info = super().reset(seed=seed, options=options)
        templates = self.INSTRUCTIONS_UNSEEN if self.unseen_instructions else self.INSTRUCTIONS_SEEN
        if templates:
            rng = np.random.default_rng([int(self._episode_seed[0]), 104729])
            template = templates[int(rng.integers(len(templates)))]
            self.instruction = template.format(**self.instruction_fields())
        return obs, info

    def instruction_fields(self) -> dict[str, str]:
        """Values for the instruction templates' ``{fields}`` (e.g. colours chosen this episode)."""
        return {}

    def evaluate(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define evaluate()")

    def compute_sparse_reward(self, obs, action, info):
        return info["success"].float()

    def expert(self) -> Iterator[np.ndarray]:
        """The task's scripted expert (a generator of 16-D absolute actions); tasks override."""
        raise NotImplementedError(f"{type(self).__name__} has no scripted expert")

    # ------------------------------------------------------------------ helpers for task authors
    @property
    def arms(self) -> list[AhaPanda]:
        return list(self.agent.agents)

    def _step_action(self, action):
        # Accept the flat 16-D Box action (the harness's) by splitting it into ManiSkill's per-robot dict.
        if isinstance(action, (np.ndarray, torch.Tensor)) and action.shape[-1] == 16:
            a = torch.as_tensor(action, dtype=torch.float32, device=self.device)
            if a.ndim == 1:
                a = a[None]
            action = {uid: a[:, 8 * i: 8 * i + 8] for i, uid in enumerate(self.agent.agents_dict)}
        return super()._step_action(action)

    def qpos16(self) -> np.ndarray:
        """(16,) float32: per arm 7 joint positions and the finger opening (m), left arm first."""
        parts = []
        for arm in self.arms:
            q = arm.robot.get_qpos()[0].cpu().numpy()
            parts += [q[:7], q[7:8]]
        return np.concatenate(parts).astype(np.float32)

    def gripper_open(self, arm: int, threshold: float = 0.03) -> torch.Tensor:
        """Whether arm ``arm``'s fingers are (nearly) fully open (batched bool)."""
        return self.arms[arm].robot.get_qpos()[:, 7] > threshold

    def build_box(self, name: str, half_size, rgb, density: float = 500.0, kinematic: bool = False) -> Actor:
        """A dynamic box on the table (placed later by ``_initialize_episode``)."""
        b = self.scene.create_actor_builder()
        b.add_box_collision(half_size=half_size, density=density)
        b.add_box_visual(half_size=half_size, material=sapien.render.RenderMaterial(base_color=[*rgb, 1.0]))
        b.initial_pose = sapien.Pose(p=[0, 0, TABLE_HEIGHT + half_size[2] + 0.5])
        return self.add_task_actor(b.build_kinematic(name=name) if kinematic else b.build(name=name))

    def build_cylinder(self, name: str, radius: float, half_height: float, rgb, density: float = 500.0,
                       kinematic: bool = False) -> Actor:
        """A dynamic upright cylinder (axis along world z when its pose has no rotation)."""
        b = self.scene.create_actor_builder()
        up = sapien.Pose(q=[0.70710678, 0, 0.70710678, 0])  # SAPIEN cylinders lie along x
        b.add_cylinder_collision(pose=up, radius=radius, half_length=half_height, density=density)
        b.add_cylinder_visual(pose=up, radius=radius, half_length=half_height,
                              material=sapien.render.RenderMaterial(base_color=[*rgb, 1.0]))
        b.initial_pose = sapien.Pose(p=[0, 0, TABLE_HEIGHT + half_height + 0.5])
        return self.add_task_actor(b.build_kinematic(name=name) if kinematic else b.build(name=name))

    def add_task_actor(self, actor):
        """Record an actor (or articulation) as one of the task's objects (see :meth:`task_objects`)."""
        self._task_actors.append(actor)
        return actor

    def task_objects(self) -> list:
        """The task's own objects, in build order (``build_box``/``build_cylinder``/``add_task_actor``)."""
        return list(self._task_actors)

    def place_on_table(self, actor: Actor, x: float, y: float, half_height: float, yaw: float = 0.0) -> None:
        """Put ``actor`` at rest on the table top at (x, y) with the given yaw."""
        actor.set_pose(sapien.Pose(p=[x, y, self.table_top_z + half_height], q=yaw_quat(yaw)))
        if not actor.px_body_type == "kinematic" and not actor.px_body_type == "static":
            actor.set_linear_velocity(torch.zeros(3))
            actor.set_angular_velocity(torch.zeros(3))
