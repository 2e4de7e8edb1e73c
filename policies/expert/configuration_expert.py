"""Configuration of the ``expert`` policy: the task's scripted expert served through the clock."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExpertConfig:
    chunk_len: int = 16
    execute_len: int = 16
    default_mode: str = "blocking"

    def __post_init__(self) -> None:
        if self.chunk_len < 1 or not 1 <= self.execute_len <= self.chunk_len:
            raise ValueError(f"need 1 <= execute_len <= chunk_len, got chunk_len={self.chunk_len!r}, "
                             f"execute_len={self.execute_len!r}")
