"""Code hash of a task: one hash over every repository file the task and its scripted expert import.

Measurements that describe a task's code (the committed expert-success table, the cached "expert solves this
seed" verdicts of :mod:`ahabench.seeds`) carry this hash, so a change to that code is seen instead of leaving
stale numbers behind. The file set is computed, not listed by hand: starting from the module that registers the
task, the module of its environment class (and of every first-party base class) and the expert runner
(``ahabench.experts.evaluate``), it follows every ``import`` statement (module level or inside functions, read
with :mod:`ast`, nothing is executed) into first-party modules (``ahabench`` and its ``ahabench.tasks`` package,
which lives in the repository's ``tasks/`` folder), transitively. Importing ``a.b.c`` runs ``a/__init__.py`` and
``a/b/__init__.py`` too, so those are part of the closure. Third-party packages (SAPIEN, ManiSkill, mplib, torch)
are left out: ``pyproject.toml`` pins the versions the table was measured with.

The hash is SHA-256 over the sorted (repository-relative path, file bytes) pairs, truncated to 16 hex digits.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
from collections.abc import Iterable
from pathlib import Path

#: The repository root: the folder holding ``ahabench/``, ``tasks/`` and ``policies/``.
REPO_ROOT = Path(__file__).resolve().parents[1]
#: First-party packages and the repository folders they live in. ``tasks/`` and ``policies/`` keep their place in
#: the repository but are installed as ``ahabench.tasks`` / ``ahabench.policies`` (package-dir in pyproject.toml),
#: so no generic top-level ``tasks`` package is installed. Longest prefix wins.
PACKAGE_DIRS: dict[str, str] = {"ahabench": "ahabench", "ahabench.tasks": "tasks", "ahabench.policies": "policies"}
#: First-party top-level packages whose imports are followed.
FIRST_PARTY: tuple[str, ...] = ("ahabench",)
#: Modules every task's verdicts depend on besides its own: the loop that plays an expert and judges success.
EXPERT_RUNNER = "ahabench.experts.evaluate"


def module_parts(name: str) -> list[str]:
    """The repository path parts of first-party module ``name`` (``ahabench.tasks.robotwin`` -> tasks, robotwin)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        folder = PACKAGE_DIRS.get(".".join(parts[:i]))
        if folder is not None:
            return [*folder.split("/"), *parts[i:]]
    return parts


def module_file(name: str, root: Path = REPO_ROOT) -> Path | None:
    """The file of first-party module ``name`` (``a/b.py`` or ``a/b/__init__.py`` under ``root``), or None."""
    if name.split(".")[0] not in FIRST_PARTY:
        return None
    base = root.joinpath(*module_parts(name))
    for f in (base.with_suffix(".py"), base / "__init__.py"):
        if f.is_file():
            return f
    return None


def _is_package(name: str, root: Path) -> bool:
    f = module_file(name, root)
    return f is not None and f.name == "__init__.py"


def imported_modules(path: Path, name: str, root: Path = REPO_ROOT) -> set[str]:
    """First-party modules that module ``name`` (file ``path``) imports anywhere in its source.

    ``from pkg import x`` counts ``pkg.x`` when that is a module, else ``pkg``; relative imports are resolved
    against ``name``. Every parent package of an imported module is included (Python runs its ``__init__``).
    """
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    package = name if _is_package(name, root) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if module_file(sub, root) is not None else base)
    out: set[str] = set()
    for mod in found:
        parts = mod.split(".")
        for i in range(1, len(parts) + 1):  # the module and every parent package
            if module_file(".".join(parts[:i]), root) is not None:
                out.add(".".join(parts[:i]))
    out.discard(name)
    return out


def import_closure(roots: Iterable[str], root: Path = REPO_ROOT) -> list[Path]:
    """Every first-party file that importing ``roots`` (module names) can execute, sorted."""
    seen: dict[str, Path] = {}
    todo: list[str] = []
    for r in roots:
        parts = r.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        f = module_file(mod, root)
        if f is None:
            continue
        seen[mod] = f
        todo.extend(m for m in imported_modules(f, mod, root) if m not in seen)
    return sorted(set(seen.values()))


def hash_files(files: Iterable[Path], root: Path = REPO_ROOT) -> str:
    """SHA-256 (16 hex digits) over the sorted (path relative to ``root``, bytes) of ``files``."""
    h = hashlib.sha256()
    for f in sorted(Path(p).resolve() for p in files):
        rel = f.relative_to(root.resolve()).as_posix()
        data = f.read_bytes()
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:16]


def task_root_modules(task: str) -> list[str]:
    """Where a task's code starts: the module that registered it, its env class's first-party modules (the
    class and its bases) and the expert runner."""
    from mani_skill.utils.registration import REGISTERED_ENVS

    from ahabench.task_registry import task_factory, task_spec

    mods = {task_factory(task).__module__, EXPERT_RUNNER}
    env = REGISTERED_ENVS.get(task_spec(task).env_id)
    if env is not None:
        mods |= {c.__module__ for c in inspect.getmro(env.cls)}
    return sorted(m for m in mods if m.split(".")[0] in FIRST_PARTY)


def task_code_files(task: str) -> list[Path]:
    """The repository files a task's environment and expert import (see the module docstring)."""
    return import_closure(task_root_modules(task))


def task_code_hash(task: str) -> str:
    """The code hash of ``task``: :func:`hash_files` over :func:`task_code_files` (file contents read now)."""
    return hash_files(task_code_files(task))
