"""Evaluation throughput: episodes per minute for one worker, two local workers and Ray on two CPUs.

The same run (policy, tasks, seeds) three times, each into a fresh directory, one after the other on this machine:
``--workers 1``, ``--workers 2`` and ``--executor ray --workers 2`` (a local Ray instance, its start-up included,
as a user would pay it). The records of the three are byte-identical (tests/test_ray.py); this times them.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ahabench.bench.machine import machine_info

logger = logging.getLogger(__name__)

THROUGHPUT_COLUMNS = ["executor", "workers", "episodes", "wall_s", "episodes_per_min", "x_one_worker"]
SETUPS = (("local", 1), ("local", 2), ("ray", 2))


def bench_throughput(out: Path | None, tasks: Sequence[str] = ("click_bell", "lift_pot", "beat_block_hammer"),
                     seeds: Sequence[int] = (100000, 100001, 100002, 100003), policy: str = "aha-wam") -> pd.DataFrame:
    """Episodes per minute of each of :data:`SETUPS` on ``tasks`` x ``seeds``; writes ``out/throughput.csv|json``."""
    from ahabench.api import eval_run

    root = Path(out) / "throughput_runs" if out is not None else Path("runs") / "throughput_runs"
    rows = []
    for executor, workers in SETUPS:
        run_dir = root / f"{executor}-{workers}"
        shutil.rmtree(run_dir, ignore_errors=True)
        t0 = time.perf_counter()
        res = eval_run(policy, list(tasks), len(seeds), seeds={t: list(seeds) for t in tasks}, workers=workers,
                       executor=executor, out=run_dir)
        wall = time.perf_counter() - t0
        rows.append(dict(executor=executor, workers=workers, episodes=len(res.records), wall_s=wall,
                         episodes_per_min=60.0 * len(res.records) / wall))
        logger.info("throughput %s x%d: %.1f episodes/min", executor, workers, rows[-1]["episodes_per_min"])
    for r in rows:
        r["x_one_worker"] = r["episodes_per_min"] / rows[0]["episodes_per_min"]
    df = pd.DataFrame(rows, columns=THROUGHPUT_COLUMNS)
    if out is not None:
        out = Path(out)
        df.to_csv(out / "throughput.csv", index=False, float_format="%.4g")
        doc = {"machine": machine_info(), "policy": policy, "tasks": list(tasks), "seeds": list(seeds),
               "rows": json.loads(df.to_json(orient="records"))}
        (out / "throughput.json").write_text(json.dumps(doc, indent=2))
    return df
