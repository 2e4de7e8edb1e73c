"""Shipped policies, one folder each. They are found through the ``ahabench.policies`` entry points in
pyproject.toml (see ahabench.policy_registry): importing this package registers nothing."""
