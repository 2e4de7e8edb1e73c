"""``ahabench speedup A B``: how much of a published speedup the architecture explains, and how much engineering.

One table, three sources for each policy's executor call (the call the robot waits for: aha-wam's ``chunk``,
fast-wam's ``call``), with the speedup B / A:

- ``profile``: the published latencies (rtx5090d-paper: 190 vs 41.37 ms, 4.59x): the whole stack, compiled kernels
  and all.
- ``roofline``: the FLOPs and bytes of each part of the call at the paper's model size (policies/wam/cost.py), on a
  known device at the roofline model's efficiency: what the architecture costs with ideal, equally good kernels.
- ``measured``: the shipped model size timed on this machine's CPU (one thread; ahabench.bench.models_bench).

Each row splits the call into tokenizer encode, prefill (fast-wam's memoryless video pass; aha-wam's planner runs
apart), OVCR, executor setup and the action steps; text encoding runs once per episode (cached) and is listed at
its per-episode cost where measured. ``per action`` divides by the actions executed per call (spec.execute_len).
The closing line compares the roofline ratio on the paper's device with the published one: the architecture
explains the first, and the rest of the published ratio is engineering (TensorRT and CUDA graphs against eager
PyTorch, different stacks), as a factor and as a share on a log scale.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

PARTS = ("tokenizer", "text", "prefill", "ovcr", "setup", "action_steps")
#: The device the published profile was measured on (the roofline row that explains it).
PAPER_DEVICE = "rtx5090d"


@dataclass
class SpeedupRow:
    source: str
    device: str
    a_call_ms: float
    b_call_ms: float
    a_per_action_ms: float
    b_per_action_ms: float
    a_parts_ms: dict[str, float | None] = field(default_factory=dict)
    b_parts_ms: dict[str, float | None] = field(default_factory=dict)

    @property
    def speedup(self) -> float:
        return self.b_call_ms / self.a_call_ms

    @property
    def speedup_per_action(self) -> float:
        return self.b_per_action_ms / self.a_per_action_ms


def _spec(name: str) -> Any:
    from ahabench.policy_registry import make_policy

    pol = make_policy(name, cost_size="paper")
    if not hasattr(pol, "cost_cfg"):
        raise ValueError(f"speedup compares WAM policies (with a cost model); {name!r} is not one")
    return pol


def profile_row(a: str, b: str, profile: str = "rtx5090d-paper") -> SpeedupRow:
    from ahabench.latency.profile import load_profile

    prof = load_profile(profile)
    pa, pb = _spec(a), _spec(b)
    ca, cb = prof.latency(a, pa.spec.calls[-1]), prof.latency(b, pb.spec.calls[-1])
    return SpeedupRow("profile", profile, ca, cb, ca / pa.spec.execute_len, cb / pb.spec.execute_len)


def roofline_row(a: str, b: str, device: str) -> SpeedupRow:
    from ahabench.latency.roofline import RooflineLatency
    from ahabench.policies.wam.cost import call_breakdown

    model = RooflineLatency(device)
    out = []
    for name in (a, b):
        pol = _spec(name)
        call = "chunk" if pol.spec.has_planner else "fast_call"
        parts = call_breakdown(pol.cost_cfg, call, steps=pol.sample_steps)

        def ms(part: str, parts: dict = parts) -> float | None:
            f, by = parts.get(f"{part}_flops"), parts.get(f"{part}_bytes", 0.0)
            return None if f is None else model.call_ms(f, by)

        total = pol.cost(pol.spec.calls[-1])
        call_ms = model.call_ms(total.flops, total.bytes)
        out.append((call_ms, call_ms / pol.spec.execute_len,
                    {"tokenizer": ms("encode"), "text": None, "prefill": ms("prefill"), "ovcr": ms("ovcr"),
                     "setup": ms("context"), "action_steps": ms("action")}))
    (ca, pa_, parts_a), (cb, pb_, parts_b) = out
    return SpeedupRow("roofline (paper size)", device, ca, cb, pa_, pb_, parts_a, parts_b)


def measured_row(a: str, b: str, repetitions: int = 5, warmup: int = 2) -> SpeedupRow:
    """Both policies' calls at the shipped size on this CPU, one thread (ahabench.bench.models_bench)."""
    import pandas as pd
    import torch

    from ahabench.bench.models_bench import VARIANTS, bench_model

    for name in (a, b):
        if name not in VARIANTS:
            raise ValueError(f"the measured row times {', '.join(VARIANTS)} only, not {name!r}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = []
        for name in (a, b):
            pol = _spec(name)
            k = pol.sample_steps
            df = pd.DataFrame(bench_model(name, (k,), repetitions, warmup))

            def get(comp: str, steps: int | None = None, df: pd.DataFrame = df) -> float | None:
                sel = df[(df.component == comp) & ((df.steps == steps) if steps is not None else df.steps.isna())]
                return float(sel.cpu_median_ms.iloc[0]) if len(sel) else None

            ovcr = get("ovcr") if pol.spec.has_planner else None
            setup = get("executor_setup")
            call = get("chunk_call", k) if pol.spec.has_planner else get("fast_call", k)
            out.append((call, call / pol.spec.execute_len, {
                "tokenizer": get("tokenizer_encode"), "text": get("text_encode"),
                "prefill": None if pol.spec.has_planner else get("planner_prefill_empty"), "ovcr": ovcr,
                "setup": setup - (ovcr or 0.0) if setup is not None else None, "action_steps": get("denoise_total", k)}))
    finally:
        torch.set_num_threads(threads)
    (ca, pa_, parts_a), (cb, pb_, parts_b) = out
    return SpeedupRow("measured (shipped size, this CPU)", "cpu", ca, cb, pa_, pb_, parts_a, parts_b)


def speedup_table(a: str, b: str, devices: list[str] | None = None, measure: bool = True) -> dict[str, Any]:
    """The rows and the architecture line, as a JSON-ready dict."""
    from ahabench.latency.devices import DEVICES

    devices = list(devices or DEVICES)
    rows = [profile_row(a, b)] + [roofline_row(a, b, d) for d in devices]
    if measure:
        rows.append(measured_row(a, b))
    published = rows[0].speedup
    arch_row = roofline_row(a, b, PAPER_DEVICE)
    arch = arch_row.speedup
    share = math.log(arch) / math.log(published) if published > 1 and arch > 0 else None
    line = (f"On the paper's device ({PAPER_DEVICE}) the architecture alone gives {arch:.2f}x of the published "
            f"{published:.2f}x" + (f" ({100 * share:.0f}% on a log scale)" if share is not None else "")
            + f"; the remaining {published / arch:.2f}x is engineering (compiled kernels and CUDA graphs against "
            "eager code, different stacks), not architecture.")
    return {"a": a, "b": b, "rows": [{**asdict(r), "speedup": r.speedup, "speedup_per_action": r.speedup_per_action}
                                     for r in rows],
            "published": published, "architecture": arch, "engineering": published / arch,
            "architecture_log_share": share, "line": line}


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def speedup_markdown(table: dict[str, Any]) -> str:
    a, b = table["a"], table["b"]
    head = ["source", "device", f"{a} ms", f"{b} ms", "speedup", f"{a} ms/action", f"{b} ms/action", "per action",
            *(f"{a} {p}" for p in PARTS), *(f"{b} {p}" for p in PARTS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table["rows"]:
        cells = [r["source"], r["device"], _f(r["a_call_ms"]), _f(r["b_call_ms"]), f"{r['speedup']:.2f}x",
                 _f(r["a_per_action_ms"]), _f(r["b_per_action_ms"]), f"{r['speedup_per_action']:.2f}x",
                 *(_f(r["a_parts_ms"].get(p)) for p in PARTS), *(_f(r["b_parts_ms"].get(p)) for p in PARTS)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + table["line"] + "\n"


def speedup_json(table: dict[str, Any]) -> str:
    return json.dumps(table, indent=2, sort_keys=True)


__all__ = ["PARTS", "SpeedupRow", "measured_row", "profile_row", "roofline_row", "speedup_json", "speedup_markdown",
           "speedup_table"]
