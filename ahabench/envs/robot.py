"""The arm of ahabench's dual-arm embodiment: ManiSkill's Franka Panda with decimated visuals and one controller.

Each arm takes 8 absolute targets: 7 joint positions (rad) and 1 finger position (m, per finger, in
[GRIPPER_CLOSED, GRIPPER_OPEN]); proprioception reports the same units, so "hold still" is simply "command the
current reading". Two of these arms make the 16-D action of :class:`ahabench.envs.base.DualArmTableEnv`.
"""

from __future__ import annotations

from copy import deepcopy

import numpy as np
import sapien
from mani_skill import PACKAGE_ASSET_DIR
from mani_skill.agents.controllers import PDJointPosControllerConfig, PDJointPosMimicControllerConfig
from mani_skill.agents.registration import register_agent
from mani_skill.agents.robots.panda.panda import Panda

from ahabench.envs.meshes import decimated_panda_urdf

#: Finger target that closes firmly: below the physical minimum (0) so thin objects still feel a squeeze.
GRIPPER_CLOSED = -0.01
#: Finger target when fully open (per finger, m): 8 cm between the pads.
GRIPPER_OPEN = 0.04
#: Rest configuration: hand above the table, fingers pointing down.
REST_QPOS = np.array([0.0, np.pi / 8, 0.0, -np.pi * 5 / 8, 0.0, np.pi * 3 / 4, np.pi / 4], dtype=np.float32)

#: The undecimated description, for the motion planner (mplib 0.1.1 needs relative mesh paths; the collision
#: meshes are identical to the simulated robot's).
PLANNER_URDF = f"{PACKAGE_ASSET_DIR}/robots/panda/panda_v2.urdf"
PLANNER_SRDF = f"{PACKAGE_ASSET_DIR}/robots/panda/panda_v2.srdf"

#: Wrist camera pose in the ``panda_hand`` frame: between the fingers' base, looking along the fingers
#: (SAPIEN cameras look along +x; this rotation maps camera x to the hand's approach axis z).
WRIST_CAMERA_POSE = sapien.Pose(p=[0.05, -0.02, 0.04], q=[0.0, 0.70710678, 0.0, 0.70710678])
HAND_LINK = "panda_hand"
TCP_LINK = "panda_hand_tcp"


@register_agent()
class AhaPanda(Panda):
    """Panda arm with decimated visual meshes and a single absolute joint-position controller."""

    uid = "ahabench_panda"
    # ``urdf_path`` stays ManiSkill's original (planners, e.g. ManiSkill's motion-planning solutions, read it and
    # mplib 0.1.1 cannot load the decimated copy's absolute mesh paths); only the simulator loads the copy.
    urdf_path = PLANNER_URDF

    def _load_articulation(self, initial_pose=None):
        # Decimate lazily (first build, then cached on disk), not at import time: importing must stay cheap.
        self.urdf_path = decimated_panda_urdf()
        try:
            super()._load_articulation(initial_pose)
        finally:
            self.urdf_path = PLANNER_URDF

    @property
    def _controller_configs(self):
        arm = PDJointPosControllerConfig(
            self.arm_joint_names,
            lower=None,
            upper=None,
            stiffness=self.arm_stiffness,
            damping=self.arm_damping,
            force_limit=self.arm_force_limit,
            normalize_action=False,
        )
        # Absolute finger targets in metres (not ManiSkill's normalised [-1, 1]) so action and qpos share units.
        gripper = PDJointPosMimicControllerConfig(
            self.gripper_joint_names,
            lower=GRIPPER_CLOSED,
            upper=GRIPPER_OPEN,
            stiffness=self.gripper_stiffness,
            damping=self.gripper_damping,
            force_limit=self.gripper_force_limit,
            normalize_action=False,
            mimic={"panda_finger_joint2": {"joint": "panda_finger_joint1"}},
        )
        return deepcopy(dict(pd_joint_pos=dict(arm=arm, gripper=gripper)))


class AhaPandaWrist(AhaPanda):
    """Single-arm variant with a camera on the hand link (``hand_camera``), for the ManiSkill suite.

    Not registered: the ManiSkill tasks keep their default ``robot_uids`` (their scene builders key the robot's
    start pose on it) and build this class in its place (see ``tasks/maniskill``). Its ``uid`` is ManiSkill's
    wrist-camera Panda's, which it stands in for: tasks such as PlugCharger pick the start pose their scripted
    solution expects by checking ``agent.uid``.
    """

    uid = "panda_wristcam"
    wrist_fovy = float(np.deg2rad(75))

    @property
    def _sensor_configs(self):
        from mani_skill.sensors.camera import CameraConfig

        return [CameraConfig(uid="hand_camera", pose=WRIST_CAMERA_POSE, width=80, height=64, fov=self.wrist_fovy,
                             near=0.01, far=10, entity_uid=HAND_LINK)]
