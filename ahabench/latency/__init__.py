"""Latency models: how much simulated time each policy call costs (docs/clock.md "Latency models").

``make_latency_model`` is the one factory the engine and the CLI use::

    make_latency_model("profile", "rtx5090d-paper")          # published per-call figures
    make_latency_model("measured", scale=0.5)                # wall clock of this machine, halved
    make_latency_model("roofline", device="jetson-agx-orin") # FLOPs/bytes against a device's peaks
    make_latency_model("profile", "rtx5090d-paper", fixed_ms=100)  # every call 100 ms (sweeps)
"""

from __future__ import annotations

from ahabench.latency.base import CallRequest, FixedLatency, LatencyModel, lognormal_factor, unit_normal
from ahabench.latency.devices import DEVICES, DeviceSpec, get_device
from ahabench.latency.measured import MeasuredLatency
from ahabench.latency.profile import (
    PROFILES_DIR,
    Profile,
    ProfileError,
    ProfileLatency,
    list_profiles,
    load_profile,
    parse_profile,
)
from ahabench.latency.roofline import RooflineLatency

LATENCY_KINDS: tuple[str, ...] = ("profile", "measured", "roofline", "fixed")
#: What a run uses when no latency model is named: the shipped paper profile.
DEFAULT_LATENCY = "profile"
DEFAULT_PROFILE = "rtx5090d-paper"
DEFAULT_ROOFLINE_DEVICE = "rtx5090d"


def make_latency_model(kind: str, profile: str | None = None, device: str | None = None, scale: float = 1.0,
                       fixed_ms: float | None = None, *, efficiency: float = 0.5, overhead_ms: float = 0.0,
                       jitter_sigma: float | None = None) -> LatencyModel:
    """Build a latency model.

    kind: ``profile`` (needs ``profile``: a shipped name or a YAML path; default rtx5090d-paper),
        ``measured``, ``roofline`` (``device`` from ahabench.latency.devices, default rtx5090d;
        ``efficiency`` fraction of peak, ``overhead_ms`` per call) or ``fixed`` (needs ``fixed_ms``).
    scale: multiplies every duration (``--latency-scale``). fixed_ms: if given, every call takes this many
        ms whatever ``kind`` says (``--delays-ms`` sweeps). jitter_sigma: overrides the profile's lognormal
        jitter.
    """
    if fixed_ms is not None or kind == "fixed":
        if fixed_ms is None:
            raise ValueError("latency kind 'fixed' needs fixed_ms")
        return FixedLatency(fixed_ms, scale=scale)
    if kind == "profile":
        return ProfileLatency(profile or DEFAULT_PROFILE, scale=scale, jitter_sigma=jitter_sigma)
    if kind == "measured":
        return MeasuredLatency(scale=scale)
    if kind == "roofline":
        return RooflineLatency(device or DEFAULT_ROOFLINE_DEVICE, efficiency=efficiency, overhead_ms=overhead_ms,
                               scale=scale)
    raise ValueError(f"unknown latency model {kind!r}; choices: {', '.join(LATENCY_KINDS)}")


__all__ = [
    "CallRequest", "DEFAULT_LATENCY", "DEFAULT_PROFILE", "DEVICES", "DeviceSpec", "FixedLatency", "LATENCY_KINDS", "LatencyModel",
    "MeasuredLatency", "PROFILES_DIR", "Profile", "ProfileError", "ProfileLatency", "RooflineLatency",
    "get_device", "list_profiles", "load_profile", "lognormal_factor", "make_latency_model", "parse_profile",
    "unit_normal",
]
