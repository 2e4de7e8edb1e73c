"""Configuration of the ``remote`` policy: where the ``ahabench serve`` server is and how long to wait for it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RemoteConfig:
    """url: ``ws://HOST:PORT`` of an ``ahabench serve`` server. api_key: sent as ``Authorization: Api-Key ...``.
    connect_timeout: seconds to open the connection and read the metadata (an unreachable server is an error
    after at most this long). timeout: seconds to wait for each reply (a call that takes longer fails the
    episode). The spec (calls, chunk length, modes) comes from the server."""

    url: str
    api_key: str | None = None
    connect_timeout: float = 10.0
    timeout: float = 120.0

    def __post_init__(self) -> None:
        if not str(self.url).startswith(("ws://", "wss://")):
            raise ValueError(f"remote: url must start with ws:// or wss://, got {self.url!r} (-P url=ws://HOST:PORT)")
        for name in ("connect_timeout", "timeout"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"remote: {name} must be a number of seconds > 0, got {value!r}")
