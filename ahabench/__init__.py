"""ahabench: evaluate world-action-model robot policies on a deterministic simulated clock.

The library API lives in :mod:`ahabench.api`; the ``ahabench`` command is a thin Typer layer over it.
"""

__version__ = "0.1.0"
