"""The ``maniskill`` suite: ManiSkill's own asset-free Panda tasks behind ahabench's TaskEnv interface.

Importing :mod:`ahabench.tasks.maniskill.suite` registers all seven; this package only declares their order.
"""

SUITE: tuple[str, ...] = ("PickCube", "StackCube", "PushCube", "PullCube", "LiftPegUpright", "PegInsertionSide",
                          "PlugCharger")
