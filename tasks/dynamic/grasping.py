"""The pick half of the dynamic suite's pick-and-place experts: catch a (possibly moving) block from above.

:class:`GraspingExpert` tracks the block's predicted centre from above, descends while aligned, closes, and
hands over to the subclass's :meth:`GraspingExpert.carry_tick` once the block is held; a close on nothing opens,
rises and tries again. Its phase is read at every observation instant from the world and the applied joint
targets only (never from an earlier plan, whose ticks may not have run): gripper commanded closed for how
long, block held or not, task done or not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ahabench.envs.robot import GRIPPER_OPEN
from ahabench.tasks.dynamic.servo import DT, ReplanningExpert

if TYPE_CHECKING:
    from mani_skill.utils.structs.actor import Actor

    from ahabench.tasks.dynamic.moving_table import MovingTableEnv

#: Steps a close takes before the grasp is judged (the fingers travel 2 cm per side on a 4 cm block).
CLOSE_STEPS = 7
#: Hover height of the TCP above the grasp height while not aligned (m).
HOVER = 0.07
#: Horizontal alignment (m) of the commanded TCP with the block below which the gripper descends / closes.
ALIGNED = 0.006


class GraspingExpert(ReplanningExpert):
    """Pick a block; subclasses say where it is (:meth:`object_at`), how high to grasp (:meth:`grasp_z`), when
    the task is done (:meth:`done`) and what to do with the block once held (:meth:`carry_tick`).

    Phases: ``approach`` (align, descend, close), ``closing``, ``missed`` (open, rise), ``carry`` (subclass),
    ``done`` (open, rise).
    """

    def __init__(self, env: MovingTableEnv, block: Actor) -> None:
        super().__init__(env)
        self.block = block
        self.arm: int | None = None
        self.phase = "approach"
        self.count = 0

    # ------------------------------------------------------------------ task hooks
    def object_at(self, t: float) -> np.ndarray:
        """Predicted centre of the block at time ``t`` (s) while it is not held."""
        raise NotImplementedError

    def object_speed(self) -> float:
        """The block's speed now (m/s), for the servo's allowance to keep up with it."""
        return 0.0

    def grasp_z(self) -> float:
        raise NotImplementedError

    def choose_arm(self) -> int:
        """The arm that picks (called once, at the first observation)."""
        raise NotImplementedError

    def grasp_yaw(self) -> float:
        """The gripper's closing direction for the whole episode (default: along world y, a block's faces
        being aligned with the world axes)."""
        return self.closing_yaw(self.arm)

    def done(self) -> bool:
        """Whether the task is done as far as the expert is concerned (observed world and applied targets)."""
        raise NotImplementedError

    def observe_carry(self) -> None:
        """Read whatever the carry phase needs at an observation instant."""

    def carry_tick(self, tick: int, p_tcp: np.ndarray) -> None:
        raise NotImplementedError

    def done_tick(self, tick: int, p_tcp: np.ndarray) -> None:
        """Open and back off straight up."""
        self.set_gripper(self.arm, False)
        self.move(self.arm, np.array([p_tcp[0], p_tcp[1], self.env.table_top_z + 0.25]), self.yaw)

    # ------------------------------------------------------------------ ReplanningExpert
    def observe(self) -> None:
        env = self.env
        if self.arm is None:
            self.arm = self.choose_arm()
            self.yaw = self.grasp_yaw()
        arm = self.arm
        self.count = 0
        self.observe_carry()
        if self.done():
            self.phase = "done"
        elif env.closed_steps[arm] > 0:
            # Held: the fingers squeeze it, or its grasp point rides, lifted, with the real TCP.
            real = env.arms[arm].tcp.pose.p[0].cpu().numpy()
            grip = self.object_at(env.sim_time)
            held = bool(env.arms[arm].is_grasping(self.block)[0]) or (
                grip[2] > self.grasp_z() + 0.02 and np.linalg.norm(grip - real) < 0.04)
            if env.closed_steps[arm] < CLOSE_STEPS:
                self.phase, self.count = "closing", env.closed_steps[arm]
            else:
                self.phase = "carry" if held else "missed"
        else:
            self.phase = "approach"
            # Fingers still opening after a miss: stay at hover height until they are (about 5 ticks).
            opening = float(env.arms[arm].robot.get_qpos()[0, 7])
            self.count = 0 if opening > 0.9 * GRIPPER_OPEN else -5

    def plan_tick(self, tick: int) -> None:
        arm = self.arm
        p_tcp, _ = self.tcp(arm)
        if self.phase == "carry":
            self.carry_tick(tick, p_tcp)
            return
        if self.phase == "done":
            self.done_tick(tick, p_tcp)
            return
        gz = self.grasp_z()
        b = self.object_at(self.time_of(tick))
        if self.phase == "missed":
            z = gz + HOVER
            self.set_gripper(arm, False)
            self.count += 1
            if self.count >= 6:
                self.phase, self.count = "approach", -5
        elif self.phase == "closing":
            z = gz
            self.count += 1
            if self.count >= CLOSE_STEPS:
                self.phase = "carry"
        else:
            # Alignment of the commanded TCP with where it was aimed last tick (the block moves meanwhile);
            # the height goal rises with the misalignment, so the fingers only go down while aligned.
            err = float(np.linalg.norm(p_tcp[:2] - self.object_at(self.time_of(tick - 1))[:2]))
            z = gz + HOVER * float(np.clip((err - ALIGNED) / 0.03, 0.0, 1.0))
            self.set_gripper(arm, False)
            self.count += 1
            if self.count <= 0:
                z = gz + HOVER
            elif err < ALIGNED and p_tcp[2] - gz < 0.004:
                self.set_gripper(arm, True)
                self.phase, self.count = "closing", 1
        self.move(arm, np.array([b[0], b[1], z]), self.yaw, extra_lin=self.object_speed() * DT * 1.5)
