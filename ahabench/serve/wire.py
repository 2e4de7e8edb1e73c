"""The wire format of ``ahabench serve``: msgpack messages with numpy arrays, as openpi packs them.

An array travels as the map ``{"__ndarray__": True, "data": <bytes>, "dtype": "<f4", "shape": [..]}`` and a numpy
scalar as ``{"__npgeneric__": True, "data": <number>, "dtype": ..}``: the layout of openpi's ``msgpack_numpy``, so
any openpi client or server reads our arrays and we read theirs. Decoding accepts plain numeric dtypes only (bool,
integers, floats): nothing is ever unpickled, and an object, void or string dtype is refused with a
:class:`WireError` naming it.

Messages of the ahabench protocol (docs/serving.md) are maps with a ``"type"`` key; observations and episode
descriptions are encoded by :func:`encode_observation` / :func:`encode_episode` and read back exactly.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import msgpack
import numpy as np

from ahabench.types import EpisodeInfo, Observation

#: Bumped on any incompatible change of the messages; server and client refuse each other on a mismatch.
PROTOCOL_VERSION = 1
#: dtype kinds that may cross the wire: bool, signed and unsigned integers, floats.
NUMERIC_KINDS = frozenset("biuf")


class WireError(ValueError):
    """A message that cannot be decoded or does not have the fields its type needs."""


def _pack_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in NUMERIC_KINDS:
            raise WireError(f"cannot send an array of dtype {obj.dtype} (numeric dtypes only)")
        return {b"__ndarray__": True, b"data": np.ascontiguousarray(obj).tobytes(), b"dtype": obj.dtype.str,
                b"shape": list(obj.shape)}
    if isinstance(obj, np.generic):
        if obj.dtype.kind not in NUMERIC_KINDS:
            raise WireError(f"cannot send a scalar of dtype {obj.dtype} (numeric dtypes only)")
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    if isinstance(obj, tuple):
        return list(obj)
    raise WireError(f"cannot send a value of type {type(obj).__name__}")


def _dtype(text: Any) -> np.dtype:
    try:
        dt = np.dtype(text.decode() if isinstance(text, bytes) else str(text))
    except TypeError as e:
        raise WireError(f"unknown array dtype {text!r}") from e
    if dt.kind not in NUMERIC_KINDS:
        raise WireError(f"refusing array dtype {dt} (numeric dtypes only; nothing is unpickled)")
    return dt


def _get(obj: dict, key: str) -> Any:
    """A field of an array map: openpi packs its keys as bytes, a str-keyed map is read the same."""
    return obj.get(key.encode(), obj.get(key))


def _unpack_hook(obj: dict) -> Any:
    if _get(obj, "__ndarray__") is True:
        get = functools.partial(_get, obj)
        dt, shape, data = _dtype(get("dtype")), get("shape"), get("data")
        if not isinstance(data, bytes) or not isinstance(shape, list | tuple):
            raise WireError("malformed array: need bytes 'data' and a list 'shape'")
        try:
            # a copy: arrays over the message buffer are read-only, and torch warns on those
            return np.frombuffer(data, dtype=dt).reshape([int(s) for s in shape]).copy()
        except ValueError as e:
            raise WireError(f"malformed array of dtype {dt} and shape {shape}: {e}") from e
    if _get(obj, "__npgeneric__") is True:
        return _dtype(_get(obj, "dtype")).type(_get(obj, "data"))
    return obj


def pack(message: Any) -> bytes:
    """msgpack bytes of ``message`` (maps, lists, numbers, text, bytes and numeric numpy arrays)."""
    return msgpack.packb(message, default=_pack_default, use_bin_type=True)


def unpack(data: bytes | str) -> Any:
    """The message in ``data``; a text frame or undecodable bytes raise :class:`WireError`."""
    if isinstance(data, str):  # openpi servers answer an exception with a text frame (its traceback)
        raise WireError(f"the server sent text instead of a message: {data.strip().splitlines()[-1] if data.strip() else data!r}")
    try:
        return msgpack.unpackb(data, object_hook=_unpack_hook, raw=False, strict_map_key=False)
    except WireError:
        raise
    except Exception as e:  # msgpack raises several unrelated types on garbage
        raise WireError(f"undecodable message ({type(e).__name__}: {e})") from e


def field(message: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``message[key]``, checked to be of ``kind``; else a WireError naming the key and what came."""
    if not isinstance(message, dict):
        raise WireError(f"{where}: expected a map, got {type(message).__name__}")
    if key not in message:
        raise WireError(f"{where}: missing field {key!r} (got {sorted(map(str, message))})")
    value = message[key]
    if not isinstance(value, kind):
        raise WireError(f"{where}: field {key!r} is a {type(value).__name__}, not {getattr(kind, '__name__', kind)}")
    return value


def encode_observation(obs: Observation) -> dict[str, Any]:
    return {"images": dict(obs.images), "qpos": np.asarray(obs.qpos), "instruction": obs.instruction,
            "tick": int(obs.tick), "time_us": int(obs.time_us)}


def decode_observation(msg: Any) -> Observation:
    images = field(msg, "images", dict, "observation")
    for name, img in images.items():
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3:
            raise WireError(f"observation: image {name!r} must be an (H, W, 3) uint8 array")
    qpos = field(msg, "qpos", np.ndarray, "observation")
    return Observation(images={str(k): v for k, v in images.items()}, qpos=qpos,
                       instruction=field(msg, "instruction", str, "observation"),
                       tick=field(msg, "tick", int, "observation"), time_us=field(msg, "time_us", int, "observation"))


def encode_episode(info: EpisodeInfo) -> dict[str, Any]:
    return dataclasses.asdict(info)


def decode_episode(msg: Any) -> EpisodeInfo:
    if not isinstance(msg, dict):
        raise WireError(f"episode: expected a map, got {type(msg).__name__}")
    names = {f.name for f in dataclasses.fields(EpisodeInfo)}
    unknown = sorted(set(msg) - names)
    if unknown:
        raise WireError(f"episode: unknown fields {unknown}")
    try:
        return EpisodeInfo(**msg)
    except TypeError as e:
        raise WireError(f"episode: {e}") from e


__all__ = ["PROTOCOL_VERSION", "WireError", "pack", "unpack", "field", "encode_observation", "decode_observation",
           "encode_episode", "decode_episode"]
