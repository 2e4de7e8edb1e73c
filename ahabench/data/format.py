"""On-disk demo format: ManiSkill's trajectory layout, one HDF5 file plus a JSON sidecar per task.

Layout of ``<out>/<task>.h5`` (one group per kept episode, ``traj_<i>`` with ``i`` = the episode id)::

    traj_<i>/actions                 (T, A)      float32  absolute joint targets applied at steps 0..T-1
    traj_<i>/obs/qpos                (T+1, A)    float32  joint state observed before each action (+ the final one)
    traj_<i>/obs/images/<camera>     (F, H, W, 3) uint8   gzip; only the rendered steps (see frame_steps)
    traj_<i>/obs/frame_steps         (F,)        int64    the steps whose cameras were rendered: 0, k, 2k, ... <= T
    traj_<i>/success                 (T,)        bool     the task's success condition after each action

``A`` is the task's own action dimension (16 for the dual Panda, 8 for single-arm tasks); padding to
16-D happens in :mod:`ahabench.data.dataset`. Images are rendered only every ``frame_every`` steps
(default 4): training consumes frames on a 4-step grid (video frames every 32 steps, history frames every
64, the per-chunk observation is the newest rendered frame at or before each chunk start), so rendering
the other steps would only cost time.

``<out>/<task>.json`` mirrors ManiSkill's ``RecordEpisode`` sidecar, so its replay tooling can rebuild the
env from ``env_info`` and reset each episode from ``reset_kwargs`` and replay ``actions``::

    {"env_info": {"env_id", "env_kwargs", "max_episode_steps"}, "source_type": "motionplanning",
     "source_desc", "task", "setting", "control_mode", "frame_every", "camera_hw", "action_noise", "first_seed",
     "next_seed",
     "failed_seeds": [...],
     "episodes": [{"episode_id", "episode_seed", "reset_kwargs": {"seed", "options": {"setting", "unseen_instructions"}},
                   "control_mode", "elapsed_steps", "instruction", "setting", "success", "action_dim",
                   "wall_s"}]}

Crash safety: an episode's group is written and flushed completely before its entry is appended to the
JSON (which is replaced atomically), so the JSON is the source of truth. A group with no JSON entry is an
incomplete trailing episode and is deleted when the file is reopened for writing.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass
class EpisodeData:
    """One recorded expert episode, in memory."""

    seed: int
    instruction: str
    setting: str
    actions: np.ndarray  # (T, A) float32
    qpos: np.ndarray  # (T+1, A) float32
    images: dict[str, np.ndarray]  # camera -> (F, H, W, 3) uint8
    frame_steps: np.ndarray  # (F,) int64
    success: np.ndarray  # (T,) bool
    wall_s: float = 0.0

    @property
    def length(self) -> int:
        return int(self.actions.shape[0])

    @property
    def action_dim(self) -> int:
        return int(self.actions.shape[1])

    def validate(self) -> None:
        t, a = self.actions.shape
        if self.qpos.shape != (t + 1, a):
            raise ValueError(f"qpos shape {self.qpos.shape} does not match actions {self.actions.shape} (want {(t + 1, a)})")
        if self.success.shape != (t,):
            raise ValueError(f"success shape {self.success.shape}, want ({t},)")
        f = len(self.frame_steps)
        for cam, im in self.images.items():
            if im.dtype != np.uint8 or im.ndim != 4 or im.shape[0] != f or im.shape[-1] != 3:
                raise ValueError(f"camera {cam!r}: images {im.shape} {im.dtype}, want ({f}, H, W, 3) uint8")
        if f and (self.frame_steps[0] != 0 or self.frame_steps[-1] > t or np.any(np.diff(self.frame_steps) <= 0)):
            raise ValueError(f"frame_steps {self.frame_steps.tolist()} must start at 0, increase, and stay <= {t}")


def paths(out: Path, task: str) -> tuple[Path, Path]:
    """The HDF5 file and JSON sidecar of ``task`` under ``out``."""
    out = Path(out)
    return out / f"{task}.h5", out / f"{task}.json"


def load_meta(out: Path, task: str) -> dict[str, Any] | None:
    """The JSON sidecar of a task, or None when no demos were written yet."""
    _, js = paths(out, task)
    if not js.exists():
        return None
    return json.loads(js.read_text())


def _dump_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)  # atomic on POSIX: a crash leaves the old or the new file, never half of one


class DemoWriter:
    """Appends episodes to a task's demo file; reopening continues where the last run stopped."""

    def __init__(self, out: Path, task: str, header: dict[str, Any]):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.h5_path, self.json_path = paths(self.out, task)
        meta = load_meta(self.out, task)
        if meta is None:
            # A folder's seeds start at its header's first_seed (0 unless asked: a held-out set away from training)
            meta = {"format_version": FORMAT_VERSION, **header, "next_seed": int(header.get("first_seed", 0)),
                    "failed_seeds": [], "episodes": []}
        else:
            for key in ("setting", "frame_every"):
                if key in header and meta.get(key) != header[key]:
                    raise ValueError(f"{self.json_path}: existing demos have {key}={meta.get(key)!r}, asked for {header[key]!r}")
            if int(meta.get("first_seed", 0)) != int(header.get("first_seed", 0)):  # folders from before: 0
                raise ValueError(f"{self.json_path}: existing demos start at seed {meta.get('first_seed', 0)}, asked for "
                                 f"{header.get('first_seed', 0)}: collect into another folder")
            # Demos from before DART collection existed are clean (no noise key): one folder, one noise level.
            if float(meta.get("action_noise", 0.0)) != float(header.get("action_noise", 0.0)):
                raise ValueError(f"{self.json_path}: existing demos have action_noise={meta.get('action_noise', 0.0)!r}, "
                                 f"asked for {header.get('action_noise', 0.0)!r}: collect into another folder")
        self.meta = meta
        self._h5 = h5py.File(self.h5_path, "a")
        known = {f"traj_{e['episode_id']}" for e in meta["episodes"]}
        for name in list(self._h5.keys()):
            if name not in known:
                log.warning("%s: dropping incomplete episode group %s", self.h5_path, name)
                del self._h5[name]
        self._h5.flush()

    @property
    def n_episodes(self) -> int:
        return len(self.meta["episodes"])

    @property
    def next_seed(self) -> int:
        return int(self.meta["next_seed"])

    def record_failure(self, seed: int) -> None:
        """Remember a seed whose expert failed, so a resumed run does not try it again."""
        self.meta["failed_seeds"].append(int(seed))
        self.meta["next_seed"] = int(seed) + 1
        _dump_json_atomic(self.json_path, self.meta)

    def write(self, ep: EpisodeData) -> int:
        """Write one complete episode; returns its episode id."""
        ep.validate()
        eid = self.n_episodes
        g = self._h5.create_group(f"traj_{eid}")
        g.create_dataset("actions", data=ep.actions.astype(np.float32))
        g.create_dataset("success", data=ep.success.astype(bool))
        obs = g.create_group("obs")
        obs.create_dataset("qpos", data=ep.qpos.astype(np.float32))
        obs.create_dataset("frame_steps", data=np.asarray(ep.frame_steps, dtype=np.int64))
        imgs = obs.create_group("images")
        for cam, im in ep.images.items():
            # One chunk per frame: reading a single frame back decompresses only that frame.
            imgs.create_dataset(cam, data=im, compression="gzip", compression_opts=4, chunks=(1, *im.shape[1:]))
        self._h5.flush()
        self.meta["episodes"].append(
            {
                "episode_id": eid,
                "episode_seed": int(ep.seed),
                "reset_kwargs": {"seed": int(ep.seed), "options": {"setting": ep.setting, "unseen_instructions": False}},
                "control_mode": self.meta.get("control_mode", "pd_joint_pos"),
                "elapsed_steps": ep.length,
                "instruction": ep.instruction,
                "setting": ep.setting,
                "success": bool(ep.success.any()),
                "action_dim": ep.action_dim,
                "wall_s": round(float(ep.wall_s), 4),
            }
        )
        self.meta["next_seed"] = int(ep.seed) + 1
        _dump_json_atomic(self.json_path, self.meta)
        return eid

    def close(self) -> None:
        self._h5.close()

    def __enter__(self) -> DemoWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def read_episode(h5: h5py.File, entry: dict[str, Any]) -> EpisodeData:
    """Load one episode (all arrays) given its JSON entry."""
    g = h5[f"traj_{entry['episode_id']}"]
    return EpisodeData(
        seed=int(entry["episode_seed"]),
        instruction=str(entry["instruction"]),
        setting=str(entry["setting"]),
        actions=g["actions"][()],
        qpos=g["obs/qpos"][()],
        images={cam: g[f"obs/images/{cam}"][()] for cam in g["obs/images"].keys()},
        frame_steps=g["obs/frame_steps"][()],
        success=g["success"][()],
        wall_s=float(entry.get("wall_s", 0.0)),
    )


def iter_episodes(out: Path, task: str, limit: int | None = None) -> Iterator[EpisodeData]:
    """Episodes of one task in id order (only those recorded in the JSON sidecar)."""
    meta = load_meta(out, task)
    if meta is None:
        raise FileNotFoundError(f"no demos for task {task!r} under {out} (expected {paths(out, task)[1]})")
    h5_path, _ = paths(out, task)
    entries = meta["episodes"][: limit if limit is not None else None]
    with h5py.File(h5_path, "r") as h5:
        for entry in entries:
            yield read_episode(h5, entry)


def count_episodes(out: Path, task: str) -> int:
    meta = load_meta(out, task)
    return 0 if meta is None else len(meta["episodes"])
