"""Progress for long commands: rich bars on a terminal, plain lines elsewhere (CI logs, ``| tee``, notebooks).

rich draws nothing on a stream that is not a terminal until the command ends, so there :class:`PlainProgress`
takes its place with the same calls (``add_task``, ``update``, used as a context manager): a line per bar when it
moves on (at most every :data:`MIN_LINE_S`), when it completes, and a heartbeat every :data:`HEARTBEAT_S` whatever
happens, with done / total, the bar's status, elapsed time and an ETA. A command is never silent for longer.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

#: Longest silence of a plain progress stream (seconds).
HEARTBEAT_S = 30.0
#: Shortest gap between two lines of one bar, except for its last (seconds).
MIN_LINE_S = 10.0


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


@dataclass
class _Bar:
    description: str
    total: float | None
    completed: float = 0.0
    status: str = ""
    started: float = field(default_factory=time.monotonic)
    last_line: float = 0.0


class PlainProgress:
    """rich.progress.Progress's ``add_task`` / ``update`` as plain, timestamped-by-elapsed lines on ``stream``."""

    def __init__(self, stream: TextIO | None = None, heartbeat_s: float = HEARTBEAT_S, min_line_s: float = MIN_LINE_S):
        self.stream = stream or sys.stderr
        self.heartbeat_s, self.min_line_s = heartbeat_s, min_line_s
        self.bars: dict[int, _Bar] = {}
        self.t0 = time.monotonic()
        self._last_any = self.t0
        # a bar's clock starts when the previous one finished (or the command started): callers often add a bar
        # only at its first step, and the work before that step is part of it
        self._last_done = self.t0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._heartbeat, daemon=True)

    def __enter__(self) -> PlainProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=1)

    def add_task(self, description: str, total: float | None = None, **fields: Any) -> int:
        with self._lock:
            tid = len(self.bars)
            self.bars[tid] = _Bar(description, total, status=self._plain(fields.get("status", "")), started=self._last_done)
        return tid

    def update(self, task_id: int, *, completed: float | None = None, advance: float | None = None,
               total: float | None = None, **fields: Any) -> None:
        with self._lock:
            bar = self.bars[task_id]
            if total is not None:
                bar.total = total
            if completed is not None:
                bar.completed = completed
            if advance is not None:
                bar.completed += advance
            if "status" in fields:
                bar.status = self._plain(fields["status"])
            now = time.monotonic()
            finished = bar.total is not None and bar.completed >= bar.total
            if finished:
                self._last_done = now
            if finished or now - bar.last_line >= self.min_line_s:
                self._line(bar, now)

    @staticmethod
    def _plain(text: Any) -> str:
        from rich.text import Text

        return Text.from_markup(str(text)).plain if text else ""

    def _line(self, bar: _Bar, now: float) -> None:
        elapsed = now - bar.started
        done = f"{bar.completed:g}/{bar.total:g}" if bar.total else f"{bar.completed:g}"
        eta = ""
        if bar.total and 0 < bar.completed < bar.total:
            eta = f", ETA {_clock(elapsed / bar.completed * (bar.total - bar.completed))}"
        status = f"  {bar.status}" if bar.status else ""
        print(f"{bar.description}: {done}{status} [{_clock(elapsed)} elapsed{eta}]", file=self.stream, flush=True)
        bar.last_line = self._last_any = now

    def _heartbeat(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                now = time.monotonic()
                if now - self._last_any < self.heartbeat_s:
                    continue
                open_bars = [b for b in self.bars.values() if b.total is None or b.completed < b.total]
                if open_bars:
                    for bar in open_bars:
                        self._line(bar, now)
                else:
                    print(f"working... [{_clock(now - self.t0)} elapsed]", file=self.stream, flush=True)
                    self._last_any = now


def progress_ctx(console: Any) -> Any:
    """A progress display for ``console``: rich bars on a terminal, :class:`PlainProgress` lines otherwise."""
    if not console.is_terminal:
        return PlainProgress(console.file)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=console, transient=False)


__all__ = ["HEARTBEAT_S", "MIN_LINE_S", "PlainProgress", "progress_ctx"]
