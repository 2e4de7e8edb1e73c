"""Configuration of the ``openpi`` policy: the server's address, the observation key map and the chunking.

The key map says how an ahabench observation becomes an openpi request and where the reply's actions are. The
default is openpi's ALOHA convention (``state``, ``images`` with ``cam_high`` / ``cam_left_wrist`` /
``cam_right_wrist`` as uint8 CHW at 224x224 padded, ``prompt``); a YAML file (``-P keymap=FILE.yaml``) changes any
of its keys::

    state: state                # key of the proprioception (joint positions and grippers, float32)
    prompt: prompt              # key of the instruction
    images_key: images          # images nested under this key; null puts each camera at the top level
    images: {head: cam_high, left_wrist: cam_left_wrist, right_wrist: cam_right_wrist}
    image_layout: CHW           # or HWC
    resize: [224, 224]          # height, width (aspect kept, zero padding); null sends the camera's size
    actions: actions            # key of the (H, D) action chunk in the reply
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ahabench.types import CAMERAS


@dataclass(frozen=True)
class KeyMap:
    state: str = "state"
    prompt: str = "prompt"
    images_key: str | None = "images"
    images: dict[str, str] = field(default_factory=lambda: {"head": "cam_high", "left_wrist": "cam_left_wrist",
                                                            "right_wrist": "cam_right_wrist"})
    image_layout: str = "CHW"
    resize: tuple[int, int] | None = (224, 224)
    actions: str = "actions"

    def __post_init__(self) -> None:
        if self.image_layout not in ("CHW", "HWC"):
            raise ValueError(f"openpi keymap: image_layout must be CHW or HWC, got {self.image_layout!r}")
        unknown = sorted(set(self.images) - set(CAMERAS))
        if unknown:
            raise ValueError(f"openpi keymap: unknown cameras {unknown}; ahabench's cameras are {', '.join(CAMERAS)}")
        if self.resize is not None and (len(self.resize) != 2 or min(self.resize) < 8):
            raise ValueError(f"openpi keymap: resize must be [height, width], each >= 8, or null; got {self.resize!r}")

    @classmethod
    def load(cls, path: str | Path) -> KeyMap:
        """The key map in a YAML file (keys it leaves out keep their defaults)."""
        import yaml

        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"openpi keymap file {str(path)!r} does not exist")
        raw = yaml.safe_load(p.read_text()) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"openpi keymap {path}: expected a mapping of keys, got {type(raw).__name__}")
        known = {f.name for f in fields(cls)}
        bad = sorted(set(raw) - known)
        if bad:
            raise ValueError(f"openpi keymap {path}: unknown keys {bad}; known: {', '.join(sorted(known))}")
        if raw.get("resize") is not None:
            raw["resize"] = tuple(int(v) for v in raw["resize"])
        return cls(**raw)


@dataclass(frozen=True)
class OpenpiConfig:
    """host/port or url: the openpi policy server. api_key: sent as ``Authorization: Api-Key ...``.
    chunk_len: actions per reply the clock plans for (openpi's ALOHA models return 50); execute: actions executed
    from each reply before the next call (sync modes; async asks for the next one ``execute`` actions in).
    profile_name: the name the latency profile times the call under (e.g. ``pi0.5``). keymap: a YAML key map (see
    the module docstring). connect_timeout / timeout: seconds to connect and to wait for each reply."""

    host: str = "127.0.0.1"
    port: int = 8000
    url: str | None = None
    api_key: str | None = None
    keymap: str | None = None
    chunk_len: int = 50
    execute: int = 10
    profile_name: str = "openpi"
    default_mode: str = "blocking"
    connect_timeout: float = 10.0
    timeout: float = 120.0

    def __post_init__(self) -> None:
        if not 1 <= self.execute <= self.chunk_len:
            raise ValueError(f"openpi: execute must be between 1 and chunk_len ({self.chunk_len}), got {self.execute!r}")
        if self.url is not None and not str(self.url).startswith(("ws://", "wss://")):
            raise ValueError(f"openpi: url must start with ws:// or wss://, got {self.url!r}")

    @property
    def address(self) -> str:
        return str(self.url) if self.url else f"ws://{self.host}:{self.port}"

    def key_map(self) -> KeyMap:
        return KeyMap.load(self.keymap) if self.keymap else KeyMap()


def openpi_config(**kwargs: Any) -> OpenpiConfig:
    """OpenpiConfig from ``-P`` values (an api key or host given as a number arrives as one)."""
    for key in ("api_key", "host", "url", "profile_name", "keymap"):
        if kwargs.get(key) is not None:
            kwargs[key] = str(kwargs[key])
    return OpenpiConfig(**kwargs)
