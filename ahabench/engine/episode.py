"""Run one episode of a policy on a task, on the simulated clock, and record it.

Glue between the pure clock core (ahabench.clock) and the real pieces: a :class:`TaskEnv` becomes the
clock's world (rendering only the observations a job consumes), a :class:`Policy` plus a latency model
become its job runner (the call really runs, timed with ``perf_counter`` for the ``measured`` model; its
simulated duration comes from the latency model). Policy and env exceptions propagate (the multi-episode
runner records them as crashes); a NaN or out-of-bounds action ends the episode as a failure with
``error_kind="bad_action"``.

``extra["action_digest"]`` fingerprints the episode's trajectory: a hash of every action the robot executed
(holds included), rounded to 1e-4. Two runs of a deterministic latency model agree on it exactly, so
``ahabench regress`` in exact mode sees a policy whose actions changed even where success did not.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ahabench.clock import Clock, ClockConfig, Timeline, episode_metrics
from ahabench.clock.config import MODES
from ahabench.engine.motion import motion_metrics
from ahabench.latency.base import CallRequest, LatencyModel
from ahabench.policy import BadActionError, Policy
from ahabench.records import EpisodeRecord
from ahabench.task_registry import TaskEnv

log = logging.getLogger(__name__)

# Absolute slack on action bounds, so float32 round-off at a joint limit is not a "bad action".
BOUNDS_ATOL = 1e-5
#: Decimals the executed actions are rounded to before they enter ``extra["action_digest"]``.
DIGEST_DECIMALS = 4


def check_action_chunk(chunk: Any, action_dim: int, low: np.ndarray | None, high: np.ndarray | None,
                       who: str = "policy") -> np.ndarray:
    """Return ``chunk`` as a (n, action_dim) float32 array, or raise :class:`BadActionError` naming the
    first bad value and its (row, dim) index."""
    try:
        a = np.asarray(chunk, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise BadActionError(f"{who} returned an action chunk that is not numeric: {e}") from e
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] != action_dim:
        raise BadActionError(f"{who} returned an action chunk of shape {a.shape}; want (n >= 1, {action_dim})")
    bad = ~np.isfinite(a)
    if bad.any():
        r, d = map(int, np.argwhere(bad)[0])
        raise BadActionError(f"{who} returned a non-finite action {a[r, d]!s} at chunk row {r}, dim {d}")
    for bound, name, out in ((low, "low", lambda x, b: x < b - BOUNDS_ATOL),
                             (high, "high", lambda x, b: x > b + BOUNDS_ATOL)):
        if bound is None:
            continue
        mask = out(a, bound)
        if mask.any():
            r, d = map(int, np.argwhere(mask)[0])
            raise BadActionError(f"{who} returned action {a[r, d]!s} at chunk row {r}, dim {d}, outside "
                                 f"the {name} bound {bound[d]!s}")
    return a


def _bound(value: Any, action_dim: int, name: str) -> np.ndarray | None:
    if value is None:
        return None
    b = np.broadcast_to(np.asarray(value, dtype=np.float32), (action_dim,)).copy()
    if np.isnan(b).any():
        raise ValueError(f"{name} has NaN entries: {b!r}")
    return b


class EnvWorld:
    """The clock's world over a TaskEnv: observe renders; apply steps (None: the env's hold action) and
    folds the executed action into :meth:`digest`."""

    def __init__(self, env: TaskEnv, dt_us: int) -> None:
        self.env = env
        self.dt_us = dt_us
        self._digest = hashlib.sha256()
        self.executed: list[np.ndarray] = []  # every tick's joint targets, for the motion metrics

    def observe(self, tick: int) -> Any:
        return self.env.observe(tick, tick * self.dt_us)

    def apply(self, tick: int, action: Any | None) -> Mapping[str, bool]:
        a = self.env.hold_action() if action is None else action
        self.executed.append(np.array(a, dtype=np.float32))
        # + 0.0 turns -0.0 into 0.0, so a sign of zero never changes the digest
        self._digest.update(np.round(np.asarray(a, dtype=np.float64), DIGEST_DECIMALS).ravel() + 0.0)
        return self.env.step(a)

    def digest(self) -> str:
        """16 hex digits over the executed actions so far, rounded to ``DIGEST_DECIMALS`` decimals."""
        return self._digest.hexdigest()[:16]


class PolicyRunner:
    """The clock's job runner: runs a policy call for real, then asks the latency model for its duration.

    Call indices count per call name within the episode, so jitter and measured timings are tied to
    (seed, call, index), never to what ran before in the same process.
    """

    def __init__(self, policy: Policy, latency: LatencyModel, seed: int, action_dim: int,
                 low: np.ndarray | None = None, high: np.ndarray | None = None) -> None:
        self.policy = policy
        self.latency = latency
        self.seed = seed
        self.action_dim = action_dim
        self.low, self.high = low, high
        self.counts: dict[str, int] = {}

    def run(self, call: str, obs: Any, context: Any, phase_offset: int | None) -> tuple[int, Any]:
        index = self.counts.get(call, 0)
        self.counts[call] = index + 1
        name = self.policy.spec.name
        t0 = time.perf_counter()
        if call == "prefill":
            result = self.policy.prefill(obs)
        else:
            result = self.policy.act(obs, context, 0 if phase_offset is None else phase_offset)
        wall_s = time.perf_counter() - t0
        if call != "prefill":
            result = check_action_chunk(result, self.action_dim, self.low, self.high,
                                        who=f"policy {name!r} ({call} #{index}, obs tick {obs.tick})")
        req = CallRequest(policy=name, call=call, index=index, seed=self.seed, wall_s=wall_s,
                          cost=lambda: self.policy.cost(call))
        return self.latency.duration_us(req), result


def run_episode(env: TaskEnv, policy: Policy, *, seed: int, setting: str, mode: str | None,
                latency: LatencyModel, two_devices: bool = False, stop_on_success: bool = True,
                record_timeline: bool = False, merge: str = "replace", action_low: Any = None,
                action_high: Any = None, task_args: dict[str, Any] | None = None) -> tuple[EpisodeRecord, Timeline | None]:
    """Run one episode; return its record and (if ``record_timeline``) the clock's timeline.

    mode: ``frozen``/``blocking``/``async``, or None for the policy's ``default_mode``; a mode the policy
    does not list in ``spec.modes`` raises ValueError. Action bounds: ``action_low``/``action_high`` if
    given, else the env's ``action_low``/``action_high`` attributes if it has them, else only NaN/inf
    and shape are checked. task_args: the env kwargs the task was built with (a dynamic task's level and speed),
    recorded in ``extra`` when given so that regress can tell runs of different motion apart.
    """
    spec = policy.spec
    mode = spec.default_mode if mode is None else mode
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choices: {', '.join(MODES)}")
    if mode not in spec.modes:
        raise ValueError(f"policy {spec.name!r} does not support mode {mode!r}; it supports: "
                         f"{', '.join(spec.modes)}")
    latency.check(spec.name, spec.calls, cost=policy.cost)
    if spec.privileged:
        policy.bind_env(env)  # only oracles (the scripted expert) ever see the simulator
    info = env.reset(seed, setting)
    policy.reset(info)
    rendered0 = getattr(env, "frames_rendered", 0)
    action_dim = info.action_dim
    low = _bound(action_low if action_low is not None else getattr(env, "action_low", None), action_dim,
                 "action_low")
    high = _bound(action_high if action_high is not None else getattr(env, "action_high", None), action_dim,
                  "action_high")
    cfg = ClockConfig.from_policy(spec, control_hz=info.control_hz, max_steps=info.max_steps, mode=mode,
                                  two_devices=two_devices, stop_on_success=stop_on_success, merge=merge)
    world = EnvWorld(env, cfg.dt_us)
    clock = Clock(cfg, world, PolicyRunner(policy, latency, seed, action_dim, low, high))
    error = error_kind = None
    try:
        timeline = clock.run()
    except BadActionError as e:
        timeline = clock.timeline  # what happened up to the bad chunk
        error, error_kind = str(e), "bad_action"
        log.warning("episode %s seed %d: %s", info.task, seed, e)
    m = episode_metrics(timeline)
    if error_kind is not None:  # a bad action fails the episode, whatever happened before it
        m.update(success_once=False, success_at_end=False, t_success_s=None)
    extra: dict[str, Any] = {"control_hz": info.control_hz, "max_steps": info.max_steps,
                             "latency_scale": latency.scale, "two_devices": two_devices,
                             "context_waits": len(timeline.waits), "action_digest": world.digest(),
                             # the model's settings, minus machine-specific paths (records must compare
                             # byte-for-byte across machines)
                             "latency_model": {k: v for k, v in latency.describe().items() if k != "source"}}
    if task_args:
        extra["task_args"] = dict(sorted(task_args.items()))
    record = EpisodeRecord(task=info.task, setting=setting, seed=seed, policy=spec.name, mode=mode,
                           profile=latency.name, latency=latency.kind, **m,
                           frames_rendered=getattr(env, "frames_rendered", 0) - rendered0, error=error,
                           error_kind=error_kind, instruction=info.instruction,
                           reproducible=latency.reproducible, extra=extra,
                           **motion_metrics(world.executed, cfg.dt_us / 1e6, low, high))
    return record, timeline if record_timeline else None
