"""Our own scripted experts for the maniskill suite's hard tasks: LiftPegUpright, PegInsertionSide, PlugCharger.

Why not ManiSkill's solutions? Measured over seeds 0-99 on ahabench's Panda, once a replay bug was fixed in
``suite.py`` (the recording and the replay must both start from a rebuilt scene), the solutions still fail:

* PlugCharger / PegInsertionSide plan the whole insertion from the object's pose at grasp time, as if the grasp
  were rigid and the arm exact. But the object turns in the fingers while it is carried (up to 0.2 rad for the
  charger), and the loaded PD arm rests 2-6 mm below its target. So the plug jams 17 mm short of the receptacle
  (0.5 mm clearance), or the peg hits the box face below the hole (3 mm clearance). The peg's final insert move
  even drops the corrections made at pre-insert.
* LiftPegUpright's screw motions often fail to plan, or the recorded run is longer than the 250-step limit.

The experts here are *closed-loop at plan time* and *plan-check-and-retry*:

1. Each stage's hand target comes from the **measured** object pose (privileged sim state): the object's
   remaining error ``target * obj.inv()`` shifts the last *commanded* hand pose (:meth:`Arm.place`). Insertions
   re-aim at 5 cm and again just before contact, then push in short re-aimed steps. LiftPegUpright pinches the
   peg near one end, lets it swing, then tilts the hand by the measured lean and sets the peg down at the
   measured height.
2. The expert records a candidate plan in simulation from the episode's exact initial state, checking the
   task's own success at every step. If the candidate fails, or needs more actions than the episode allows, it
   resets to the seed and tries the next candidate: another grasp angle, grasp offset, grasped end or grip
   force (:data:`CANDIDATES`). The first successful recording (cut at its first success) is replayed. This is
   like RoboTwin's expert checking a plan before executing it. Candidates are a fixed list and screw planning is
   deterministic, so the expert is a deterministic function of the seed. If no candidate succeeds, the first
   one is replayed anyway.

Motions use ManiSkill's ``PandaArmMotionPlanningSolver`` (mplib screw plans) on the recording env.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import sapien
from transforms3d.axangles import axangle2mat
from transforms3d.euler import euler2quat
from transforms3d.quaternions import mat2quat

from ahabench.envs.robot import GRIPPER_CLOSED, GRIPPER_OPEN

logger = logging.getLogger(__name__)


def finger_target(g: float) -> float:
    """ManiSkill solutions' gripper command (+1 open, -1 closed, normalised) -> finger target in metres."""
    return GRIPPER_CLOSED + (float(np.clip(g, -1, 1)) + 1) / 2 * (GRIPPER_OPEN - GRIPPER_CLOSED)


def reset_rebuilt(env, seed: int):
    """Reset to ``seed`` with the scene rebuilt, as the harness's reset does: a plain reset carries PhysX state
    over from the previous episode, so a recording made after it would not replay identically."""
    return env.reset(seed=seed, options=dict(reconfigure=True))


class RecordingEnv:
    """What a motion planner sees as its env: steps the real env (gripper command converted) and records
    the actions and the first step at which the task reported success."""

    def __init__(self, env):
        self._env = env
        self.actions: list[np.ndarray] = []
        self.first_success: int | None = None  # number of actions up to and including the first success

    @property
    def unwrapped(self):
        return self._env

    def reset(self, *args, **kwargs):
        # Rebuilt, so the recording starts from exactly the state the replay will start from.
        options = dict(kwargs.pop("options", None) or {}, reconfigure=True)
        self.actions.clear()
        self.first_success = None
        return self._env.reset(*args, options=options, **kwargs)

    def step(self, action):
        a = np.asarray(action, dtype=np.float32).reshape(-1).copy()
        a[7] = finger_target(a[7])
        self.actions.append(a)
        out = self._env.step(a)
        if self.first_success is None and bool(np.asarray(out[4]["success"]).reshape(-1)[0]):
            self.first_success = len(self.actions)
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)


class PlanFailed(Exception):
    """A screw motion could not be planned: this candidate is abandoned."""


def _sp(pose) -> sapien.Pose:
    """A ManiSkill batched Pose (one env) or a sapien.Pose -> sapien.Pose."""
    return pose.sp if hasattr(pose, "sp") else pose


class Arm:
    """A thin layer over ManiSkill's Panda motion-planning solver: screw moves that raise :class:`PlanFailed`
    (a failed correction under 5 mm is skipped instead), and moves that place a grasped object at a target
    pose from its measured pose."""

    def __init__(self, rec: RecordingEnv, vel: float = 0.75):
        from mani_skill.examples.motionplanning.panda.motionplanner import PandaArmMotionPlanningSolver

        self.env = rec.unwrapped
        self.planner = PandaArmMotionPlanningSolver(
            rec, debug=False, vis=False, base_pose=self.env.agent.robot.pose, visualize_target_grasp_pose=False,
            print_env_info=False, joint_vel_limits=vel, joint_acc_limits=vel)
        self.cmd: sapien.Pose = self.tcp  # the TCP pose last commanded (the arm rests a little below it)
        self.cmd_q = self.env.agent.robot.get_qpos()[0, :7].cpu().numpy()  # ... and its joint target

    @property
    def tcp(self) -> sapien.Pose:
        return _sp(self.env.agent.tcp.pose)

    def move(self, pose: sapien.Pose, settle: int = 0) -> None:
        """Screw motion of the TCP to ``pose`` (world), then ``settle`` extra steps holding the last target."""
        try:
            plan = self.planner.move_to_pose_with_screw(pose, dry_run=True)
        except RuntimeError:  # mplib's time parameterisation fails on some tiny corrections
            plan = -1
        if isinstance(plan, int):
            if np.linalg.norm(pose.p - self.cmd.p) > 0.005:
                raise PlanFailed(f"screw plan to p={np.round(pose.p, 3)} failed")
            plan = {"position": np.zeros((0, 7))}  # a small correction: skip it, the next one re-aims
            pose = self.cmd
        if len(plan["position"]) == 0:  # already there: hold the current joints for the settle steps
            plan = {"position": self.cmd_q[None]}
        self.planner.follow_path(plan, refine_steps=settle)
        self.cmd, self.cmd_q = pose, np.asarray(plan["position"][-1])

    def hold(self, steps: int = 1) -> None:
        """Keep commanding the last joint target (and gripper) for ``steps`` control steps."""
        self.planner.follow_path({"position": self.cmd_q[None]}, refine_steps=steps - 1)

    def place(self, obj: sapien.Pose, target: sapien.Pose, settle: int = 3) -> None:
        """Move the hand so the grasped object (measured now at ``obj``) lands at ``target``.

        The correction ``target * obj.inv()`` is applied to the last *commanded* hand pose, not the measured
        one: the PD arm sags under the load by a steady few mm, so aiming from the measured pose would keep
        that error forever, while shifting the command by the remaining error cancels it (integral action).
        """
        self.move(target * obj.inv() * self.cmd, settle)

    def close(self, state: float = -1.0, steps: int = 8) -> None:
        self.planner.close_gripper(t=steps, gripper_state=state)

    def open(self, steps: int = 6) -> None:
        self.planner.open_gripper(t=steps)


def _top_grasp(center: np.ndarray, closing: np.ndarray, tcp: sapien.Pose) -> sapien.Pose:
    """Top-down grasp at ``center`` closing along the horizontal ``closing``, signed like the current hand's
    closing axis so the wrist does not turn half a revolution."""
    from mani_skill.agents.robots.panda.panda import Panda

    closing = np.array([closing[0], closing[1], 0.0])
    closing /= np.linalg.norm(closing)
    if closing @ tcp.to_transformation_matrix()[:3, 1] < 0:
        closing = -closing
    return Panda.build_grasp_pose(np.array([0.0, 0.0, -1.0]), closing, np.asarray(center, dtype=float))


# ------------------------------------------------------------------------------------------- PlugCharger
def solve_plug_charger(rec: RecordingEnv, seed: int, grasp_deg: float = 15.0, fine: bool = False) -> None:
    """Grasp the charger's base (tilted ``grasp_deg`` about the closing axis so the fingers clear the wall),
    lift, then align and insert in stages, each re-aimed from the charger's measured pose."""
    rec.reset(seed=seed)
    env = rec.unwrapped
    arm = Arm(rec, vel=0.6)
    base = _sp(env.charger_base_pose)
    rot = base.to_transformation_matrix()[:3, :3]
    # Close across the base's shorter horizontal side (its local y; local x points at the plug).
    grasp = _top_grasp(base.p, rot[:, 1], arm.tcp) * sapien.Pose(q=euler2quat(0, np.deg2rad(grasp_deg), 0))
    arm.move(grasp * sapien.Pose([0, 0, -0.05]))
    arm.move(grasp)
    arm.close()
    arm.move(sapien.Pose([0, 0, 0.05]) * arm.tcp)  # off the table before swinging towards the wall
    goal = _sp(env.goal_pose)
    # The plug's pins (16 mm) touch the receptacle at d = -0.016 and fit with 0.5 mm of clearance: re-aim at
    # 5 cm and again just before contact (a long move under load lands mm off), then push in short steps.
    # ``fine`` instead re-aims before contact until the measured error is under the clearance (up to 6 times):
    # it rescues seeds where 3 re-aims leave ~1 mm, but it loses others (it is a later candidate).
    for _ in range(3):
        arm.place(_sp(env.charger.pose), goal * sapien.Pose([-0.05, 0, 0]), settle=5)
    pre = goal * sapien.Pose([-0.02, 0, 0])
    for _ in range(6 if fine else 3):
        arm.place(_sp(env.charger.pose), pre, settle=10 if fine else 5)
        err = pre.inv() * _sp(env.charger.pose)
        if fine and np.abs(err.p).max() < 3e-4 and 2 * np.arccos(min(1.0, abs(err.q[0]))) < 0.005:
            break
    for d in (-0.01, -0.004, 0.0, 0.003):  # re-measured each time: the charger slips in the fingers
        arm.place(_sp(env.charger.pose), goal * sapien.Pose([d, 0, 0]), settle=5)


# -------------------------------------------------------------------------------------- PegInsertionSide
def solve_peg_insertion(rec: RecordingEnv, seed: int, grasp_frac: float = 0.5) -> None:
    """Grasp the peg from above, ``grasp_frac`` of its half length behind its centre (the head points along
    the peg's +x), lift, then align with the hole and push in, each stage re-aimed from the measured peg."""
    rec.reset(seed=seed)
    env = rec.unwrapped
    arm = Arm(rec)
    half = float(env.peg_half_sizes[0, 0])
    peg = _sp(env.peg.pose)
    rot = peg.to_transformation_matrix()[:3, :3]
    center = (peg * sapien.Pose([-grasp_frac * half, 0, 0])).p
    grasp = _top_grasp(center, rot[:, 1], arm.tcp)
    arm.move(grasp * sapien.Pose([0, 0, -0.05]))
    arm.move(grasp)
    arm.close()
    arm.move(sapien.Pose([0, 0, 0.08]) * arm.tcp)
    goal = _sp(env.goal_pose)  # the peg's pose with its head at the box centre; the hole's mouth is `half` before
    # Re-aimed at 5 cm and again at 8 mm before the mouth (a 5 cm move under load lands ~4 mm low, more than
    # the 3 mm clearance), then pushed in a short step and the rest of the way.
    for d, repeats in ((-half - 0.05, 3), (-half - 0.008, 3), (-half + 0.015, 1), (0.01, 1)):
        for _ in range(repeats):
            arm.place(_sp(env.peg.pose), goal * sapien.Pose([d, 0, 0]))


# ---------------------------------------------------------------------------------------- LiftPegUpright
def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation (3x3) taking unit vector ``a`` to unit vector ``b``."""
    axis = np.cross(a, b)
    if np.linalg.norm(axis) < 1e-8:
        return np.eye(3)
    return axangle2mat(axis / np.linalg.norm(axis), float(np.arccos(np.clip(a @ b, -1.0, 1.0))))


def _wait_still(arm: Arm, peg, max_steps: int = 30) -> None:
    """Hold the arm until the peg stops swinging (measured, so the wait is as long as this seed needs)."""
    for _ in range(max_steps):
        if float(peg.angular_velocity[0].norm()) < 0.1:
            return
        arm.hold()


def solve_lift_peg(rec: RecordingEnv, seed: int, end: float = 1.0, grasp_off: float = 0.10,
                   squeeze: float = -0.6) -> None:
    """Pinch the lying peg from above ``grasp_off`` from its centre towards its ``end`` (+1: the +x end) with
    a light grip (``squeeze``: the solutions' normalised gripper command), lift it so it swings about the
    pinch axis, tilt the hand until the peg hangs upright, lower it until it stands on the table, let go.

    Turning the hand instead (a rigid grasp) needs the hand horizontal at the arm's reach limit, which
    rarely plans; letting gravity swing the peg, the hand only tilts by the angle at which the peg comes to
    lean on the fingers (measured, ~0.6 rad).
    """
    rec.reset(seed=seed)
    env = rec.unwrapped
    arm = Arm(rec, vel=1.0)  # faster than the insertions: five long moves must fit in 250 actions
    peg = _sp(env.peg.pose)
    axis = peg.to_transformation_matrix()[:3, 0]  # the peg's long axis (lying: horizontal)
    grasp = _top_grasp(peg.p + end * grasp_off * axis, np.array([-axis[1], axis[0], 0.0]), arm.tcp)
    arm.move(grasp * sapien.Pose([0, 0, -0.05]))
    arm.move(grasp)
    arm.close(state=squeeze)
    half = float(env.peg_half_length)
    # Hanging, the peg reaches half + grasp_off below the pinch: lift so its lower end clears the table.
    arm.move(sapien.Pose([0, 0, 2 * half + 0.03 - arm.tcp.p[2]]) * arm.tcp, settle=5)
    for _ in range(2):  # the peg swings until it leans on the fingers (~0.6 rad off vertical): tilt the hand
        _wait_still(arm, env.peg)
        peg = _sp(env.peg.pose)
        hang = peg.to_transformation_matrix()[:3, 0]
        hang = hang if (peg.p - arm.tcp.p) @ hang > 0 else -hang  # from the pinch towards the free end
        rot = _rotation_between(hang, np.array([0.0, 0.0, -1.0])) @ arm.cmd.to_transformation_matrix()[:3, :3]
        arm.move(sapien.Pose(arm.cmd.p, mat2quat(rot)), settle=3)  # about the pinch point: the peg turns with it
    _wait_still(arm, env.peg)
    for clearance in (0.02, 0.002):  # lower in two steps: fast to near the table, then set it down
        drop = float(env.peg.pose.p[0, 2]) - (half + clearance)
        arm.move(sapien.Pose([0, 0, -drop]) * arm.cmd, settle=3)
    arm.open()


#: task -> (solver, candidate keyword sets, in the order they are tried).
CANDIDATES: dict[str, tuple[Callable[..., None], list[dict[str, Any]]]] = {
    "PlugCharger": (solve_plug_charger, [dict(grasp_deg=a, fine=f) for f in (False, True)
                                         for a in (15.0, 5.0, 25.0, 0.0, 10.0, 20.0)]),
    "PegInsertionSide": (solve_peg_insertion, [dict(grasp_frac=f) for f in (0.5, 0.3, 0.7, 0.15, 0.6)]),
    "LiftPegUpright": (solve_lift_peg, [dict(end=e, grasp_off=o, squeeze=g) for g, o in
                                        ((-0.6, 0.10), (-0.4, 0.10), (-0.8, 0.09)) for e in (1.0, -1.0)]),
}


def checked_expert(task: str, max_steps: int, env) -> Iterator[np.ndarray]:
    """Generator over the first candidate plan that succeeds within ``max_steps`` actions for the env's
    episode seed (recorded in simulation from the seed's rebuilt initial state, then replayed)."""
    solver, candidates = CANDIDATES[task]
    seed = int(env._episode_seed[0])
    rec = RecordingEnv(env)
    chosen: list[np.ndarray] | None = None
    for i, kwargs in enumerate(candidates):
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the planner prints its failures
                solver(rec, seed, **kwargs)
        except PlanFailed as e:
            logger.debug("%s seed %d candidate %s: %s", task, seed, kwargs, e)
        done = rec.first_success
        if done is not None and done <= max_steps:
            chosen = rec.actions[:done]  # the episode ends at the first success
            logger.debug("%s seed %d: candidate %d %s succeeds in %d actions", task, seed, i, kwargs, done)
            break
        if i == 0:
            first = list(rec.actions)
    else:
        logger.warning("%s seed %d: no candidate plan succeeded; replaying the first", task, seed)
        chosen = first
    reset_rebuilt(env, seed)  # back to the episode's exact initial state for the replay
    yield from chosen
