"""cost.py: analytic FLOPs match a measured count of the real modules; bytes and scaling are sane."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from ahabench.policies.wam import action_dit, layers, ovcr, text, video_dit
from ahabench.policies.wam.config import make_config
from ahabench.policies.wam.cost import call_breakdown, call_cost
from ahabench.policies.wam.memory import PlannerMemory
from ahabench.policies.wam.wam import WAM, parameter_counts
from ahabench.policy import CallCost

torch.set_num_threads(1)


def _math_attend(q, k, v, mask=None):
    """Attention as plain matmuls, so FlopCounterMode counts it (CPU SDPA kernels are not counted)."""
    logits = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
    if mask is not None:
        logits = logits.masked_fill(~mask, float("-inf"))
    return torch.softmax(logits, -1) @ v


@pytest.fixture
def counted(monkeypatch):
    for mod in (layers, video_dit, action_dit, ovcr, text):
        monkeypatch.setattr(mod, "attend", _math_attend)


def _measure(fn) -> float:
    with FlopCounterMode(display=False) as fc:
        fn()
    return float(fc.get_total_flops())


@pytest.mark.parametrize("variant", ["aha", "fast"])
def test_analytic_flops_match_measured(counted, variant):
    cfg = make_config("tiny", variant)
    model = WAM(cfg).eval().requires_grad_(False)
    txt = model.encode_text(["stack the blocks"])
    mosaic = torch.randint(0, 256, (1, 96, 80, 3), dtype=torch.uint8)
    lat = model.encode_obs(mosaic)
    memory = PlannerMemory(cfg.memory_frames)
    for i in range(cfg.memory_frames):
        model.prefill(lat, txt, memory, i)
    measured = {"encode": _measure(lambda: model.encode_obs(mosaic))}
    predicted = {"encode": call_cost(cfg, "encode").flops}
    if variant == "aha":
        ctx = model.prefill(lat, txt, memory, 7, push=False)
        measured["prefill"] = measured["encode"] + _measure(lambda: model.prefill(lat, txt, memory, 7, push=False))
        measured["chunk"] = measured["encode"] + _measure(
            lambda: model.sample_chunk(ctx, lat, torch.zeros(1, 16), txt, 3, steps=10))
        predicted |= {c: call_cost(cfg, c, steps=10).flops for c in ("prefill", "chunk")}
    else:
        measured["fast_call"] = measured["encode"] + _measure(
            lambda: model.fast_call(lat, torch.zeros(1, 16), txt, 7, steps=10))
        predicted["fast_call"] = call_cost(cfg, "fast_call", steps=10).flops
    for call, flops in measured.items():
        assert predicted[call] == pytest.approx(flops, rel=0.03), (call, predicted[call], flops)


def test_chunk_cost_scales_with_steps_and_bytes_cover_weights():
    cfg = make_config("paper")
    counts = parameter_counts(cfg)
    c1, c10 = call_cost(cfg, "chunk", steps=1), call_cost(cfg, "chunk", steps=10)
    assert isinstance(c10, CallCost)
    step = call_breakdown(cfg, "chunk", steps=1)["action_flops"]
    assert c10.flops - c1.flops == pytest.approx(9 * step)
    # bf16 weights: the action DiT is re-read at every step, the OVCR once per chunk
    assert c10.bytes > 2 * (10 * counts["action_dit"] + counts["ovcr"])
    prefill = call_cost(cfg, "prefill")
    assert prefill.bytes > 2 * counts["video_dit"]
    # the memory makes a prefill costlier than a memory-less one
    assert prefill.flops > call_cost(cfg, "prefill", memory_frames=0).flops
    # about 2 FLOPs per parameter per token: the paper action DiT at 16 tokens is ~33 GFLOP per step
    assert 25e9 < step < 60e9
    with pytest.raises(ValueError, match="bogus"):
        call_cost(cfg, "bogus")
