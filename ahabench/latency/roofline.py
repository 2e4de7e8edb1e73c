"""``roofline`` latency: a call takes max(compute time, memory time) at a fraction of a device's peak,
plus a fixed per-call overhead (kernel launches, host sync).

    latency = max(flops / (peak_flops * eff), bytes / (bandwidth * eff)) + overhead

FLOPs and bytes come from ``Policy.cost(call)`` (derived from the model's size config). Deterministic, so
records stay byte-reproducible; answers "what rate would this model reach on a Jetson / an H100".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ahabench.latency.base import CallRequest, LatencyModel
from ahabench.latency.devices import DeviceSpec, get_device

if TYPE_CHECKING:  # annotations only: the latency models stay free of numpy and the policy layer
    from ahabench.policy import CallCost


class RooflineLatency(LatencyModel):
    kind = "roofline"

    def __init__(self, device: str | DeviceSpec = "rtx5090d", efficiency: float = 0.5, overhead_ms: float = 0.0,
                 scale: float = 1.0) -> None:
        super().__init__(scale)
        self.device = get_device(device) if isinstance(device, str) else device
        if not (math.isfinite(efficiency) and 0 < efficiency <= 1):
            raise ValueError(f"roofline efficiency must be in (0, 1], got {efficiency!r}")
        if not (math.isfinite(overhead_ms) and overhead_ms >= 0):
            raise ValueError(f"roofline overhead must be a finite number of ms >= 0, got {overhead_ms!r}")
        self.efficiency = efficiency
        self.overhead_ms = overhead_ms
        self.name = self.device.name

    def check(self, policy: str, calls: Sequence[str], cost: Callable[[str], CallCost] | None = None) -> None:
        if cost is None:
            raise ValueError(f"roofline latency needs the FLOPs/bytes of policy {policy!r}'s calls; none given")
        for call in calls:
            try:
                c = cost(call)
            except NotImplementedError as e:
                raise ValueError(f"roofline latency cannot time policy {policy!r}: no cost for call {call!r} "
                                 f"({e})") from e
            _validate(policy, call, c)

    def call_ms(self, flops: float, nbytes: float) -> float:
        compute_s = flops / (self.device.bf16_tflops * 1e12 * self.efficiency)
        memory_s = nbytes / (self.device.bandwidth_gbs * 1e9 * self.efficiency)
        return max(compute_s, memory_s) * 1000.0 + self.overhead_ms

    def base_ms(self, req: CallRequest) -> float:
        # Asked per call, not cached: two policies may share a name but differ in size config.
        if req.cost is None:
            raise ValueError(f"roofline latency needs the cost of {req.policy}.{req.call}, none given")
        c = _validate(req.policy, req.call, req.cost())
        return self.call_ms(c.flops, c.bytes)

    def describe(self) -> dict:
        return {**super().describe(), "device": self.device.name, "efficiency": self.efficiency,
                "overhead_ms": self.overhead_ms}


def _validate(policy: str, call: str, c: CallCost) -> CallCost:
    if not (math.isfinite(c.flops) and math.isfinite(c.bytes) and c.flops >= 0 and c.bytes >= 0):
        raise ValueError(f"bad roofline cost for {policy}.{call}: {c!r} (want finite flops and bytes >= 0)")
    return c
