"""What serving a policy costs: ``remote`` calls against the same policy in process, per call, on localhost.

A real ``ahabench serve`` process (127.0.0.1, a free port) serves each policy; this process holds a client
(``--policy remote``) and an in-process instance of the same policy, feeds both the same observation (three
cameras at the shipped size, the dual-arm proprioception) and times their calls alternately, so both see the same
machine load. The difference of the medians is the round trip: packing, the websocket, unpacking, on both sides.
"""

from __future__ import annotations

import json
import logging
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ahabench.bench.machine import machine_info

logger = logging.getLogger(__name__)

SERVE_COLUMNS = ["policy", "call", "calls", "local_ms_p50", "remote_ms_p50", "overhead_ms_p50", "remote_over_local",
                 "request_kb"]
#: Seconds the server process may take to print its URL (it loads torch and the checkpoint first).
START_TIMEOUT_S = 180.0


def bench_observation(tick: int = 0) -> Any:
    """A fixed observation at the shipped camera size: what one call of a dual-arm task sends."""
    from ahabench.envs.camera import DEFAULT_CAMERA_HW
    from ahabench.types import CAMERAS, Observation

    rng = np.random.default_rng(tick)
    h, w = DEFAULT_CAMERA_HW
    images = {c: rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for c in CAMERAS}
    return Observation(images=images, qpos=np.zeros(16, np.float32), instruction="click the bell", tick=tick,
                       time_us=tick * 40_000)


def _start_server(policy: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "ahabench.cli", "serve", "--policy", policy, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "ws://" in line:
            return proc, "ws://" + line.split("ws://", 1)[1].split()[0]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"`ahabench serve --policy {policy}` did not start (exit {proc.poll()})")


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return 1000.0 * (time.perf_counter() - t0), out


def bench_policy_calls(policy: str, calls: int = 30, warmup: int = 3) -> list[dict[str, Any]]:
    """Rows (one per call name) of in-process vs remote medians for ``policy``."""
    from ahabench.policy_registry import make_policy
    from ahabench.pool import limit_threads
    from ahabench.serve import wire
    from ahabench.types import EpisodeInfo

    limit_threads()  # one compute thread, as the server has and as evaluation runs
    info = EpisodeInfo(task="click_bell", suite="robotwin", instruction="click the bell", action_dim=16, control_hz=25.0,
                       max_steps=400, seed=0)
    proc, url = _start_server(policy)
    try:
        local, remote = make_policy(policy), make_policy("remote", url=url)
        local.reset(info)
        remote.reset(info)
        times: dict[str, dict[str, list[float]]] = {c: {"local": [], "remote": []} for c in local.spec.calls}
        for i in range(warmup + calls):
            obs = bench_observation(i)
            for name, pol in (("local", local), ("remote", remote)):
                ctx = None
                if local.spec.has_planner:
                    ms, ctx = _timed(lambda p=pol, o=obs: p.prefill(o))
                    if i >= warmup:
                        times["prefill"][name].append(ms)
                ms, _ = _timed(lambda p=pol, o=obs, c=ctx: p.act(o, c, 0))
                if i >= warmup:
                    times[local.spec.calls[-1]][name].append(ms)
        remote.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    kb = len(wire.pack({"type": "chunk", "obs": wire.encode_observation(bench_observation())})) / 1024
    rows = []
    for call, t in times.items():
        lo, re = statistics.median(t["local"]), statistics.median(t["remote"])
        rows.append(dict(policy=policy, call=call, calls=calls, local_ms_p50=lo, remote_ms_p50=re,
                         overhead_ms_p50=re - lo, remote_over_local=re / lo if lo > 0 else None, request_kb=kb))
    return rows


def bench_serving(out: Path | None, policies: Sequence[str] = ("hold", "aha-wam", "fast-wam"), calls: int = 30) -> pd.DataFrame:
    """Remote against in-process call times for each of ``policies``; writes ``out/serve.csv|json``."""
    rows = [row for p in policies for row in bench_policy_calls(p, calls)]
    df = pd.DataFrame(rows, columns=SERVE_COLUMNS)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        df.to_csv(out / "serve.csv", index=False, float_format="%.4g")
        doc = {"machine": machine_info(), "transport": "websocket on 127.0.0.1, msgpack", "calls": calls,
               "rows": json.loads(df.to_json(orient="records"))}
        (out / "serve.json").write_text(json.dumps(doc, indent=2))
    logger.info("serving overhead: %s", df[["policy", "call", "overhead_ms_p50"]].to_dict(orient="records"))
    return df
