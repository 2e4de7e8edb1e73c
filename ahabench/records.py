"""Typed result records: one :class:`EpisodeRecord` per evaluated episode.

These are what ``episodes.jsonl`` holds, one JSON object per line. Everything here is a function of
seeds, settings and the latency model alone (no wall-clock fields), so that two runs with the same
seeds under a ``profile`` or ``roofline`` latency model write byte-identical files.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class EpisodeRecord:
    task: str
    setting: str
    seed: int
    policy: str
    mode: str
    profile: str
    latency: str
    success_once: bool
    success_at_end: bool
    t_success_s: float | None
    sim_time_s: float
    ticks: int
    n_chunks: int
    n_prefills: int
    chunk_ms_mean: float | None
    chunk_ms_p50: float | None
    chunk_ms_p95: float | None
    chunk_ms_p99: float | None
    prefill_ms_mean: float | None
    prefill_ms_p50: float | None
    prefill_ms_p95: float | None
    chunk_hz: float | None
    achieved_chunk_rate: float | None
    reaction_ms_p50: float | None
    reaction_ms_p95: float | None
    stale_ratio: float
    hold_ratio: float
    context_age_ms_p50: float | None
    context_age_ms_max: float | None
    actions_produced: int
    actions_stale: int
    ticks_held: int
    frames_rendered: int
    frames_consumed: int
    error: str | None = None
    error_kind: str | None = None  # "crash" (the episode raised) or "bad_action" (NaN / out of range)
    instruction: str = ""
    reproducible: bool = True  # False under the ``measured`` latency model
    # motion quality of the executed joint targets (ahabench.engine.motion); None for records made before them
    jerk_rms: float | None = None
    path_length_rad: float | None = None
    idle_ratio: float | None = None
    joint_limit_ticks: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """One canonical JSON line: sorted keys, floats rounded to 6 decimals so files compare byte-for-byte."""
        return json.dumps(_round(asdict(self)), sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EpisodeRecord:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def _round(x: Any) -> Any:
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return None
        return round(x, 6)
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_round(v) for v in x]
    return x
