"""Open-loop action error on recorded demos: the offline check that comes before a closed-loop evaluation.

At anchors every ``stride`` steps of each demo, the policy is given what a robot would have had at that
step (the recorded camera images, the joint state and the instruction) and returns one chunk, which is
compared with the expert's next actions. No simulator runs and no clock is involved: this measures what
the model learned, not how it copes with latency or with its own mistakes.

Beside the policy, a reference that needs no model is scored on the same anchors: *hold*, which repeats
the current joint position for the whole chunk. A policy whose chunks are further from the expert's than
holding still has not learned to track its own proprioception, and will not succeed in closed loop.

Errors are mean absolute errors over the executed part of each chunk (``execute_len`` actions, fewer at
the end of a demo): arm joints in radians, grippers apart (in the gripper's own target unit, metres of
finger opening for the Panda). ``first_mae_rad`` is the joint error of the chunk's first action alone, the
action executed right after the observation: a large one means the output is off before it moves at all.

Planner policies are refreshed at every anchor (``prefill`` then ``act`` at phase 0), in demo order, so a
policy with planner memory builds it as it would at run time when ``stride`` equals its refresh period in
ticks (32 for aha-wam: 2 chunks of 16).
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ahabench.clock.config import dt_us_for
from ahabench.data.format import EpisodeData, iter_episodes
from ahabench.policy import Policy
from ahabench.policy_registry import make_policy
from ahabench.rundir import OVERALL
from ahabench.task_registry import task_spec
from ahabench.types import EpisodeInfo, Observation

log = logging.getLogger(__name__)

#: Per arm: 7 joints then 1 gripper (the dual Panda is two such blocks, left arm first).
ARM_BLOCK = 8


@dataclass
class OpenLoopRow:
    """Errors of one task (or ``overall``, pooled over every anchor of every task)."""

    task: str
    episodes: int
    anchors: int
    mae_rad: float  # policy, arm joints, executed part of the chunk
    first_mae_rad: float  # policy, arm joints, first action only
    hold_mae_rad: float  # hold-the-current-position reference, same actions
    gripper_mae: float  # policy, grippers
    hold_gripper_mae: float

    @property
    def vs_hold(self) -> float:
        """Policy error / hold error: below 1 the policy predicts the expert better than standing still."""
        return self.mae_rad / self.hold_mae_rad if self.hold_mae_rad > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["vs_hold"] = round(self.vs_hold, 4)
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in d.items()}


def joint_mask(dim: int) -> np.ndarray:
    """(dim,) bool: True on arm joints, False on gripper dimensions."""
    if dim % ARM_BLOCK:
        raise ValueError(f"action dim {dim} is not a whole number of {ARM_BLOCK}-D arms")
    return (np.arange(dim) % ARM_BLOCK) != ARM_BLOCK - 1


def _observation(ep: EpisodeData, frame: int, control_hz: float) -> Observation:
    tick = int(ep.frame_steps[frame])
    return Observation(images={cam: ims[frame] for cam, ims in ep.images.items()}, qpos=ep.qpos[tick].astype(np.float32),
                       instruction=ep.instruction, tick=tick, time_us=tick * dt_us_for(control_hz))  # as the engine stamps it


def _chunk(policy: Policy, obs: Observation) -> np.ndarray:
    if policy.spec.has_planner:
        return np.asarray(policy.act(obs, policy.prefill(obs), 0))
    return np.asarray(policy.act(obs))


def episode_errors(policy: Policy, task: str, ep: EpisodeData, stride: int) -> np.ndarray:
    """Per-anchor errors of one demo: (N, 5) = joint MAE, first-action joint MAE, hold joint MAE, gripper
    MAE, hold gripper MAE."""
    spec = task_spec(task)
    policy.reset(EpisodeInfo(task=task, suite=spec.suite, instruction=ep.instruction, action_dim=ep.action_dim,
                             control_hz=spec.control_hz, max_steps=spec.max_steps, seed=int(ep.seed), setting=ep.setting))
    joints = joint_mask(ep.action_dim)
    n_exec = policy.spec.execute_len
    rows = []
    for f, tick in enumerate(ep.frame_steps):
        if tick % stride or tick >= ep.length:
            continue
        pred = _chunk(policy, _observation(ep, f, spec.control_hz))
        if pred.ndim != 2 or pred.shape[1] != ep.action_dim:
            raise ValueError(f"{policy.spec.name} returned a chunk of shape {pred.shape}; expected (n, {ep.action_dim})")
        target = ep.actions[tick : tick + n_exec]  # (n, A) the expert's next actions
        n = min(len(target), len(pred))
        err = np.abs(pred[:n] - target[:n])  # (n, A)
        hold = np.abs(ep.qpos[tick][None] - target[:n])
        rows.append((err[:, joints].mean(), err[0, joints].mean(), hold[:, joints].mean(),
                     err[:, ~joints].mean(), hold[:, ~joints].mean()))
    return np.asarray(rows, np.float64).reshape(-1, 5)


def _row(task: str, episodes: int, errs: np.ndarray) -> OpenLoopRow:
    m = errs.mean(0) if len(errs) else np.full(5, np.nan)
    return OpenLoopRow(task, episodes, len(errs), *map(float, m))


def open_loop(
    policy: str | Policy,
    data: Path,
    tasks: Sequence[str],
    episodes: int | None = None,
    skip: int = 0,
    stride: int = 32,
    policy_kwargs: dict[str, Any] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[OpenLoopRow]:
    """Score ``policy`` on the demos of ``tasks`` under ``data``: one row per task, then ``overall``.

    skip / episodes: leave out each task's first ``skip`` demos (e.g. the ones it was trained on), then use
    at most ``episodes``. stride: anchor spacing in control steps (a multiple of the demos' frame_every).
    progress(task, done, total) is called after each demo.
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1 control step, got {stride}")
    if skip < 0:
        raise ValueError(f"skip must be >= 0, got {skip}")
    pol = make_policy(policy, **(policy_kwargs or {})) if isinstance(policy, str) else policy
    if pol.spec.privileged:
        raise ValueError(f"policy {pol.spec.name!r} reads simulator state; open-loop scoring replays recorded demos only")
    rows, pooled = [], []
    limit = None if episodes is None else skip + episodes
    for task in tasks:
        eps = list(iter_episodes(Path(data), task, limit))[skip:]
        if not eps:
            raise ValueError(f"no demos of {task!r} under {data} after skipping {skip}")
        errs = []
        for i, ep in enumerate(eps):
            errs.append(episode_errors(pol, task, ep, stride))
            if progress is not None:
                progress(task, i + 1, len(eps))
        e = np.concatenate(errs)
        if not len(e):
            raise ValueError(f"stride {stride} leaves no anchor on the rendered steps of {task!r}'s demos")
        rows.append(_row(task, len(eps), e))
        pooled.append(e)
        log.info("open loop %s: %s", task, rows[-1].to_dict())
    rows.append(_row(OVERALL, sum(r.episodes for r in rows), np.concatenate(pooled)))
    return rows


def write_open_loop(rows: list[OpenLoopRow], out: Path, meta: dict[str, Any]) -> tuple[Path, Path]:
    """``out/openloop.csv`` (one line per row) and ``out/openloop.json`` (rows + how they were made)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dicts = [r.to_dict() for r in rows]
    csv_path, json_path = out / "openloop.csv", out / "openloop.json"
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(dicts[0]))
        w.writeheader()
        w.writerows(dicts)
    json_path.write_text(json.dumps({"meta": meta, "rows": dicts}, indent=2) + "\n")
    return csv_path, json_path
