"""RoboTwin-like dual-arm tasks; each module registers its task on import (see tasks/__init__.py)."""
