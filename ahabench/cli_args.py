"""Parsing of the ``ahabench`` command's option values, shared by every command module.

Each parser turns one option's text into the value the library API takes, or raises :class:`UsageError`
naming the bad value, which the CLI prints as one red line with exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class UsageError(Exception):
    """A user mistake that the CLI reports in one line with exit code 2."""


def import_all(imports: list[str] | None) -> None:
    """--import MODULE (repeatable): import each module (it registers extra tasks / policies)."""
    import importlib

    for m in imports or ():
        try:
            importlib.import_module(m)
        except ImportError as e:
            raise UsageError(f"cannot import --import module {m!r}: {e}") from None


def parse_floats(text: str, what: str) -> list[float]:
    """Comma-separated numbers of the option ``what`` (e.g. --latency-scale 0.5,1,2)."""
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"bad {what} {text!r}: expected comma-separated numbers") from None


def parse_seeds(seeds: str | None, tasks: str) -> dict[str, list[int]] | None:
    """--seeds 1,2,3 -> the same explicit seeds for every task the --tasks selector names (None: planned seeds)."""
    if seeds is None:
        return None
    from ahabench.task_registry import resolve_tasks

    try:
        vals = [int(x) for x in seeds.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"bad --seeds {seeds!r}: expected comma-separated integers") from None
    return {t: vals for t in resolve_tasks(tasks)}


def parse_key_values(args: list[str] | None, option: str, example: str) -> dict[str, Any]:
    """Repeatable ``option KEY=VALUE`` items -> a dict (ints, floats and true/false are converted, the rest stay
    text); a malformed item is a usage error naming it."""
    kw: dict[str, Any] = {}
    for item in args or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"bad {option} {item!r}: expected KEY=VALUE, e.g. {example}")
        kw[key.strip()] = _cast(value)
    return kw


def _cast(value: str) -> Any:
    """true/false -> bool, then int, then float; anything else stays text."""
    if value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            continue
    return value


def parse_vary(args: list[str] | None) -> dict[str, list[Any]]:
    """Repeatable --vary KEY=V1,V2,...: the task-arg values a sweep grid runs (cartesian product over keys)."""
    out: dict[str, list[Any]] = {}
    for item in args or ():
        key, sep, values = item.partition("=")
        vals = [_cast(v) for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not vals:
            raise UsageError(f"bad --vary {item!r}: expected KEY=V1,V2,..., e.g. level=1,2,3")
        out[key.strip()] = vals
    return out


def parse_policy_kwargs(checkpoint: Path | None, args: list[str] | None = None) -> dict[str, Any]:
    """--checkpoint plus repeatable --policy-arg KEY=VALUE."""
    kw: dict[str, Any] = {"checkpoint": str(checkpoint)} if checkpoint is not None else {}
    return {**kw, **parse_key_values(args, "--policy-arg", "cost_size=paper")}


def parse_task_args(args: list[str] | None) -> dict[str, Any]:
    """Repeatable --task-arg KEY=VALUE: kwargs of every evaluated task's env class (a dynamic task's level, speed)."""
    return parse_key_values(args, "--task-arg", "level=2")


def parse_camera(camera: str | None) -> dict[str, Any]:
    """--camera HxW (e.g. 240x320) -> env kwargs that set every camera's resolution; None -> the default."""
    if camera is None:
        return {}
    h, sep, w = camera.lower().partition("x")
    try:
        hw = (int(h), int(w))
    except ValueError:
        hw = (0, 0)
    if not sep or min(hw) < 8:
        raise UsageError(f"bad --camera {camera!r}: expected HEIGHTxWIDTH in pixels, each at least 8, e.g. 240x320")
    return {"camera_hw": hw}
