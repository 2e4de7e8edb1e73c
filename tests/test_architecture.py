"""The shape of the code, checked statically: no import cycle, layers import downward, plugins through entry points.

The import graph is read from the source with ``ast`` (every ``import`` statement, including the lazy ones inside
functions, which create cycles just the same), over the modules of ``ahabench/``, ``tasks/`` and ``policies/``.
"""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from ahabench.codehash import PACKAGE_DIRS

ROOT = Path(__file__).resolve().parents[1]
#: The harness's layers, lowest first: a module may import its own layer and the ones before it, never after.
LAYERS = ("clock", "latency", "rundir", "engine", "serve", "api", "cli")
#: Modules of ahabench that may import the WAM family's code: the tools that train and time it.
WAM_TOOLS = ("ahabench.train", "ahabench.bench", "ahabench.data")
#: Files over this many lines are split (one concept per file).
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    """Module name -> file, over ahabench/ and the folders installed inside it (tasks/, policies/)."""
    mods = {}
    for pkg, folder in PACKAGE_DIRS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            mods[".".join((pkg, *parts))] = path
    return mods


def _graph() -> dict[str, set[str]]:
    mods = _modules()

    def owner(name: str) -> str | None:  # the module of ours that ``name`` lives in
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for t in targets:
                o = owner(t)
                if o is not None and o != mod:
                    graph[mod].add(o)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_cycle_finder_finds_a_planted_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def _layer(mod: str) -> int | None:
    parts = mod.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[0] == "ahabench" and parts[1] in LAYERS else None


def test_layers_import_only_downward():
    upward = [(m, t) for m, ts in _graph().items() for t in ts
              if _layer(m) is not None and _layer(t) is not None and _layer(t) > _layer(m)]
    assert upward == []


def test_the_harness_imports_no_policy():
    """Policies plug in through entry points: only the WAM tools import the family's code."""
    graph = _graph()
    bad = [(m, t) for m, ts in graph.items() if not m.startswith(("ahabench.policies", *WAM_TOOLS))
           for t in ts if t.startswith("ahabench.policies")]
    assert bad == []


def test_running_and_reporting_meet_only_in_the_run_directory():
    """Reports read run directories (ahabench.rundir) and never import the engine; the engine writes through the
    same module and never imports a report."""
    graph = _graph()
    report_to_engine = [(m, t) for m, ts in graph.items() if m.startswith("ahabench.report") for t in ts
                        if t.startswith("ahabench.engine")]
    engine_to_report = [(m, t) for m, ts in graph.items() if m.startswith("ahabench.engine") for t in ts
                        if t.startswith("ahabench.report")]
    assert report_to_engine == [] and engine_to_report == []


def test_the_harness_imports_no_task():
    """Tasks plug in through entry points too: no harness module names a task module (the registry finds them)."""
    bad = [(m, t) for m, ts in _graph().items() if not m.startswith("ahabench.tasks")
           for t in ts if t.startswith("ahabench.tasks")]
    assert bad == []


def test_tasks_and_suites_are_found_through_entry_points():
    from ahabench.task_registry import ENTRY_POINT_GROUP, SUITE_ENTRY_POINT_GROUP, suites

    declared = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert set(declared) >= {t for members in suites().values() for t in members}
    assert {ep.name for ep in entry_points(group=SUITE_ENTRY_POINT_GROUP)} >= {"robotwin", "maniskill"}
    assert all(v.startswith("ahabench.tasks.") for n, v in declared.items() if n in suites()["robotwin"])


def test_every_package_folder_is_installed_under_ahabench():
    """pyproject.toml lists the packages by hand (package-dir maps tasks/ and policies/ into ahabench)."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {m for m, p in _modules().items() if p.name == "__init__.py"}
    assert listed == folders


def test_no_generic_top_level_package_is_installed():
    """Outside the repository, ``tasks`` and ``policies`` are not importable; ``ahabench.tasks`` is."""
    import subprocess
    import sys

    code = ("import importlib.util as u\n"
            "print(u.find_spec('tasks'), u.find_spec('policies'), u.find_spec('ahabench.tasks') is not None)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd="/")
    assert res.stdout.split() == ["None", "None", "True"], res.stdout + res.stderr[-2000:]


def test_policies_are_found_through_entry_points():
    from ahabench.policy_registry import ENTRY_POINT_GROUP

    declared = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"aha-wam", "aha-wam-flash", "naive-async", "fast-wam", "expert", "hold", "remote", "openpi"} <= set(declared)
    for value in declared.values():
        assert value.startswith("ahabench.policies."), value
        assert (ROOT / "policies" / value.removeprefix("ahabench.policies.").replace(".", "/") / "__init__.py").exists()


def test_unknown_policy_names_the_known_ones():
    from ahabench.policy_registry import make_policy

    with pytest.raises(KeyError, match="unknown policy 'nope'.*aha-wam"):
        make_policy("nope")


def test_source_files_stay_under_the_size_limit():
    long = {str(p.relative_to(ROOT)): n for p in _modules().values() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_a_policy_from_another_installed_package_is_found(tmp_path, monkeypatch):
    """What `pip install` of a plugin leaves on sys.path: a module and a dist-info with the entry point."""
    import sys

    from ahabench.policy_registry import _POLICIES, make_policy, policy_names

    (tmp_path / "my_plugin.py").write_text(
        "from ahabench.policy_registry import register_policy\n"
        "from ahabench.policies.hold import HoldPolicy\n"
        "@register_policy('my-hold', 'a plugin policy')\n"
        "def make(**kw):\n    return HoldPolicy(**kw)\n")
    info = tmp_path / "my_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[ahabench.policies]\nmy-hold = my_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert "my-hold" in policy_names() and "my_plugin" not in sys.modules  # listed without importing it
        assert make_policy("my-hold", chunk_len=4, execute_len=2).spec.chunk_len == 4
    finally:
        _POLICIES.pop("my-hold", None)
        sys.modules.pop("my_plugin", None)


def test_gymnasium_makes_a_task_in_a_fresh_interpreter():
    """The install's start-up hook (ahabench-gymnasium.pth) registers lazy ids: no import before gymnasium.make,
    only the task asked for is imported, and no "Overriding environment" warning when ahabench registers it."""
    import subprocess
    import sys

    code = ("import sys, warnings\n"
            "warnings.simplefilter('error')\n"
            "import gymnasium as gym\n"
            "env = gym.make('ahabench/ClickBell-v1')\n"
            "assert 'ahabench.tasks.robotwin.lift_pot' not in sys.modules\n"
            "env2 = gym.make('ahabench/ClickBell-v1')\n"
            "from ahabench.task_registry import make_task_env\n"
            "make_task_env('lift_pot', render=False).close()\n"
            "print(type(env.unwrapped).__name__, type(env2.unwrapped).__name__,\n"
            "      gym.registry['ahabench/ClickBell-v1'].max_episode_steps)\n")  # the real spec replaced the lazy one
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd="/")
    assert res.returncode == 0 and res.stdout.split() == ["ClickBellEnv", "ClickBellEnv", "400"], res.stdout + res.stderr[-2000:]


def test_every_task_has_its_gymnasium_id_declared():
    from ahabench.gym_hook import ENTRY_POINT_GROUP
    from ahabench.task_registry import suites, task_spec

    declared = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    tasks = {ep.name: ep.value for ep in entry_points(group="ahabench.tasks")}
    shipped = [t for members in suites().values() for t in members]
    assert {task_spec(t).env_id: tasks[t] for t in shipped} == {i: m for i, m in declared.items() if m.startswith("ahabench.")}


def test_the_clock_core_stays_pure():
    """The clock imports no simulator, no torch, no numpy and never reads the wall clock (its timelines are
    hand-computable): in a fresh interpreter, importing it loads none of them."""
    import subprocess
    import sys

    code = ("import sys, ahabench.clock\n"
            "print(sorted(m for m in ('torch', 'sapien', 'mani_skill', 'numpy', 'gymnasium') if m in sys.modules))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd="/")
    assert res.stdout.strip() == "[]", res.stdout + res.stderr[-2000:]
    clock_files = [p for m, p in _modules().items() if m.startswith("ahabench.clock")]
    assert clock_files and not [p for p in clock_files if "time.time(" in p.read_text() or "perf_counter" in p.read_text()]
