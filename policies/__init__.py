"""Shipped policies. Importing this package registers each of them by name (see ahabench.policy)."""

# Registration side effects; the WAM family (aha_wam, aha_wam_flash, fast_wam, naive_async) keeps its checkpoint in
# each folder.
from policies import aha_wam, aha_wam_flash, expert, fast_wam, hold, naive_async  # noqa: F401
