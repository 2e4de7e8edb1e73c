"""Plot of one episode's simulated-clock timeline: device lanes, action-queue level and held ticks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ahabench.clock.timeline import Timeline  # noqa: E402

_COLORS = {"prefill": "#e08a2c", "chunk": "#3b75af", "call": "#6a4fa3"}


def plot_timeline(tl: Timeline, path: Path, title: str = "", max_ms: float | None = None) -> Path:
    """Top: one lane per device with each job as a bar from start to end (ms); middle: the action queue
    after each tick; bottom: ticks that executed an action vs held. ``max_ms`` crops long episodes."""
    end_ms = tl.sim_time_us / 1000.0
    limit = min(end_ms, max_ms) if max_ms else end_ms
    fig, (ax_dev, ax_q, ax_h) = plt.subplots(3, 1, figsize=(9, 5), sharex=True,
                                             gridspec_kw={"height_ratios": [2, 2, 1]})
    devices = list(tl.devices) or sorted({j.device for j in tl.jobs})
    for lane, dev in enumerate(devices):
        for j in tl.jobs:
            if j.device != dev or j.start_us is None or j.end_us is None:
                continue
            s, e = j.start_us / 1000.0, j.end_us / 1000.0
            if s > limit:
                continue
            # Frozen mode charges no simulated time: draw a thin marker so the job is still visible.
            ax_dev.broken_barh([(s, max(e - s, limit / 500.0))], (lane - 0.35, 0.7),
                               color=_COLORS.get(j.call, "#888888"), edgecolor="white", linewidth=0.3)
    ax_dev.set_yticks(range(len(devices)), devices)
    ax_dev.invert_yaxis()  # gpu0 on top
    present = [c for c in _COLORS if any(j.call == c for j in tl.jobs)]
    handles = [plt.Rectangle((0, 0), 1, 1, color=_COLORS[c]) for c in present]
    ax_dev.legend(handles, present, fontsize=7, loc="upper right", ncols=max(1, len(present)))
    ax_dev.set_title(title or f"timeline ({tl.mode})")

    t_ms = [(tk.tick * tl.dt_us) / 1000.0 for tk in tl.ticks]
    ax_q.step(t_ms, [tk.queue_len for tk in tl.ticks], where="post", color="#2a8a4a")
    ax_q.set_ylabel("queued\nactions")
    held = [1 if tk.source is None else 0 for tk in tl.ticks]
    ax_h.bar(t_ms, held, width=tl.dt_us / 1000.0, align="edge", color="#c0392b", label="held")
    ax_h.set_yticks([])
    ax_h.set_ylabel("held")
    ax_h.set_xlabel("simulated time (ms)")
    ax_h.set_xlim(0, limit)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def timeline_from_json(data: dict[str, Any]) -> Timeline:
    return Timeline.from_dict(data)
