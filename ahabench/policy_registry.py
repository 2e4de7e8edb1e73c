"""The policy registry: policies are found through Python entry points, like any installed plugin.

Each policy package declares itself in its distribution's metadata, group ``ahabench.policies`` (this repo's
pyproject.toml lists the shipped ones)::

    [project.entry-points."ahabench.policies"]
    my-policy = "my_package.my_policy"

The entry point names a module that registers the policy with :func:`register_policy` when imported. The
registry imports no plugin itself: :func:`policy_names` reads the metadata only, and :func:`make_policy`
imports only the package of the policy asked for (so a sync baseline never pulls in torch models it does not
use). Tests and notebooks may also call :func:`register_policy` directly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from ahabench.policy import Policy

log = logging.getLogger(__name__)

#: The entry-point group a policy package declares itself in.
ENTRY_POINT_GROUP = "ahabench.policies"

PolicyFactory = Callable[..., Policy]


@dataclass(frozen=True)
class PolicyEntry:
    factory: PolicyFactory
    description: str
    needs_checkpoint: bool = False


_POLICIES: dict[str, PolicyEntry] = {}


def register_policy(name: str, description: str, needs_checkpoint: bool = False) -> Callable[[PolicyFactory], PolicyFactory]:
    """Decorator: register a policy factory under ``name`` (e.g. ``aha-wam``)."""

    def deco(factory: PolicyFactory) -> PolicyFactory:
        if name in _POLICIES:
            raise ValueError(f"policy {name!r} is already registered")
        _POLICIES[name] = PolicyEntry(factory, description, needs_checkpoint)
        return factory

    return deco


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _load(name: str) -> PolicyEntry:
    if name not in _POLICIES:
        ep = _entry_points().get(name)
        if ep is None:
            known = ", ".join(policy_names()) or "none (is ahabench installed? pip install -e .)"
            raise KeyError(f"unknown policy {name!r}; known policies: {known}")
        ep.load()  # the module registers the policy on import
        if name not in _POLICIES:
            raise KeyError(f"entry point {ep.value!r} of policy {name!r} did not register it (register_policy)")
    return _POLICIES[name]


def policy_names() -> list[str]:
    """Every policy name: installed entry points and policies registered in this process."""
    return sorted(set(_entry_points()) | set(_POLICIES))


def policy_description(name: str) -> str:
    return _load(name).description


def needs_checkpoint(name: str) -> bool:
    return _load(name).needs_checkpoint


def make_policy(name: str, **kwargs: Any) -> Policy:
    """Build a policy by name; an unknown name raises ``KeyError`` naming it and the known ones."""
    return _load(name).factory(**kwargs)


__all__ = ["ENTRY_POINT_GROUP", "PolicyEntry", "PolicyFactory", "register_policy", "policy_names",
           "policy_description", "needs_checkpoint", "make_policy"]
