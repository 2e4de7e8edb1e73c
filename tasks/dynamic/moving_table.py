"""``MovingTableEnv``: the dual-Panda table of the ``robotwin`` suite with carriers that move on their own.

A task subclass builds its carriers in ``_load_scene`` and, in ``_initialize_episode``, makes each one's
trajectory with :meth:`MovingTableEnv.make_trajectory` (a function of the episode seed, ``level`` and ``speed``)
and registers it with :meth:`add_carrier`. The carriers are then driven before every physics substep from the
episode's own simulated time, so the world moves while the robot holds still, and identically whatever the
policy does.

The env also keeps what a closed-loop expert needs to re-plan from any observation instant: the last applied
16-D action (the robot's current joint targets) and, per arm, for how many control steps its gripper has been
commanded closed.
"""

from __future__ import annotations

import numpy as np
import torch

from ahabench.envs.base import CONTROL_HZ, SIM_HZ, DualArmTableEnv
from ahabench.envs.robot import GRIPPER_OPEN
from ahabench.tasks.dynamic.carriers import Carrier
from ahabench.tasks.dynamic.motion import LEVELS, Region, Trajectory

#: A finger target below this (m) counts as "commanded closed".
CLOSED_BELOW = 0.5 * GRIPPER_OPEN


class MovingTableEnv(DualArmTableEnv):
    """Base of the ``dynamic`` tasks (not registered itself).

    level: DOMINO motion level (1 constant velocity, 2 polynomial path, 3 chaotic).
    speed: multiplies the task's nominal carrier speed (``BASE_SPEED``, m/s).
    """

    #: Nominal carrier speed (m/s) at speed 1; tasks override.
    BASE_SPEED: float = 0.1
    #: Where carriers' centres may sway in x on levels 2-3 (y is the direction of travel).
    MOTION_REGION = Region(-0.08, 0.16, -0.6, 0.6)
    #: Randomized-setting distractors stand at the table's far edge, beyond every carrier's reach (a carrier's
    #: far edge stays below x = 0.24; the largest distractor reaches 4.5 cm from its centre).
    DISTRACTOR_REGION = (0.285, 0.3, -0.5, 0.5)

    def __init__(self, *args, level: int = 1, speed: float = 1.0, **kwargs) -> None:
        if int(level) not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
        if not float(speed) >= 0.0:
            raise ValueError(f"speed must be >= 0, got {speed!r}")
        self.level = int(level)
        self.speed = float(speed)
        self.carriers: list[Carrier] = []
        self._substeps = 0
        self.last_action = np.zeros(16, dtype=np.float32)
        self.closed_steps = [0, 0]
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------------ time and carriers
    @property
    def sim_time(self) -> float:
        """Simulated seconds since the episode's reset (physics substeps x the physics step)."""
        return self._substeps / SIM_HZ

    @property
    def control_step(self) -> int:
        """Control steps taken since reset (the observation instant an expert plans from)."""
        return self._substeps // (SIM_HZ // CONTROL_HZ)

    def episode_duration(self) -> float:
        """Seconds a trajectory must cover: the episode's step limit plus slack for prediction look-ahead."""
        return (self.spec_max_steps() + 40) / CONTROL_HZ

    def spec_max_steps(self) -> int:
        from ahabench.task_registry import task_spec

        return task_spec(self.TASK_NAME).max_steps

    def make_trajectory(self, start: tuple[float, float], heading: float) -> Trajectory:
        """This episode's trajectory for a carrier starting at ``start`` heading to +y (1) or -y (-1)."""
        return Trajectory(int(self._episode_seed[0]), self.level, self.speed, start, heading, self.BASE_SPEED,
                          self.MOTION_REGION, self.episode_duration(), 1.0 / SIM_HZ)

    def add_carrier(self, carrier: Carrier) -> Carrier:
        """Drive ``carrier`` from now on (and put it at its start pose)."""
        carrier.place(0.0)
        self.carriers.append(carrier)
        return carrier

    # ------------------------------------------------------------------ ManiSkill hooks
    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        super()._initialize_episode(env_idx, options)
        self.carriers = []
        self._substeps = 0
        self.closed_steps = [0, 0]
        self.last_action = self.qpos16()

    def _before_simulation_step(self) -> None:
        # Aim each carrier at where it must be at the end of this substep: PhysX moves it there with the
        # matching velocity, which is what friction carries objects with.
        t_next = (self._substeps + 1) / SIM_HZ
        for c in self.carriers:
            c.drive(t_next)

    def _after_simulation_step(self) -> None:
        self._substeps += 1

    def _step_action(self, action):
        # Remember the applied joint targets: an expert re-planning at an observation starts from them.
        if isinstance(action, (np.ndarray, torch.Tensor)) and action.shape[-1] == 16:
            a = np.asarray(action.cpu() if isinstance(action, torch.Tensor) else action, dtype=np.float32)
            self.last_action = a.reshape(-1, 16)[0].copy()
            for arm in (0, 1):
                closed = self.last_action[8 * arm + 7] < CLOSED_BELOW
                self.closed_steps[arm] = self.closed_steps[arm] + 1 if closed else 0
        return super()._step_action(action)
