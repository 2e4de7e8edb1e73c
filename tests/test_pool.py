"""The shared process pool (ahabench.pool): results, job errors, a worker that dies, progress polling."""

from __future__ import annotations

import os

import pytest

from ahabench.pool import run_jobs


def square_or_fail(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    if x == 5:
        os._exit(1)  # a simulator segfault, as far as the pool can tell
    return x * x


def threads_seen(_x: int) -> str:
    return os.environ.get("OMP_NUM_THREADS", "")


def test_results_errors_and_a_dead_worker_each_reach_their_callback():
    results, errors, lost, polls = {}, {}, [], []
    run_jobs(square_or_fail, list(range(8)), 2, lambda j, r: results.__setitem__(j, r),
             on_error=lambda j, e: errors.__setitem__(j, str(e)), on_lost=lambda j, e: lost.append(j),
             poll=lambda: polls.append(1))
    assert results == {x: x * x for x in range(8) if x not in (3, 5)}
    assert errors == {3: "three"}
    assert lost == [5]  # only the job that killed its worker is lost; the others it took down ran again
    assert polls  # progress was polled while waiting


def test_an_error_propagates_without_a_handler_and_workers_get_one_thread():
    with pytest.raises(ValueError, match="three"):
        run_jobs(square_or_fail, [1, 3], 2, lambda j, r: None)
    seen = []
    run_jobs(threads_seen, [0, 1], 2, lambda j, r: seen.append(r))
    assert seen == ["1", "1"]
