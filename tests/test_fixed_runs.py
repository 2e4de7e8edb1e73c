"""Behaviour pinned byte for byte: the expert and aha-wam on three tasks, in every mode.

Each run's episodes.jsonl must equal the committed one (tests/data/fixed_runs/POLICY_MODE.jsonl) byte for byte:
success, times, every clock metric and a digest of every executed action. A refactor that changes any of it
fails here; an intended change (new task code, a new checkpoint, new clock semantics) writes them again with
`make fixed-reference` and says why in its commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ahabench.api import eval_run
from ahabench.clock.config import MODES

FIXED = Path(__file__).resolve().parent / "data" / "fixed_runs"
#: Kept equal to the Makefile's GATE_TASKS and the seed of its fixed-reference target.
TASKS = ["click_bell", "move_can_pot", "beat_block_hammer"]
SEED = 100000


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("policy", ["expert", "aha-wam"])
def test_episodes_are_byte_identical_to_the_pinned_ones(tmp_path, policy, mode):
    eval_run(policy=policy, tasks=TASKS, episodes=1, seeds={t: [SEED] for t in TASKS}, mode=mode, out=tmp_path / "r")
    got = (tmp_path / "r" / "episodes.jsonl").read_text().splitlines()
    want = (FIXED / f"{policy}_{mode}.jsonl").read_text().splitlines()
    changed = [f"{w[:60]}..." for g, w in zip(got, want) if g != w]
    assert len(got) == len(want) and not changed, (
        f"{policy} ({mode}): {len(changed)} episode(s) differ from tests/data/fixed_runs; after an intended change "
        "run `make fixed-reference`")
