"""Tasks from installed packages: the ``ahabench.tasks`` entry-point group.

A package declares its tasks in its metadata, one entry point per task, naming the module that registers the task
(:func:`ahabench.task_registry.register_task`) when imported::

    [project.entry-points."ahabench.tasks"]
    my_task = "my_package.my_task"

:func:`load_task_plugins` imports those modules once per process. The harness calls it wherever task names are
resolved (the library API, the run engine, each worker process), so ``pip install my-package`` makes
``--tasks my_task`` work with no ``--import``. The shipped tasks are still found by the registry's import of the
``tasks`` package: moving them to entry points too changes files hashed into the expert-success table
(ahabench/codehash.py), which is left for the next intended change of task code.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

log = logging.getLogger(__name__)

#: The entry-point group a task package declares its tasks in.
ENTRY_POINT_GROUP = "ahabench.tasks"

_LOADED: set[str] = set()


def load_task_plugins() -> list[str]:
    """Import every installed task plugin module not imported yet; return the declared task names.

    A plugin that fails to import raises ``ImportError`` naming the entry point, its module and the reason."""
    names = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        names.append(ep.name)
        if ep.value in _LOADED:
            continue
        try:
            ep.load()
        except Exception as e:  # noqa: BLE001 - whatever a plugin raises, say which plugin it was
            raise ImportError(f"task plugin {ep.name!r} (module {ep.value}) failed to import: {type(e).__name__}: {e}") from e
        _LOADED.add(ep.value)
        log.debug("task plugin %s loaded from %s", ep.name, ep.value)
    return names


__all__ = ["ENTRY_POINT_GROUP", "load_task_plugins"]
