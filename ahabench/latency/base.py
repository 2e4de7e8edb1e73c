"""The latency-model interface: how long (in simulated microseconds) one policy call takes.

The episode runner asks the model once per call, after doing the call for real, with a
:class:`CallRequest`. Models are stateless per call: everything that may influence a duration (episode
seed, call name, call index, the measured wall time, the call's cost) is in the request, so results do not
depend on which worker ran what before.
"""

from __future__ import annotations

import abc
import hashlib
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the latency models stay free of numpy and the policy layer
    from ahabench.policy import CallCost


@dataclass(frozen=True)
class CallRequest:
    """policy: the policy's name (spec.name); call: ``prefill``/``chunk``/``call``; index: this call's
    count within the episode (0-based, per call name); seed: the episode seed; wall_s: measured wall-clock
    seconds of the call on this machine; cost: returns the call's FLOPs and bytes (roofline)."""

    policy: str
    call: str
    index: int
    seed: int
    wall_s: float = 0.0
    cost: Callable[[], CallCost] | None = None


class LatencyModel(abc.ABC):
    """kind: ``profile``/``measured``/``roofline``/``fixed``; name: what the record's ``profile`` field
    shows (profile name, device, ...); reproducible: False when durations depend on this machine."""

    kind: str = ""
    name: str = ""
    reproducible: bool = True

    def __init__(self, scale: float = 1.0) -> None:
        if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
            raise ValueError(f"latency scale must be a finite number > 0, got {scale!r}")
        self.scale = float(scale)

    def check(self, policy: str, calls: Sequence[str], cost: Callable[[str], CallCost] | None = None) -> None:  # noqa: B027 - an optional hook: most models time any call
        """Raise (a ValueError) before an episode if this model cannot time ``calls`` of ``policy``;
        ``cost(call)`` gives a call's FLOPs and bytes where the model needs them."""

    @abc.abstractmethod
    def base_ms(self, req: CallRequest) -> float:
        """Unscaled latency of one call in milliseconds."""

    def duration_us(self, req: CallRequest) -> int:
        ms = self.base_ms(req) * self.scale
        if not (math.isfinite(ms) and ms >= 0):
            raise ValueError(f"latency model {self.kind}:{self.name} gave {ms!r} ms for {req.policy}.{req.call}")
        return round(ms * 1000)

    def describe(self) -> dict:
        return {"kind": self.kind, "name": self.name, "scale": self.scale, "reproducible": self.reproducible}


def unit_normal(*key: object) -> float:
    """A standard normal draw determined only by ``key`` (stable across processes and platforms:
    sha256 of the key's repr seeds a private Random, never Python's salted ``hash``)."""
    digest = hashlib.sha256(repr(key).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big")).gauss(0.0, 1.0)


def lognormal_factor(sigma: float, *key: object) -> float:
    """Median-preserving lognormal multiplier exp(sigma * z): the nominal latency stays the p50."""
    return 1.0 if sigma == 0 else math.exp(sigma * unit_normal(*key))


class FixedLatency(LatencyModel):
    """Every call takes ``fixed_ms`` (times the scale): for latency sweeps."""

    kind = "fixed"

    def __init__(self, fixed_ms: float, scale: float = 1.0) -> None:
        super().__init__(scale)
        if not (isinstance(fixed_ms, (int, float)) and math.isfinite(fixed_ms) and fixed_ms >= 0):
            raise ValueError(f"fixed latency must be a finite number of ms >= 0, got {fixed_ms!r}")
        self.fixed_ms = float(fixed_ms)
        self.name = f"fixed-{self.fixed_ms:g}ms"

    def base_ms(self, req: CallRequest) -> float:
        return self.fixed_ms
