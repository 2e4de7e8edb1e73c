"""ahabench's shipped tasks, installed as ``ahabench.tasks``: one package per suite.

Each suite package declares ``SUITE``, its task names in order (entry points ``ahabench.suites`` in
pyproject.toml), and each task module registers its task when imported. The registry
(:mod:`ahabench.task_registry`) imports a task's module, found through the ``ahabench.tasks`` entry points, the
first time that task is asked for; importing a suite package imports no task.
"""
