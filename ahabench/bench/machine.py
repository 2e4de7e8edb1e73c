"""What a benchmark number depends on besides the code: the machine, its load, and the library versions."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata
from typing import Any


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:  # Linux: the first "model name" line; elsewhere platform.processor() is the best we have
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """CPU count and model, load average (benchmarks on a shared machine are only comparable at equal
    load), torch thread count, Python and library versions, and a UTC timestamp."""
    import torch

    info: dict[str, Any] = {
        "timestamp_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "torch_threads": torch.get_num_threads(),
        "lp_num_threads": os.environ.get("LP_NUM_THREADS"),
        "versions": {d: _version(d) for d in ("torch", "sapien", "mani-skill", "mplib", "numpy", "ahabench")},
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpu_affinity"] = len(os.sched_getaffinity(0))
    if hasattr(os, "getloadavg"):
        info["load_avg_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    return info
