"""What is installed: the task catalogue (suites, limits, tabulated expert success and whether it is stale) and the
shipped latency profiles. Read by ``ahabench tasks`` / ``ahabench profiles`` through :mod:`ahabench.api`."""

from __future__ import annotations

import csv
import logging
from typing import Any

log = logging.getLogger(__name__)


def list_tasks(suite: str | None = None) -> list[dict[str, Any]]:
    """Task rows: name, suite, description, arms, step and time limits, expert success (if tabulated) and
    ``expert_success_stale``: True when the task's code changed since that success was measured."""
    from ahabench.codehash import task_code_hash
    from ahabench.task_registry import suites, task_names, task_spec

    all_suites = {k: list(v) for k, v in suites().items()}
    in_suites = {t for members in all_suites.values() for t in members}
    for name in task_names():  # tasks no suite declares (installed packages'), under the suite their spec names
        if name not in in_suites:
            all_suites.setdefault(task_spec(name).suite, []).append(name)
    if suite is not None and suite not in all_suites:
        raise KeyError(f"unknown suite {suite!r}; known suites: {', '.join(sorted(all_suites))}")
    names = list(all_suites[suite]) if suite else [t for s in all_suites for t in all_suites[s]]
    expert = _expert_success_table()
    rows = []
    for n in dict.fromkeys(names):
        try:
            s = task_spec(n)
        except KeyError:  # declared in a suite but its module did not register it (not built yet)
            log.warning("task %s is declared in a suite but not registered; left out", n)
            continue
        rate, code = expert.get(s.name, (None, ""))
        rows.append({"name": s.name, "suite": s.suite, "description": s.description, "arms": s.arms,
                     "max_steps": s.max_steps, "control_hz": s.control_hz, "time_limit_s": s.time_limit_s,
                     "expert_success": rate,
                     "expert_success_stale": rate is not None and code != task_code_hash(s.name)})
    return rows


def _expert_success_table() -> dict[str, tuple[float, str]]:
    """task -> (clean-setting expert success, code hash it was measured with) from the committed table."""
    from importlib.resources import files

    path = files("ahabench.tasks") / "expert_success.csv"  # committed table, shipped as package data of the tasks package
    if not path.is_file():
        return {}
    out: dict[str, tuple[float, str]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if row.get("setting", "clean") != "clean":
                continue
            name = row.get("task") or row.get("name")
            val = next((row[k] for k in ("expert_success", "success_rate", "success") if row.get(k)), None)
            if name and val is not None:
                try:
                    out[name] = (float(val), row.get("code_hash") or "")
                except ValueError:
                    log.warning("%s: bad expert success %r for task %s", path, val, name)
    return out


def list_profiles() -> list[dict[str, Any]]:
    """Shipped latency profiles: name, description, devices and the policies they time."""
    from ahabench.latency import PROFILES_DIR, load_profile
    from ahabench.latency import list_profiles as names

    rows = []
    for name in names():
        p = load_profile(name)
        rows.append({"name": p.name, "description": p.description, "devices": list(p.devices),
                     "policies": sorted(p.latency_ms), "path": str(PROFILES_DIR / f"{name}.yaml")})
    return rows
