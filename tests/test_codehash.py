"""A task's code hash covers what its env and expert import (computed by following imports), and nothing else."""

from __future__ import annotations

import pytest

from ahabench.codehash import (
    REPO_ROOT,
    hash_files,
    import_closure,
    imported_modules,
    module_file,
    task_code_files,
    task_code_hash,
    task_root_modules,
)
from ahabench.task_registry import suites


def rel(task: str) -> set[str]:
    return {f.relative_to(REPO_ROOT).as_posix() for f in task_code_files(task)}


@pytest.mark.parametrize("task, needs", [
    ("click_bell", "tasks/robotwin/bell.py"),
    ("click_bell", "tasks/robotwin/shapes.py"),  # through bell.py
    ("handover_block", "tasks/robotwin/objects.py"),
    ("beat_block_hammer", "tasks/robotwin/objects.py"),
    ("move_can_pot", "tasks/robotwin/objects.py"),
    ("blocks_ranking_rgb", "tasks/robotwin/blocks.py"),
    ("blocks_ranking_size", "tasks/robotwin/blocks.py"),
    ("PlugCharger", "tasks/maniskill/__init__.py"),  # the suite package, imported first
    ("PlugCharger", "tasks/maniskill/experts.py"),
    ("PickCube", "ahabench/experts/evaluate.py"),
    ("stack_blocks_three", "ahabench/experts/planner.py"),  # through the ahabench.experts package
])
def test_closure_holds_the_modules_a_task_and_its_expert_import(task, needs):
    assert needs in rel(task)


def test_closure_is_the_task_not_the_harness():
    files = rel("click_bell")
    assert "tasks/robotwin/click_bell.py" in files and "ahabench/envs/base.py" in files
    assert "tasks/robotwin/objects_c.py" not in files and "tasks/robotwin/lift_pot.py" not in files
    assert not any(f.startswith(("ahabench/engine/", "ahabench/report/", "policies/")) for f in files)
    assert "ahabench/cli.py" not in files and "ahabench/experts/success_table.py" not in files


def test_every_first_party_import_of_every_task_module_is_covered():
    for task in [t for s in suites().values() for t in s]:
        files = set(task_code_files(task))
        for mod in task_root_modules(task):
            f = module_file(mod)
            assert f in files
            for dep in imported_modules(f, mod):
                assert module_file(dep) in files, f"{task}: {mod} imports {dep}, missing from its code hash"


def test_hash_is_per_task_and_stable():
    assert task_code_hash("click_bell") == task_code_hash("click_bell")
    assert task_code_hash("click_bell") != task_code_hash("beat_block_hammer")
    assert len(task_code_hash("PickCube")) == 16


def test_closure_follows_lazy_and_relative_imports_and_the_hash_sees_every_byte(tmp_path):
    pkg = tmp_path / "ahabench"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import os\n")
    (pkg / "t.py").write_text("def f():\n    from ahabench.helper import x\n    return x\n")
    (pkg / "helper.py").write_text("from . import other\nimport numpy\nx = 1\n")
    (pkg / "other.py").write_text("y = 2\n")
    (pkg / "unused.py").write_text("z = 3\n")
    files = import_closure(["ahabench.t"], root=tmp_path)
    assert [f.name for f in files] == ["__init__.py", "helper.py", "other.py", "t.py"]
    before = hash_files(files, root=tmp_path)
    (pkg / "other.py").write_text("y = 3\n")
    assert hash_files(files, root=tmp_path) != before
