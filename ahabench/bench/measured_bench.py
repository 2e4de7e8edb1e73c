"""``measured``-mode benchmark: the WAM policies run through the clock with this machine's real call latencies.

Where :mod:`ahabench.bench.models_bench` times each model component in isolation, this runs whole episodes with
``latency="measured"`` (every call charged its own ``time.perf_counter`` duration, see
:mod:`ahabench.latency.measured`), all policies in one process one after another, same task, same seeds, same size,
and reports what each policy's calls cost on the clock: aha-wam's chunk call vs fast-wam's call (and aha-wam's
planner prefill), with the chunk rate this machine would give a robot. Machine-dependent by nature: the records
are flagged ``reproducible=False`` and the output carries the machine description.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ahabench.bench.machine import machine_info

logger = logging.getLogger(__name__)

MEASURED_COLUMNS = ["policy", "mode", "task", "episodes", "successes", "chunk_ms_mean", "chunk_hz", "prefill_ms_mean",
                    "hold_ratio", "stale_ratio", "reaction_ms_p50"]


def bench_measured_eval(out: Path | None, task: str = "click_bell", policies: Sequence[str] = ("aha-wam", "fast-wam"),
                        seeds: Sequence[int] = (100000,), imports: Sequence[str] = ()) -> pd.DataFrame:
    """Evaluate ``policies`` on ``task`` at ``seeds`` with measured latency, in-process (one worker, one torch
    thread); write ``out/measured_eval.csv|json`` (plus the run dirs under ``out/measured_runs``)."""
    from ahabench.api import compare, load_run
    from ahabench.rundir import summarize_group

    if len(policies) < 2:
        raise ValueError(f"the measured benchmark compares at least two policies, got {list(policies)!r}")
    root = Path(out) / "measured_runs" if out is not None else None
    res = compare(list(policies), [task], len(seeds), seeds={task: list(seeds)}, out=root, resume=False,
                  latency="measured", workers=1, imports=tuple(imports))
    rows = []
    for r in res.rows:
        if r.task != task:
            continue
        s = summarize_group(r.task, load_run(res.runs[r.policy])[1])
        rows.append(dict(policy=r.policy, mode=r.mode, task=task, episodes=r.episodes, successes=r.successes,
                         chunk_ms_mean=r.chunk_ms_mean, chunk_hz=r.chunk_hz, prefill_ms_mean=s.prefill_ms_mean,
                         hold_ratio=s.hold_ratio, stale_ratio=s.stale_ratio, reaction_ms_p50=s.reaction_ms_p50))
    df = pd.DataFrame(rows, columns=MEASURED_COLUMNS)
    if out is not None:
        out = Path(out)
        df.to_csv(out / "measured_eval.csv", index=False, float_format="%.4g")
        doc = {"machine": machine_info(), "latency": "measured", "task": task, "seeds": list(seeds),
               "rows": json.loads(df.to_json(orient="records"))}
        (out / "measured_eval.json").write_text(json.dumps(doc, indent=2))
    logger.info("measured eval: %s", df[["policy", "chunk_ms_mean", "prefill_ms_mean"]].to_dict(orient="records"))
    return df
