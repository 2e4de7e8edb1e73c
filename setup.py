"""Build hooks only; the project is described in pyproject.toml.

Installs ``ahabench-gymnasium.pth`` beside the packages, in wheels and in editable installs alike: its line runs
:func:`ahabench.gym_hook.install` at interpreter start-up, so ``gymnasium.make("ahabench/...")`` works with nothing
imported first (gymnasium 1.x has no plugin entry points any more).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

PTH_NAME = "ahabench-gymnasium.pth"
PTH_LINE = "import ahabench.gym_hook; ahabench.gym_hook.install()\n"


class BuildPyWithPth(build_py):
    """A wheel: the .pth goes to the root of build_lib, which becomes site-packages."""

    def run(self) -> None:
        super().run()
        Path(self.build_lib, PTH_NAME).write_text(PTH_LINE)


class EditableWheelWithPth(editable_wheel):
    """An editable install (`pip install -e .`, what `make setup` runs): the .pth goes to the root of the
    unpacked editable wheel, beside setuptools' own finder .pth, so the wheel's RECORD lists it."""

    def _run_build_commands(self, dist_name, unpacked_wheel, build_lib, tmp_dir):  # type: ignore[no-untyped-def]
        out = super()._run_build_commands(dist_name, unpacked_wheel, build_lib, tmp_dir)
        Path(unpacked_wheel, PTH_NAME).write_text(PTH_LINE)
        return out


setup(cmdclass={"build_py": BuildPyWithPth, "editable_wheel": EditableWheelWithPth})
