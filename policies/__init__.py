"""Shipped policies. Importing this package registers each of them by name (see ahabench.policy)."""

from policies import expert, hold  # noqa: F401  (registration side effects)
from policies import aha_wam, aha_wam_flash, fast_wam, naive_async  # noqa: F401  (WAM family; checkpoints in each folder)
