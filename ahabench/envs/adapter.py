"""The harness's view of a ManiSkill task: :class:`ManiSkillTaskEnv` implements ``TaskEnv``.

Rendering is lazy: the ManiSkill env runs with ``obs_mode="none"`` so :meth:`step` is physics only, and
:meth:`observe` renders the cameras on demand (counting ``frames_rendered``, per episode).

:func:`register_robotwin_task` is the decorator a dual-arm task class uses to register itself both with
ManiSkill/gymnasium (``ahabench/<ClassName without Env>-v1``) and with ahabench's task registry.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from ahabench.task_registry import SETTINGS, TaskEnv, TaskSpec, register_task
from ahabench.types import EpisodeInfo, Observation

logger = logging.getLogger(__name__)


def _np(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


class ManiSkillTaskEnv(TaskEnv):
    """``TaskEnv`` over one ManiSkill environment (single process, CPU physics).

    spec: the task's static description.
    camera_hw: (H, W) of every camera (default 64 x 80).
    render: False builds no renderer at all (expert seed searches); :meth:`observe` then raises.
    cameras: maps harness camera names to the env's sensor uids.
    camera_kwargs: env kwargs that set every camera to (H, W) (default: the dual-arm env's ``camera_hw``).
    settings: the settings this task supports.
    reconfigure_each_reset: rebuild the physics scene at every reset (~0.7 s). PhysX carries state across
        plain resets (measured: the same seed's episode ends in a slightly different state after other
        episodes, and ManiSkill's PlugCharger flips between success and failure), so without it an episode
        would depend on the episodes run before it in the process; rebuilt, it is a function of its seed.
    qpos_fn / expert_fn: how to read proprioception and build the expert from the unwrapped env (the
        dual-arm defaults are the env's own ``qpos16`` and ``expert``).
    """

    def __init__(self, spec: TaskSpec, camera_hw: tuple[int, int] = (64, 80), render: bool = True,
                 cameras: dict[str, str] | None = None, env_kwargs: dict | None = None,
                 camera_kwargs: Callable[[tuple[int, int]], dict] | None = None,
                 settings: tuple[str, ...] = SETTINGS, reconfigure_each_reset: bool = True,
                 qpos_fn: Callable[[Any], np.ndarray] | None = None,
                 expert_fn: Callable[[Any], Iterator[np.ndarray]] | None = None):
        self.spec = spec
        self.camera_hw = (int(camera_hw[0]), int(camera_hw[1]))
        self.render = render
        self.settings = settings
        self.reconfigure_each_reset = reconfigure_each_reset
        self.cameras = cameras or {"head": "head", "left_wrist": "left_wrist", "right_wrist": "right_wrist"}
        kwargs = dict(obs_mode="none", reward_mode="none", control_mode="pd_joint_pos",
                      render_backend="cpu" if render else "none")
        kwargs.update((camera_kwargs or (lambda hw: {"camera_hw": hw}))(self.camera_hw))
        kwargs.update(env_kwargs or {})
        self._env = gym.make(spec.env_id, **kwargs)
        self.env = self._env.unwrapped
        self._qpos_fn = qpos_fn or (lambda e: e.qpos16())
        self._expert_fn = expert_fn or (lambda e: e.expert())
        space = self.env.single_action_space
        if not isinstance(space, gym.spaces.Box) or space.shape != (spec.action_dim,):
            raise TypeError(f"{spec.name}: expected a flat Box action of size {spec.action_dim}, got {space}")
        self.action_low = np.asarray(space.low, dtype=np.float32).copy()
        self.action_high = np.asarray(space.high, dtype=np.float32).copy()
        self.frames_rendered = 0
        self._hold = np.zeros(spec.action_dim, dtype=np.float32)
        self._seed: int | None = None
        self.instruction = ""

    # ------------------------------------------------------------------ TaskEnv
    def reset(self, seed: int, setting: str = "clean", unseen_instructions: bool = True) -> EpisodeInfo:
        if setting not in self.settings:
            raise ValueError(f"{self.spec.name}: unsupported setting {setting!r}; expected one of {self.settings}")
        self.env.reset(seed=int(seed), options=dict(setting=setting, unseen_instructions=unseen_instructions,
                                                    reconfigure=self.reconfigure_each_reset))
        self._seed = int(seed)
        self.frames_rendered = 0
        self._hold = self._qpos_fn(self.env).astype(np.float32)
        self.instruction = getattr(self.env, "instruction", "") or self.spec.description
        return EpisodeInfo(task=self.spec.name, suite=self.spec.suite, instruction=self.instruction,
                           action_dim=self.spec.action_dim, control_hz=self.spec.control_hz,
                           max_steps=self.spec.max_steps, seed=int(seed), setting=setting,
                           extra=dict(cameras=list(self.cameras), camera_hw=list(self.camera_hw)))

    def render_images(self) -> dict[str, np.ndarray]:
        """Render every camera now: name -> (H, W, 3) uint8."""
        if not self.render:
            raise RuntimeError(f"{self.spec.name}: built with render=False, cannot render cameras")
        env = self.env
        for obj in getattr(env, "_hidden_objects", []):
            obj.hide_visual()  # goal markers etc. are for humans, never for the robot's cameras (as ManiSkill does)
        env.scene.update_render(update_sensors=True, update_human_render_cameras=False)
        sensors = env.scene.sensors
        for uid in self.cameras.values():
            sensors[uid].capture()
        images = {}
        for name, uid in self.cameras.items():
            rgb = sensors[uid].get_obs(rgb=True, depth=False, position=False, segmentation=False)["rgb"]
            images[name] = np.ascontiguousarray(_np(rgb)[0, ..., :3]).astype(np.uint8)
        self.frames_rendered += 1
        return images

    def observe(self, tick: int, time_us: int) -> Observation:
        images = self.render_images()
        return Observation(images=images, qpos=self._qpos_fn(self.env).astype(np.float32),
                           instruction=self.instruction, tick=int(tick), time_us=int(time_us))

    def step(self, action: np.ndarray) -> dict[str, bool]:
        a = np.asarray(action, dtype=np.float32).reshape(-1)
        if a.shape != (self.spec.action_dim,):
            raise ValueError(f"{self.spec.name}: action must have shape ({self.spec.action_dim},), got {a.shape}")
        self._hold = a.copy()
        _, _, _, _, info = self.env.step(a)
        return {k: bool(_np(v).reshape(-1)[0]) for k, v in info.items()
                if isinstance(v, (torch.Tensor, np.ndarray, bool)) and _np(v).dtype == bool}

    def hold_action(self) -> np.ndarray:
        return self._hold.copy()

    def expert(self) -> Iterator[np.ndarray]:
        from ahabench.experts.primitives import ExpertFailure

        try:
            for a in self._expert_fn(self.env):
                yield np.asarray(a, dtype=np.float32)
        except ExpertFailure as e:  # the expert gives up; the consumer holds
            logger.info("%s seed %s: expert gave up: %s", self.spec.name, self._seed, e)

    def evaluate(self) -> dict[str, bool]:
        """Current success conditions without stepping."""
        info = self.env.evaluate()
        return {k: bool(_np(v).reshape(-1)[0]) for k, v in info.items() if _np(v).dtype == bool}

    def close(self) -> None:
        self._env.close()


def env_id_for(cls: type) -> str:
    name = cls.__name__[:-3] if cls.__name__.endswith("Env") else cls.__name__
    return f"ahabench/{name}-v1"


def claim_gym_id(env_id: str) -> None:
    """Drop the lazy spec :mod:`ahabench.gym_hook` registered for ``env_id`` (if any): the real registration that
    follows then replaces it without gymnasium's "Overriding environment" warning. A real spec is left alone."""
    from ahabench.gym_hook import is_lazy

    if is_lazy(gym.registry.get(env_id)):
        del gym.registry[env_id]


def register_robotwin_task(name: str, max_steps: int, suite: str = "robotwin"):
    """Class decorator for a :class:`~ahabench.envs.base.DualArmTableEnv` task: registers the gymnasium env
    ``ahabench/<Name>-v1`` and the harness task ``name`` (16-D action, 25 Hz) in ``suite`` (the dual-Panda table
    suites: ``robotwin``, ``dynamic``). Env kwargs given to :func:`~ahabench.task_registry.make_task_env` as
    ``env_kwargs`` reach the env class (a dynamic task's motion level and speed)."""
    from mani_skill.utils.registration import register_env

    from ahabench.envs.base import CONTROL_HZ

    def deco(cls: type) -> type:
        env_id = env_id_for(cls)
        claim_gym_id(env_id)
        register_env(env_id, max_episode_steps=max_steps)(cls)
        doc = (cls.__doc__ or name).strip().splitlines()
        description = next((ln.strip() for ln in doc if ln.strip() and not ln.strip().endswith(":")), name)
        spec = TaskSpec(name=name, suite=suite, env_id=env_id, description=description, arms=2,
                        max_steps=max_steps, control_hz=float(CONTROL_HZ), action_dim=16)
        register_task(spec, functools.partial(ManiSkillTaskEnv, spec))
        cls.TASK_NAME = name
        return cls

    return deco
