"""``gymnasium.make("ahabench/ClickBell-v1")`` in a fresh interpreter, with nothing imported first.

gymnasium 0.26-0.29 imported plugin entry points when it was imported; 1.x dropped that, so the id of a package not
imported yet is "not found". ahabench puts the one-line start-up file ``ahabench-gymnasium.pth`` beside its packages
(``setup.py``), which calls :func:`install`. That adds a finder which waits for ``gymnasium.envs.registration`` to be
imported and then registers a *lazy* spec for every id in the ``ahabench.gymnasium`` entry-point group (gymnasium
id -> the module that registers the task; installed plugin packages may declare theirs the same way). The first
``make`` of an id imports that module, whose real registration replaces the lazy spec
(:func:`ahabench.envs.adapter.claim_gym_id`), and makes the env from the real spec.

Start-up cost: this module and ``ahabench/__init__`` (no third-party import); the entry points are read only once
gymnasium is imported. The first env made through a lazy id keeps the lazy spec on ``env.unwrapped.spec``
(gymnasium sets it after the env is built); its id and kwargs are the real ones and its episode limit is enforced
by the real spec's wrappers.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType
from typing import Any

#: Entry-point group of gymnasium ids: ``"ahabench/ClickBell-v1" = "ahabench.tasks.robotwin.click_bell"``.
ENTRY_POINT_GROUP = "ahabench.gymnasium"
#: The module whose import the finder waits for: once it has run, ``register`` exists.
_TARGET = "gymnasium.envs.registration"
#: Marks the specs registered here, so a real registration can tell them from a clash.
LAZY = "ahabench.gym_hook:lazy"


def _make_lazy(env_id: str, module: str) -> Any:
    def make(**kwargs: Any) -> Any:
        import importlib

        import gymnasium

        importlib.import_module(module)  # registers the real spec in place of this one
        if gymnasium.registry[env_id].entry_point is make:
            raise gymnasium.error.Error(f"importing {module} did not register {env_id} (entry point group "
                                        f"{ENTRY_POINT_GROUP})")
        return gymnasium.make(env_id, **kwargs)

    make.__qualname__ = LAZY
    return make


def register_lazy_ids(registration: ModuleType) -> list[str]:
    """Register a lazy spec for every declared id not registered yet; return those ids."""
    from importlib.metadata import entry_points

    done = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in registration.registry:
            registration.register(id=ep.name, entry_point=_make_lazy(ep.name, ep.value), disable_env_checker=True,
                                  order_enforce=False)
            done.append(ep.name)
    return done


def is_lazy(spec: Any) -> bool:
    """True for a spec registered by this module (a real registration may replace it silently)."""
    return getattr(getattr(spec, "entry_point", None), "__qualname__", None) == LAZY


class _AfterRegistration(MetaPathFinder):
    """Finds ``gymnasium.envs.registration`` as the path finder would, and registers the lazy ids once it ran."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname != _TARGET:
            return None
        sys.meta_path.remove(self)  # once per process
        spec = PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            try:
                register_lazy_ids(module)
            except Exception as e:  # noqa: BLE001 - a broken plugin must never break `import gymnasium`
                print(f"ahabench: gymnasium ids not registered: {type(e).__name__}: {e}", file=sys.stderr)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Called by ``ahabench-gymnasium.pth`` at interpreter start-up."""
    if _TARGET in sys.modules:  # gymnasium already imported: register now
        register_lazy_ids(sys.modules[_TARGET])
    elif not any(isinstance(f, _AfterRegistration) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterRegistration())
