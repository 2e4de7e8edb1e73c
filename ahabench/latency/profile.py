"""``profile`` latency: per (policy, call) latencies from a YAML profile, with optional seeded jitter.

Schema (unknown keys are errors)::

    name: rtx5090d-paper       # required, a string
    description: ...           # optional free text
    devices: [gpu0]            # optional list of device names the figures were measured on
    latency_ms:                # required: policy -> call -> milliseconds (finite, >= 0)
      aha-wam: {prefill: 34.59, chunk: 41.37}
      fast-wam: {call: 190.0}
    jitter: {kind: lognormal, sigma: 0.0}   # optional; kind: none | lognormal

``--profile NAME`` loads ahabench/latency/profiles/NAME.yaml; anything that looks like a path (has a
separator or a .yaml/.yml suffix) is read as a file. Jitter draws depend only on (episode seed, policy,
call, call index), so results never depend on worker order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ahabench.latency.base import CallRequest, LatencyModel, lognormal_factor

if TYPE_CHECKING:  # annotations only: the latency models stay free of numpy and the policy layer
    from ahabench.policy import CallCost

PROFILES_DIR = Path(__file__).parent / "profiles"
_TOP_KEYS = {"name", "description", "devices", "latency_ms", "jitter"}
JITTER_KINDS = ("none", "lognormal")


class ProfileError(ValueError):
    """A latency profile that cannot be used: unknown name, malformed YAML, bad or missing value."""


@dataclass(frozen=True)
class Profile:
    name: str
    latency_ms: dict[str, dict[str, float]]
    devices: tuple[str, ...] = ("gpu0",)
    jitter_kind: str = "none"
    jitter_sigma: float = 0.0
    description: str = ""
    source: str = "<memory>"

    def latency(self, policy: str, call: str) -> float:
        if policy not in self.latency_ms:
            raise ProfileError(f"policy {policy!r} is not in latency profile {self.name!r} ({self.source}); "
                               f"it has: {', '.join(sorted(self.latency_ms))}")
        calls = self.latency_ms[policy]
        if call not in calls:
            raise ProfileError(f"call {call!r} of policy {policy!r} is not in latency profile {self.name!r} "
                               f"({self.source}); it has: {', '.join(sorted(calls))}")
        return calls[call]


def list_profiles() -> list[str]:
    """Names of the shipped profiles."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def _looks_like_path(s: str) -> bool:
    return "/" in s or "\\" in s or s.endswith((".yaml", ".yml"))


def resolve_profile_path(name_or_path: str) -> Path:
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise ProfileError(f"empty latency profile name {name_or_path!r}")
    if _looks_like_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise ProfileError(f"latency profile file {str(path)!r} does not exist")
        return path
    path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ProfileError(f"unknown latency profile {name_or_path!r}; shipped profiles: "
                           f"{', '.join(list_profiles())} (or give a path to a .yaml file)")
    return path


def _number(value: Any, where: str, src: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProfileError(f"{where} must be a number, got {value!r} in {src}")
    v = float(value)
    if math.isnan(v) or math.isinf(v) or v < 0:
        raise ProfileError(f"{where} must be a finite number >= 0, got {value!r} in {src}")
    return v


def parse_profile(data: Any, source: str = "<memory>") -> Profile:
    """Validate a loaded YAML document into a :class:`Profile` (errors name the bad value and ``source``)."""
    if not isinstance(data, dict):
        raise ProfileError(f"latency profile {source} must be a mapping at top level, got {type(data).__name__}")
    unknown = sorted(set(map(str, data)) - _TOP_KEYS)
    if unknown:
        raise ProfileError(f"unknown key(s) {', '.join(map(repr, unknown))} in latency profile {source}; "
                           f"allowed: {', '.join(sorted(_TOP_KEYS))}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ProfileError(f"latency profile {source} needs a non-empty string 'name', got {name!r}")
    devices = data.get("devices", ["gpu0"])
    if not isinstance(devices, list) or not devices or not all(isinstance(d, str) and d for d in devices):
        raise ProfileError(f"'devices' must be a non-empty list of names, got {devices!r} in {source}")
    table = data.get("latency_ms")
    if not isinstance(table, dict) or not table:
        raise ProfileError(f"latency profile {source} needs a non-empty 'latency_ms' mapping, got {table!r}")
    lat: dict[str, dict[str, float]] = {}
    for policy, calls in table.items():
        if not isinstance(calls, dict) or not calls:
            raise ProfileError(f"latency_ms.{policy} must map call names to ms, got {calls!r} in {source}")
        lat[str(policy)] = {str(c): _number(v, f"latency_ms.{policy}.{c}", source) for c, v in calls.items()}
    jitter = data.get("jitter") or {}
    if not isinstance(jitter, dict):
        raise ProfileError(f"'jitter' must be a mapping like {{kind: lognormal, sigma: 0.1}}, got {jitter!r} "
                           f"in {source}")
    bad = sorted(set(map(str, jitter)) - {"kind", "sigma"})
    if bad:
        raise ProfileError(f"unknown jitter key(s) {', '.join(map(repr, bad))} in {source}; allowed: kind, sigma")
    kind = jitter.get("kind", "none")
    if kind not in JITTER_KINDS:
        raise ProfileError(f"unknown jitter kind {kind!r} in {source}; choices: {', '.join(JITTER_KINDS)}")
    sigma = _number(jitter.get("sigma", 0.0), "jitter.sigma", source)
    desc = data.get("description", "")
    if not isinstance(desc, str):
        raise ProfileError(f"'description' must be a string, got {desc!r} in {source}")
    return Profile(name=name, latency_ms=lat, devices=tuple(devices), jitter_kind=kind, jitter_sigma=sigma,
                   description=desc, source=source)


def load_profile(name_or_path: str) -> Profile:
    path = resolve_profile_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ProfileError(f"malformed YAML in latency profile {path}: {e}") from e
    return parse_profile(data, source=str(path))


class ProfileLatency(LatencyModel):
    kind = "profile"

    def __init__(self, profile: str | Profile, scale: float = 1.0, jitter_sigma: float | None = None) -> None:
        super().__init__(scale)
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        self.name = self.profile.name
        sigma = self.profile.jitter_sigma if jitter_sigma is None else jitter_sigma
        if not (math.isfinite(sigma) and sigma >= 0):
            raise ProfileError(f"jitter sigma must be a finite number >= 0, got {sigma!r}")
        # An explicit sigma override turns lognormal jitter on even for a profile that declares none.
        self.sigma = sigma if (jitter_sigma is not None or self.profile.jitter_kind == "lognormal") else 0.0

    def check(self, policy: str, calls: Sequence[str], cost: Callable[[str], CallCost] | None = None) -> None:
        for call in calls:
            self.profile.latency(policy, call)

    def base_ms(self, req: CallRequest) -> float:
        ms = self.profile.latency(req.policy, req.call)
        return ms * lognormal_factor(self.sigma, "latency-jitter", req.seed, req.policy, req.call, req.index)

    def describe(self) -> dict:
        return {**super().describe(), "source": self.profile.source, "jitter_sigma": self.sigma}
