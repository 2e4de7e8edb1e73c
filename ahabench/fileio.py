"""Atomic file writes: the one place that writes a file through a temporary sibling and a rename.

A reader (or a resumed run after a crash) sees either the old file or the new one, never half of one. Stdlib
only, so every layer can use it: run directories (:mod:`ahabench.rundir`), reports, the seed cache, demo
sidecars and training checkpoints.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write (by any writer: ``torch.save``, ``save_file``, ...); when
    the block ends without an exception, rename it onto ``path`` (atomic on POSIX), otherwise remove it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, fsynced before the rename."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
