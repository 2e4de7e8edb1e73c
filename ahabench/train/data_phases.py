"""Which demos a campaign trained on, and from which step: the data phases recorded in a checkpoint.

A long campaign may change its data part-way (for example: clean demos first, then clean plus DART demos
once closed-loop evaluation shows compounding error). A continued run must then keep the normalisation the
network was trained with, and the checkpoint must say which folders fed which steps, or the model card's
reproduce commands would describe another model. Each phase is ``{"data": [folders], "from_step": int,
"action_noise": {folder: std}}``; folders are recorded as given on the command line (never resolved: no
machine path in a checkpoint).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ahabench.policies.wam.checkpoint import CONFIG, read_config, read_stats
from ahabench.policies.wam.normalize import NormStats


def as_folders(data: Path | str | Sequence[Path | str] | None, default: Path) -> list[Path]:
    """``--data`` as a list of folders (``default`` when none is given); duplicates are an error."""
    if data is None:
        return [Path(default)]
    folders = [Path(data)] if isinstance(data, (str, Path)) else [Path(d) for d in data]
    if not folders:
        return [Path(default)]
    seen = [str(f) for f in folders]
    dup = next((f for f in seen if seen.count(f) > 1), None)
    if dup is not None:
        raise ValueError(f"demo folder {dup!r} given twice")
    return folders


def folder_episodes(folder: Path, tasks: Sequence[str], max_episodes: int | None) -> int:
    """Demos per task a run takes from ``folder`` (the fewest over ``tasks``, capped by ``max_episodes``)."""
    from ahabench.data.format import count_episodes

    n = min(count_episodes(Path(folder), t) for t in tasks)
    return n if max_episodes is None else min(n, max_episodes)


def folder_noise(folder: Path, tasks: Sequence[str]) -> float:
    """The DART noise the folder's demos were collected with (0.0: clean), read from its first task's meta."""
    from ahabench.data.format import load_meta

    for task in tasks:
        meta = load_meta(Path(folder), task)
        if meta is not None:
            return float(meta.get("action_noise", 0.0))
    return 0.0


def previous_checkpoint(out: Path, continue_from: Path | None) -> Path | None:
    """The checkpoint a resumed or continued run goes on from (None for a fresh run)."""
    if continue_from is not None:
        return Path(continue_from)
    latest = Path(out) / "wam" / "checkpoint"
    return latest if (latest / CONFIG).exists() else None


def resumed_stats(previous: Path | None, recorded: list[str]) -> NormStats | None:
    """The normalisation a run that changes its demos must keep: the previous checkpoint's (None: compute it
    from the demos, as a fresh run or a resume on the same demos does, which gives the same numbers unrounded)."""
    if previous is None or _last_data(read_config(previous)) == recorded:
        return None
    return read_stats(previous)


def _last_data(cfg: dict[str, Any]) -> list[str]:
    old = cfg.get("data_phases")
    if old:
        return list(old[-1]["data"])
    data = cfg.get("data")
    return data if isinstance(data, list) else [data]


def phases(previous: Path | None, recorded: list[str], noise: dict[str, float],
           episodes: dict[str, int], threads: int) -> list[dict[str, Any]]:
    """The data phases of this run: the previous checkpoint's, plus a new one when the data changed.

    ``noise`` and ``episodes`` (demos per task trained on) are keyed by the recorded folder; ``threads``: the
    torch threads this phase runs with (they decide the last bits of the weights)."""
    current = {"data": recorded, "from_step": 0, "action_noise": noise, "episodes": episodes, "threads": threads}
    if previous is None:
        return [current]
    cfg = read_config(previous)
    # checkpoints from before data phases: one phase, the folder they recorded
    old = cfg.get("data_phases") or [{"data": _last_data(cfg), "from_step": 0, "action_noise": {}}]
    if old[-1]["data"] == recorded:
        return old
    return [*old, {**current, "from_step": int(cfg.get("step", 0))}]


__all__ = ["as_folders", "folder_episodes", "folder_noise", "previous_checkpoint", "resumed_stats", "phases"]
