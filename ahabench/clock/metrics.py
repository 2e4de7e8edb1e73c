"""Per-episode metrics as pure functions of a :class:`~ahabench.clock.timeline.Timeline` (docs/clock.md).

:func:`episode_metrics` returns exactly the :class:`~ahabench.records.EpisodeRecord` fields the clock
knows. Latency statistics cover completed jobs; for a synchronous policy its ``call`` counts as the chunk.
"""

from __future__ import annotations

from typing import Any

from ahabench.clock.timeline import Timeline
from ahabench.stats import mean, percentile  # pure Python: the clock stays free of numpy/torch/SAPIEN


def chunk_latencies_ms(tl: Timeline) -> list[float]:
    return [j.latency_us / 1000.0 for j in tl.jobs_of("chunk", "call") if j.latency_us is not None]


def prefill_latencies_ms(tl: Timeline) -> list[float]:
    return [j.latency_us / 1000.0 for j in tl.jobs_of("prefill") if j.latency_us is not None]


def reaction_ms(tl: Timeline) -> list[float]:
    """Per executed chunk: from its observation's capture to the first tick executing one of its actions."""
    return [(j.first_exec_tick - j.obs_tick) * tl.dt_us / 1000.0 for j in tl.jobs_of("chunk", "call")
            if j.first_exec_tick is not None]


def context_ages_ms(tl: Timeline) -> list[float]:
    return [j.context_age_us / 1000.0 for j in tl.jobs_of("chunk") if j.context_age_us is not None]


def first_success_tick(tl: Timeline) -> int | None:
    return next((t.tick for t in tl.ticks if t.success), None)


def episode_metrics(tl: Timeline) -> dict[str, Any]:
    """Every EpisodeRecord field that follows from the timeline alone."""
    chunks = chunk_latencies_ms(tl)
    prefills = prefill_latencies_ms(tl)
    react = reaction_ms(tl)
    ages = context_ages_ms(tl)
    sim_s = tl.sim_time_us / 1e6
    produced = sum(a.n_actions for a in tl.arrivals)
    stale = sum(a.stale for a in tl.arrivals)
    held = sum(1 for t in tl.ticks if t.source is None)
    first = first_success_tick(tl)
    chunk_mean = mean(chunks)
    return {
        "success_once": first is not None,
        "success_at_end": bool(tl.ticks and tl.ticks[-1].success),
        # The success is observed after the step of its tick, i.e. at the end of that control period.
        "t_success_s": None if first is None else (first + 1) * tl.dt_us / 1e6,
        "sim_time_s": sim_s,
        "ticks": tl.n_ticks,
        "n_chunks": len(tl.jobs_of("chunk", "call")),
        "n_prefills": len(tl.jobs_of("prefill")),
        "chunk_ms_mean": chunk_mean,
        "chunk_ms_p50": percentile(chunks, 50),
        "chunk_ms_p95": percentile(chunks, 95),
        "chunk_ms_p99": percentile(chunks, 99),
        "prefill_ms_mean": mean(prefills),
        "prefill_ms_p50": percentile(prefills, 50),
        "prefill_ms_p95": percentile(prefills, 95),
        # The paper's Hz: 1000 / mean chunk-update latency (prefill excluded: it is off the critical path).
        "chunk_hz": None if not chunk_mean else 1000.0 / chunk_mean,
        "achieved_chunk_rate": len(tl.jobs_of("chunk", "call")) / sim_s if sim_s > 0 else None,
        "reaction_ms_p50": percentile(react, 50),
        "reaction_ms_p95": percentile(react, 95),
        "stale_ratio": stale / produced if produced else 0.0,
        "hold_ratio": held / tl.n_ticks if tl.n_ticks else 0.0,
        "context_age_ms_p50": percentile(ages, 50),
        "context_age_ms_max": max(ages) if ages else None,
        "actions_produced": produced,
        "actions_stale": stale,
        "ticks_held": held,
        "frames_consumed": len({j.obs_tick for j in tl.jobs if j.start_us is not None}),
    }
