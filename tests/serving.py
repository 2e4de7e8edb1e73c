"""Test helpers for policy servers: start one in a subprocess on 127.0.0.1, read its URL, stop it afterwards.

Also registers ``h10_bounded_reach``: the engine tests' fake reach task with joint bounds, so a served reply out of
range is caught as it is on a real robot task, without physics.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from ahabench.task_registry import _TASKS, register_task
from ahabench.types import EpisodeInfo
from test_run import FAKE_SPEC, FakeReachEnv

HERE = Path(__file__).resolve().parent
SCRIPTED_SERVER = HERE / "servers" / "scripted_server.py"
AHABENCH = Path(sys.executable).with_name("ahabench")
BOUNDED_TASK = "h10_bounded_reach"
#: Seconds a server may take to print its URL (a WAM policy loads torch and its checkpoint first).
START_TIMEOUT_S = 120.0


class BoundedReachEnv(FakeReachEnv):
    """The fake reach task, with the joint bounds a robot task has (|q| <= 1.5)."""

    spec = replace(FAKE_SPEC, name=BOUNDED_TASK)
    action_low = np.full(2, -1.5, np.float32)
    action_high = np.full(2, 1.5, np.float32)

    def reset(self, seed: int, setting: str = "clean", unseen_instructions: bool = True) -> EpisodeInfo:
        return replace(super().reset(seed, setting, unseen_instructions), task=BOUNDED_TASK)


if BOUNDED_TASK not in _TASKS:
    register_task(BoundedReachEnv.spec, BoundedReachEnv)


@contextmanager
def running(cmd: list[str], timeout_s: float = START_TIMEOUT_S) -> Iterator[tuple[subprocess.Popen, str]]:
    """Start ``cmd`` (a server printing ``... ws://HOST:PORT ...`` on stdout); yield (process, url); stop it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    proc.stdout_lines = []  # type: ignore[attr-defined]  # everything it printed, for the tests that read on

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
            proc.stdout_lines.append(line)  # type: ignore[attr-defined]

    proc.pump = threading.Thread(target=pump, daemon=True)  # type: ignore[attr-defined]
    proc.pump.start()  # type: ignore[attr-defined]
    try:
        while True:
            try:
                line = lines.get(timeout=timeout_s)
            except queue.Empty:
                raise TimeoutError(f"{cmd} printed no URL within {timeout_s} s") from None
            if "ws://" in line:
                url = "ws://" + line.split("ws://", 1)[1].split()[0]
                break
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def scripted(protocol: str, *extra: str) -> list[str]:
    return [sys.executable, str(SCRIPTED_SERVER), "--protocol", protocol, *extra]


def ahabench_serve(*args: str) -> list[str]:
    return [str(AHABENCH), "serve", "--port", "0", *args]
