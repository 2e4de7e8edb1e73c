"""ManiSkill's Panda tasks (PickCube, StackCube, ...) as ahabench tasks, with their motion-planning experts.

Each task is ManiSkill's own env class with one change: the arm is ahabench's Panda (decimated visual meshes,
absolute finger targets in metres, a camera on the hand link), built in place of ManiSkill's ``panda`` while
``robot_uids`` stays ``"panda"`` so the task's table scene still places the robot as it expects. Action and
qpos are 8-D: 7 joint targets + 1 finger target (m); cameras "head" (the task's ``base_camera``) and
"right_wrist" (the hand camera). Only the ``clean`` setting exists for this suite.

Experts. PickCube, StackCube, PushCube and PullCube use ManiSkill's solutions
(``mani_skill.examples.motionplanning.panda.solutions``). They run closed-loop inside an env (they call
``env.reset(seed)`` and ``env.step`` themselves), so they do not fit a generator directly: we *record* them. At the
expert's first pull the solution runs on the task's own env from the episode's seed (its gripper commands, +1 open
/ -1 closed, mapped to finger targets), then the env is reset to the same seed and the recorded actions are
yielded. Both the solution's own reset and the reset before the replay rebuild the scene (``reconfigure=True``),
as the harness's reset does. A plain reset keeps PhysX state, so the replay drifted off the recording: that alone
failed PlugCharger on seeds such as 0 and 9. With the rebuild, CPU physics is deterministic and the replay
reproduces the run exactly. So the expert must be started right after ``reset``, as the harness does.

LiftPegUpright, PegInsertionSide and PlugCharger use our own experts (``tasks/maniskill/experts.py``). ManiSkill's
solutions plan these insertions open-loop from the grasp-time pose. The object then slips in the fingers and
the loaded arm sags a few mm, so the peg or plug jams at the hole. The lift solution often fails to plan, or its
recording runs past the episode limit. Measured: 88 / 72 / 40 % over seeds 0-99. Our experts are closed-loop at
plan time: each stage is re-aimed from the measured object pose. They also plan, check and retry: candidate plans
are recorded from the seed's initial state, checked with the task's own success, and the first one that succeeds
within the step limit is replayed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
from mani_skill.utils.registration import register_env

from ahabench.envs.adapter import ManiSkillTaskEnv, claim_gym_id
from ahabench.envs.robot import AhaPandaWrist
from ahabench.task_registry import TaskSpec, register_task
from ahabench.tasks.maniskill import SUITE
from ahabench.tasks.maniskill.experts import CANDIDATES, RecordingEnv, checked_expert, reset_rebuilt

logger = logging.getLogger(__name__)

CONTROL_HZ = 20.0  # ManiSkill's default control rate for these tasks
#: name -> (module, env class, solution function, episode limit in actions, description), for each task of
#: ``SUITE`` (which orders them). Limits leave the
#: recorded expert (typically 60-160 actions at 20 Hz) ample room.
MANISKILL_TASKS: dict[str, tuple[str, str, str, int, str]] = {
    "PickCube": ("mani_skill.envs.tasks.tabletop.pick_cube", "PickCubeEnv", "solvePickCube", 200,
                 "Pick up the red cube and move it to the green goal position."),
    "StackCube": ("mani_skill.envs.tasks.tabletop.stack_cube", "StackCubeEnv", "solveStackCube", 250,
                  "Pick up the red cube and stack it on the green cube."),
    "PushCube": ("mani_skill.envs.tasks.tabletop.push_cube", "PushCubeEnv", "solvePushCube", 150,
                 "Push the cube into the goal region in front of it."),
    "PullCube": ("mani_skill.envs.tasks.tabletop.pull_cube", "PullCubeEnv", "solvePullCube", 150,
                 "Pull the cube back into the goal region behind it."),
    "LiftPegUpright": ("mani_skill.envs.tasks.tabletop.lift_peg_upright", "LiftPegUprightEnv",
                       "solveLiftPegUpright", 250, "Lift the peg lying on the table and stand it upright."),
    "PegInsertionSide": ("mani_skill.envs.tasks.tabletop.peg_insertion_side", "PegInsertionSideEnv",
                         "solvePegInsertionSide", 400, "Pick up the peg and insert it sideways into the hole of the box."),
    "PlugCharger": ("mani_skill.envs.tasks.tabletop.plug_charger", "PlugChargerEnv", "solvePlugCharger", 400,
                    "Pick up the charger and plug it into the receptacle on the wall."),
}


class SingleArmPandaMixin:
    """Builds :class:`AhaPandaWrist` where a ManiSkill task would build its ``panda``."""

    def _load_agent(self, options: dict, *args: Any, **kwargs: Any):
        uids, self.robot_uids = self.robot_uids, AhaPandaWrist
        try:
            super()._load_agent(options, *args, **kwargs)
        finally:
            self.robot_uids = uids


def qpos8(env) -> np.ndarray:
    q = env.agent.robot.get_qpos()[0].cpu().numpy()
    return np.concatenate([q[:7], q[7:8]]).astype(np.float32)


def recorded_solution(solution_name: str, env) -> Iterator[np.ndarray]:
    """Generator over a ManiSkill solution's recorded actions for the env's current episode seed."""
    from mani_skill.examples.motionplanning.panda import solutions

    from ahabench.experts.primitives import ExpertFailure

    solve = getattr(solutions, solution_name)
    seed = int(env._episode_seed[0])
    rec = RecordingEnv(env)
    try:
        result = solve(rec, seed=seed, debug=False, vis=False)
    finally:
        reset_rebuilt(env, seed)  # back to the episode's exact initial state for the replay
    if isinstance(result, int) and result == -1:
        raise ExpertFailure(f"{type(env).__name__} seed {seed}: ManiSkill solution failed to plan")
    yield from rec.actions


def register_maniskill_tasks() -> None:
    import importlib

    for name in SUITE:
        module, cls_name, solution, max_steps, description = MANISKILL_TASKS[name]
        base = getattr(importlib.import_module(module), cls_name)
        cls = type(f"Aha{cls_name}", (SingleArmPandaMixin, base), {"__doc__": base.__doc__})
        env_id = f"ahabench/ms-{name}-v1"
        claim_gym_id(env_id)
        register_env(env_id, max_episode_steps=max_steps)(cls)
        spec = TaskSpec(name=name, suite="maniskill", env_id=env_id, description=description, arms=1,
                        max_steps=max_steps, control_hz=CONTROL_HZ, action_dim=8)
        expert = (functools.partial(checked_expert, name, max_steps) if name in CANDIDATES
                  else functools.partial(recorded_solution, solution))
        register_task(spec, functools.partial(
            ManiSkillTaskEnv, spec, cameras={"head": "base_camera", "right_wrist": "hand_camera"},
            camera_kwargs=lambda hw: {"sensor_configs": {"width": hw[1], "height": hw[0]}},
            settings=("clean",), qpos_fn=qpos8, expert_fn=expert))


register_maniskill_tasks()  # the seven tasks register when this module is imported (entry points)
