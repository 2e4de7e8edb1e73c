"""The ``maniskill`` suite: ManiSkill's own asset-free Panda tasks behind ahabench's TaskEnv interface."""

from tasks.maniskill.suite import MANISKILL_TASKS, SingleArmPandaMixin, register_maniskill_tasks

register_maniskill_tasks()

__all__ = ["MANISKILL_TASKS", "SingleArmPandaMixin", "register_maniskill_tasks"]
