"""The ``openpi`` policy: each clock call is one openpi ``infer`` request; the reply's actions are the chunk.

Requests and replies use openpi-client's own msgpack-numpy codec and image helper, so what reaches the server is
exactly what an openpi robot client would send. The clock charges the call from the latency profile under
``profile_name`` (``-P profile_name=pi0.5``) or, with ``--latency measured``, the real round trip.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from openpi_client import image_tools, msgpack_numpy

from ahabench.policies.openpi.configuration_openpi import KeyMap, OpenpiConfig
from ahabench.policy import PolicySpec
from ahabench.serve.client import ServerClientPolicy
from ahabench.serve.connection import Connection, RemoteCallError, actions_from_reply
from ahabench.types import EpisodeInfo, Observation


def _unpack(raw: bytes | str) -> Any:
    if isinstance(raw, str):  # openpi servers answer an exception in the model with its traceback, as text
        lines = raw.strip().splitlines()
        raise RemoteCallError(f"the openpi server failed: {lines[-1] if lines else 'no message'}")
    try:
        return msgpack_numpy.unpackb(raw)
    except Exception as e:  # noqa: BLE001 - msgpack raises several unrelated types on garbage
        raise RemoteCallError(f"undecodable reply from the openpi server ({type(e).__name__}: {e})") from None


def build_request(obs: Observation, keymap: KeyMap) -> dict[str, Any]:
    """The openpi request for ``obs`` under ``keymap`` (cameras the task lacks are left out)."""
    images: dict[str, np.ndarray] = {}
    for cam, key in keymap.images.items():
        img = obs.images.get(cam)
        if img is None:
            continue
        img = image_tools.convert_to_uint8(np.asarray(img))
        if keymap.resize is not None:
            img = image_tools.resize_with_pad(img, *keymap.resize)
        images[key] = np.ascontiguousarray(img.transpose(2, 0, 1) if keymap.image_layout == "CHW" else img)
    request: dict[str, Any] = {keymap.state: np.asarray(obs.qpos, np.float32), keymap.prompt: obs.instruction}
    if keymap.images_key:
        request[keymap.images_key] = images
    else:
        request.update(images)
    return request


class OpenpiPolicy(ServerClientPolicy):
    def __init__(self, config: OpenpiConfig) -> None:
        self.config = config
        self.keymap = config.key_map()
        self.spec = PolicySpec(name=config.profile_name, chunk_len=config.chunk_len, execute_len=config.execute,
                               default_mode=config.default_mode)
        self.metadata = self._connection().metadata
        self._calls = 0

    def _open(self) -> Connection:
        cfg = self.config
        return Connection(cfg.address, api_key=cfg.api_key, connect_timeout=cfg.connect_timeout, timeout=cfg.timeout,
                          pack=msgpack_numpy.packb, unpack=_unpack)

    def reset(self, episode: EpisodeInfo) -> None:
        self._connection()  # the previous episode lost the connection: open a new one now
        self._calls = 0

    def act(self, obs: Observation, context: Any = None, phase_offset: int = 0) -> np.ndarray:
        what = f"infer #{self._calls} (tick {obs.tick})"
        self._calls += 1
        try:
            reply = self._connection().request(build_request(obs, self.keymap), what)
        except RemoteCallError:
            self.close()
            raise
        if not isinstance(reply, dict):
            raise RemoteCallError(f"{self.config.address}: reply to {what} is a {type(reply).__name__}, not a map")
        key = self.keymap.actions
        actions = actions_from_reply({"actions": reply[key]} if key in reply else {},
                                     f"openpi server {self.config.address} ({what}, key {key!r})")
        return actions


__all__ = ["OpenpiPolicy", "build_request"]
