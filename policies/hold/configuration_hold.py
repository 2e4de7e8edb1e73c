"""Configuration of the ``hold`` policy: a robot that never moves (the floor of every task)."""

from __future__ import annotations

from dataclasses import dataclass

from ahabench.policies.expert.configuration_expert import ExpertConfig


@dataclass(frozen=True)
class HoldConfig(ExpertConfig):
    """The oracles' chunking settings: they only decide how often the clock charges a call, which a held robot
    does not care about."""
