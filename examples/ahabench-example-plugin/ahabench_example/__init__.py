"""An ahabench plugin package: the task ``example_point_reach`` and the policy ``example-pointer``.

Importing this package registers nothing: ahabench imports :mod:`ahabench_example.point_reach` or
:mod:`ahabench_example.pointer` through the entry points in pyproject.toml, only when asked for that task or policy.
"""
