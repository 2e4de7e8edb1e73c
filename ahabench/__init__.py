"""ahabench: evaluate world-action-model robot policies on a deterministic simulated clock.

The library API lives in :mod:`ahabench.api`; the ``ahabench`` command is a thin Typer layer over it.
"""

import os

# ManiSkill asks on stdin before downloading assets; ahabench only uses tasks that need none.
os.environ.setdefault("MS_SKIP_ASSET_DOWNLOAD_PROMPT", "1")

__version__ = "0.1.0"
