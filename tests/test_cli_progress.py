"""Plain progress lines where rich draws nothing (stderr not a terminal): moves, completion, heartbeat, ETA."""

from __future__ import annotations

import io
import time

from ahabench.cli_progress import PlainProgress, progress_ctx


def test_lines_on_progress_completion_and_heartbeat():
    out = io.StringIO()
    with PlainProgress(out, heartbeat_s=0.5, min_line_s=0.0) as bar:
        tid = bar.add_task("eval aha-wam (async)", total=4, status="")
        bar.update(tid, completed=1, status="click_bell seed 1 [green]ok[/green]  success so far 1/1")
        time.sleep(1.6)  # no news: the heartbeat repeats the bar
        bar.update(tid, completed=4, status="done")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("eval aha-wam (async): 1/4  click_bell seed 1 ok  success so far 1/1 [0:0")
    assert "ETA" in lines[0] and "[green]" not in lines[0]
    assert any(line.startswith("eval aha-wam (async): 1/4") for line in lines[1:-1])  # a heartbeat
    assert lines[-1].startswith("eval aha-wam (async): 4/4  done") and "ETA" not in lines[-1]


def test_heartbeat_before_any_bar_and_no_lines_between_throttled_updates():
    out = io.StringIO()
    with PlainProgress(out, heartbeat_s=0.3, min_line_s=60.0) as bar:
        time.sleep(1.5)
        tid = bar.add_task("collect", total=100)
        for i in range(1, 50):
            bar.update(tid, completed=i)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("working... [0:0")
    assert sum(line.startswith("collect") for line in lines) == 1  # the first update only, then throttled


def test_rich_bars_on_a_terminal_plain_lines_elsewhere():
    from rich.console import Console
    from rich.progress import Progress

    assert isinstance(progress_ctx(Console(file=io.StringIO(), force_terminal=True)), Progress)
    assert isinstance(progress_ctx(Console(file=io.StringIO())), PlainProgress)
