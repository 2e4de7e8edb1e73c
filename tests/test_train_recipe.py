"""The campaign recipe: delta actions, per-token proprioception, shared chunk context, packed history, bf16
attention, EMA, time slices, and continuing a campaign from a packed (committable) state."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ahabench.data.dataset import DemoDataset, SampleConfig
from ahabench.policies.wam.config import make_config
from ahabench.policies.wam.layers import attend
from ahabench.policies.wam.normalize import GRIPPER_DIMS, from_delta, to_delta
from ahabench.policies.wam.synthetic import synthetic_batch
from ahabench.policies.wam.video_dit import frame_mask
from ahabench.policies.wam.wam import WAM
from ahabench.train.loop import EMA, LoopConfig, lr_at, read_loss_log, run_loop
from ahabench.train.recipe import RECIPES, get_recipe
from test_dataset import _ramp_episode

torch.set_num_threads(1)


def test_delta_round_trip_keeps_grippers_absolute():
    rng = np.random.default_rng(0)
    a, q = rng.standard_normal((5, 16)).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    d = to_delta(a, q)
    np.testing.assert_allclose(d[:, list(GRIPPER_DIMS)], a[:, list(GRIPPER_DIMS)])
    np.testing.assert_allclose(d[:, 0], a[:, 0] - q[0], rtol=1e-6)
    np.testing.assert_allclose(from_delta(d, q), a, rtol=1e-6, atol=1e-6)


def test_delta_samples_are_relative_to_their_chunk_start():
    ep = _ramp_episode(200)  # action at step t is t, qpos at step t is t + 0.5 (every dim)
    ds = DemoDataset([ep], SampleConfig(action_space="delta", offset_training=False))
    s = ds.sample_at(0, 40, 0)
    raw = ds.stats.denorm_delta(s["actions"])  # (64, 16)
    for j in range(4):  # chunk j starts at 40 + 16 j: its i-th target is (40 + 16 j + i) - (40 + 16 j + 0.5)
        np.testing.assert_allclose(raw[16 * j: 16 * j + 16, 0], np.arange(16) - 0.5, atol=1e-4)
    np.testing.assert_allclose(raw[:16, 7], 40 + np.arange(16), atol=1e-3)  # a gripper stays absolute
    with pytest.raises(ValueError, match="action_space"):
        SampleConfig(action_space="velocity")


def test_shared_text_context_equals_the_per_chunk_projection():
    model = WAM(make_config("tiny", "aha", proprio_tokens=True)).eval()
    text = model.encode_text(["pick it", "place it"])
    proprio = torch.randn(8, 16)
    with torch.no_grad():
        shared = model.action.context(text.tokens, text.mask, proprio)  # 4 chunks per sample
        rows = model.action.context(text.tokens.repeat_interleave(4, 0), text.mask.repeat_interleave(4, 0), proprio)
    for (k1, v1), (k2, v2) in zip(shared.kv, rows.kv):
        torch.testing.assert_close(k1, k2)
        torch.testing.assert_close(v1, v2)
    assert torch.equal(shared.mask, rows.mask) and shared.token_bias.shape == (8, model.cfg.action_dim_model)


def test_proprio_tokens_make_every_action_token_see_the_arm():
    torch.manual_seed(0)
    model = WAM(make_config("tiny", "naive_async", proprio_tokens=True)).eval()
    with torch.no_grad():
        model.action.proprio_tokens.weight.normal_(0, 1.0)  # a trained-looking embedding
    text = model.encode_text(["x"])
    x, s, pos, f = torch.randn(1, 16, 16), torch.tensor([0.5]), torch.arange(16)[None], torch.tensor([3])
    outs = []
    for q in (torch.zeros(1, 16), torch.ones(1, 16)):
        with torch.no_grad():
            outs.append(model.action(x, s, pos, f, None, model.action.context(text.tokens, text.mask, q)))
    assert (outs[0] - outs[1]).abs().amax(-1).min() > 1e-4  # every token's output moved


def test_packed_history_equals_the_full_masked_pass():
    torch.manual_seed(0)
    model = WAM(make_config("tiny", "aha")).eval()
    batch = synthetic_batch(model.cfg, 5)
    batch["history_mask"] = torch.stack([torch.arange(6) >= 6 - k for k in (0, 1, 3, 6, 3)])
    text = model.encode_text(list(batch["instruction"]))
    fidx = batch["frame_index"].long()
    kv, valid = model._history_prefix(batch, text, fidx)
    tok = model.patchify(batch["history_latents"])
    b, p, t, _ = tok.shape
    hidx = fidx[:, None] - 8 * torch.arange(p, 0, -1)
    own = torch.eye(p, dtype=torch.bool).repeat_interleave(t, 0).repeat_interleave(t, 1)
    mask = frame_mask(p, t, "block_causal") & (valid.repeat_interleave(t, 1)[:, None, None, :] | own)
    with torch.no_grad():
        _, ref = model.video(tok, torch.zeros(b, p), hidx, text.tokens, text.mask, None, mask, return_velocity=False)
    keep = valid.repeat_interleave(t, 1)[:, None, :, None]
    for (k, _), (kr, _) in zip(kv, ref):
        torch.testing.assert_close(k * keep, kr * keep, atol=2e-5, rtol=0)
    bad = dict(batch, history_mask=torch.tensor([[True, False, False, False, False, True]] * 5))
    with pytest.raises(ValueError, match="suffix"):
        model._history_prefix(bad, text, fidx)


def test_bf16_attention_path_matches_the_fused_kernel():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 4, 30, 32, generator=g) for _ in range(3))
    mask = torch.rand(2, 1, 30, 30, generator=g) > 0.3
    mask[..., 0] = True
    ref = attend(q, k, v, mask)
    out = attend(q.bfloat16(), k.bfloat16(), v.bfloat16(), mask).float()
    torch.testing.assert_close(out, ref, atol=5e-2, rtol=5e-2)


def test_recipes_and_their_errors():
    assert RECIPES["paper"].action_space == "absolute" and RECIPES["paper"].autocast == "off"
    assert get_recipe("v2", ema_decay=0.0).ema_decay == 0.0
    with pytest.raises(ValueError, match="'nope'"):
        get_recipe("nope")
    with pytest.raises(ValueError, match="colour"):
        get_recipe("v2", colour=1)
    with pytest.raises(ValueError, match="'fp8'"):
        get_recipe("v2", autocast="fp8")
    assert lr_at(10_000, LoopConfig(steps=100, lr=1.0, schedule="constant")) == 1.0


def _quadratic():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)

    def loss_fn(rng: np.random.Generator):
        x = torch.from_numpy(rng.standard_normal((4, 3)).astype(np.float32))
        return (model(x) - x.sum(1, keepdim=True)).pow(2).mean(), {}

    return model, loss_fn


def test_ema_is_what_the_checkpoint_sees_and_what_the_model_ends_with(tmp_path: Path):
    model, loss_fn = _quadratic()
    seen = []
    res = run_loop("q", model, loss_fn, LoopConfig(steps=20, lr=0.1, ema_decay=0.9, ckpt_every=20), tmp_path,
                   on_checkpoint=lambda s: seen.append(model.weight.detach().clone()))
    state = torch.load(tmp_path / "train_state.pt", weights_only=False)
    shadow = state["ema"]["shadow"]["weight"]
    torch.testing.assert_close(seen[0], shadow)
    torch.testing.assert_close(model.weight.detach(), shadow)
    assert not torch.allclose(state["model"]["weight"], shadow)  # the raw weights are kept for resuming
    assert res.finished
    ema = EMA(model, 0.999)
    assert ema.state_dict()["updates"] == 0


def test_max_seconds_stops_cleanly_and_resume_finishes(tmp_path: Path):
    model, loss_fn = _quadratic()
    res = run_loop("q", model, loss_fn, LoopConfig(steps=50, lr=0.1, max_seconds=0.0, log_every=1), tmp_path)
    assert not res.finished and [r["step"] for r in read_loss_log(tmp_path)] == [1]
    model2, loss_fn2 = _quadratic()
    res2 = run_loop("q", model2, loss_fn2, LoopConfig(steps=50, lr=0.1, log_every=1), tmp_path, resume=True)
    assert res2.finished and res2.resumed_from == 1


@pytest.mark.slow
def test_campaign_continues_from_a_packed_checkpoint(tmp_path: Path):
    from ahabench.data.collect import collect_demos
    from ahabench.train import train_policy
    from ahabench.train.campaign import PACKED, packed_step
    from test_collect import register_fake_task

    task = register_fake_task()
    collect_demos([task], 2, "clean", tmp_path / "demos")
    kw = dict(tokenizer_steps=2, batch_size=2, threads=1, recipe="v2")
    s1 = train_policy("aha-wam", [task], "tiny", 4, tmp_path / "a", tmp_path / "demos", False, 0, **kw)
    ck = tmp_path / "a" / "checkpoint"
    assert s1.finished and packed_step(ck) == 4 and (ck / PACKED).stat().st_size < 40e6
    cfg = json.loads((ck / "config.json").read_text())
    assert cfg["model"]["action_space"] == "delta" and cfg["recipe"]["name"] == "v2"
    assert not any(str(tmp_path) in json.dumps(v) for v in cfg.values())  # no machine path in the checkpoint
    # another machine: only the committed folder and the demos; the campaign goes on from step 4
    s2 = train_policy("aha-wam", [task], "tiny", 6, tmp_path / "b", tmp_path / "demos", False, 0,
                      continue_from=ck, **kw)
    assert s2.stages["wam"]["resumed_from"] == 4 and s2.wam_step == 6
    steps = [r["step"] for r in read_loss_log(tmp_path / "b" / "wam")]
    assert steps[0] == 1 and steps[-1] == 6 and len(steps) == len(set(steps))
    assert s2.stages["tokenizer"] == {"skipped": "already trained"}


def test_train_bench_times_each_recipe_and_its_parts(tmp_path: Path):
    import pandas as pd

    from ahabench.bench.train_bench import TRAIN_COLUMNS, bench_training

    df = bench_training(tmp_path, policies=("aha-wam",), steps=1, warmup=0)
    assert list(df.columns) == TRAIN_COLUMNS and list(df.recipe) == ["paper", "v2"]
    paper = df[df.recipe == "paper"].iloc[0]
    assert paper.x_paper == 1.0 and paper.history_ms > 0 and paper.action_ms > 0 and paper.backward_ms > 0
    assert paper.step_ms >= paper.backward_ms and df.samples_per_s.gt(0).all()
    assert list(pd.read_csv(tmp_path / "train.csv").recipe) == ["paper", "v2"]
