"""WAM model: shapes, attention structure, memory consistency, OVCR identity, offsets, training, sizes."""

from __future__ import annotations

import pytest
import torch

from ahabench.policies.wam.config import PAPER_PARAM_COUNTS, make_config
from ahabench.policies.wam.memory import PlannerContext, PlannerMemory
from ahabench.policies.wam.synthetic import synthetic_batch
from ahabench.policies.wam.wam import WAM, parameter_counts

torch.set_num_threads(1)


def _model(variant: str = "aha", seed: int = 0, **overrides) -> WAM:
    """A tiny model whose adaLN gates are O(1): at the default init they are ~1e-3, which would make
    leaks through attention too small for the structure tests to see."""
    torch.manual_seed(seed)
    model = WAM(make_config("tiny", variant, **overrides)).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("modulation"):
                p.normal_(0.0, 0.5)
    return model


def _loss(model: WAM, batch: dict, seed: int = 1) -> dict[str, float]:
    with torch.no_grad():
        _, stats = model.training_loss(batch, torch.Generator().manual_seed(seed))
    return stats


def test_shapes_and_runtime_calls():
    model = _model()
    cfg = model.cfg
    batch = synthetic_batch(cfg, 2)
    loss, stats = model.training_loss(batch, torch.Generator().manual_seed(0))
    loss.backward()
    assert torch.isfinite(loss) and set(stats) >= {"loss_action", "loss_video"}
    text = model.encode_text(["stack the blocks"])
    mosaic = torch.randint(0, 256, (96, 80, 3), dtype=torch.uint8)
    lat = model.encode_obs(mosaic)
    assert lat.shape == (cfg.latent_channels, 12, 10)
    memory = PlannerMemory(cfg.memory_frames)
    ctx = model.prefill(lat[None], text, memory, frame_index=5, obs_tick=40)
    assert ctx.n_layers == cfg.n_layers and len(memory) == 1 and ctx.obs_tick == 40
    for k, v in ctx.kv:
        assert k.shape == v.shape == (1, cfg.n_heads, cfg.tokens_per_frame, cfg.head_dim)
    acts = model.sample_chunk(ctx, lat[None], torch.zeros(1, 16), text, phase_offset=3, steps=4)
    assert acts.shape == (1, 16, 16) and torch.isfinite(acts).all()
    fast = _model("fast")
    acts = fast.fast_call(lat[None], torch.zeros(1, 16), fast.encode_text(["x"]), frame_index=5, steps=2)
    assert acts.shape == (1, 32, 16)
    # patchify is a bijection on the latent grid
    assert torch.equal(model.unpatchify(model.patchify(batch["video_latents"])), batch["video_latents"])


@pytest.mark.parametrize("variant", ["aha", "fast"])
def test_future_video_frames_invisible_to_actions(variant):
    model = _model(variant)
    batch = synthetic_batch(model.cfg, 2)
    base = _loss(model, batch)
    future = dict(batch)
    future["video_latents"] = batch["video_latents"].clone()
    future["video_latents"][:, 1:] += 3.0 * torch.randn_like(batch["video_latents"][:, 1:])
    pert = _loss(model, future)
    assert pert["loss_action"] == pytest.approx(base["loss_action"], rel=1e-6, abs=1e-7)
    assert abs(pert["loss_video"] - base["loss_video"]) > 1e-3  # the perturbation is real
    # ... while the current frame does reach the actions
    cur = dict(batch)
    cur["video_latents"] = batch["video_latents"].clone()
    cur["video_latents"][:, 0] += 1.0
    assert abs(_loss(model, cur)["loss_action"] - base["loss_action"]) > 1e-6


def test_video_never_sees_actions():
    model = _model()
    batch = synthetic_batch(model.cfg, 2)
    base = _loss(model, batch)
    pert = dict(batch)
    pert["actions"] = batch["actions"] + 2.0
    pert["proprio"] = batch["proprio"] - 1.0
    pert["chunk_obs_latents"] = batch["chunk_obs_latents"] * -1.0
    pert["delta"] = (batch["delta"] + 5) % 16
    out = _loss(model, pert)
    assert out["loss_video"] == pytest.approx(base["loss_video"], rel=1e-6, abs=1e-7)
    assert abs(out["loss_action"] - base["loss_action"]) > 1e-3


def test_chunks_do_not_attend_across_chunks():
    model = _model()
    batch = synthetic_batch(model.cfg, 1)
    text = model.encode_text(batch["instruction"])
    fidx = batch["frame_index"]
    with torch.no_grad():
        cb = model.fold_chunks(batch, model.frame0_kv(batch, text, fidx), text, fidx)
        s = torch.full((cb.actions.shape[0],), 0.5)
        v = model.action(cb.actions, s, cb.steps, cb.frame_index, cb.kv, cb.context)
        x2 = cb.actions.clone()
        x2[2] += 5.0  # perturb chunk 2 only
        v2 = model.action(x2, s, cb.steps, cb.frame_index, cb.kv, cb.context)
    assert torch.allclose(v2[[0, 1, 3]], v[[0, 1, 3]], atol=1e-6)
    assert not torch.allclose(v2[2], v[2], atol=1e-3)


def test_untrained_ovcr_is_identity_and_never_overwrites_the_cache():
    model = _model()
    cfg = model.cfg
    text = model.encode_text(["x"])
    ctx = model.prefill(torch.randn(1, cfg.latent_channels, 12, 10), text, None, 3)
    obs = model.patchify(torch.randn(1, cfg.latent_channels, 12, 10))
    with torch.no_grad():
        edited = model.ovcr(obs, list(ctx.kv))
    for (k0, v0), (k1, v1) in zip(ctx.kv, edited):
        assert torch.equal(k0, k1) and torch.equal(v0, v1)
    assert torch.allclose(model.ovcr.gates(), torch.sigmoid(torch.tensor(-4.0)))
    saved = [(k.clone(), v.clone()) for k, v in ctx.kv]
    with torch.no_grad():
        for ed in model.ovcr.editors:
            ed.fc2.weight.normal_(std=0.5)
        edited = model.ovcr(obs, list(ctx.kv))
    assert not torch.allclose(edited[0][0], ctx.kv[0][0])
    for (k0, v0), (ks, vs) in zip(ctx.kv, saved):
        assert torch.equal(k0, ks) and torch.equal(v0, vs)


def _ctx(i: int) -> PlannerContext:
    kv = tuple((torch.full((1, 2, 3, 4), float(i)), torch.full((1, 2, 3, 4), -float(i))) for _ in range(2))
    return PlannerContext(kv, torch.tensor([i]), obs_tick=8 * i)


def test_memory_fifo_keeps_last_six_in_order():
    memory = PlannerMemory(6)
    assert memory.prefix() is None
    for i in range(9):
        memory.push(_ctx(i))
    assert len(memory) == 6
    assert memory.frame_indices == [[3], [4], [5], [6], [7], [8]]
    k, v = memory.prefix()[1]
    assert k.shape == (1, 2, 18, 4)
    assert k[0, 0, ::3, 0].tolist() == [3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    assert v[0, 0, ::3, 0].tolist() == [-3.0, -4.0, -5.0, -6.0, -7.0, -8.0]
    memory.clear()
    assert len(memory) == 0
    with pytest.raises(ValueError, match="capacity"):
        PlannerMemory(0)


@pytest.mark.parametrize("valid", [6, 3, 0])
def test_training_history_equals_runtime_memory(valid):
    """Frame-0 K/V seen in training (history prefix) == a prefill after sequential refreshes."""
    model = _model()
    cfg = model.cfg
    batch = synthetic_batch(cfg, 1, history_valid=valid)
    text = model.encode_text(batch["instruction"])
    fidx = batch["frame_index"]
    with torch.no_grad():
        train_kv = model.frame0_kv(batch, text, fidx)
    memory = PlannerMemory(cfg.memory_frames)
    hist = batch["history_latents"][0]
    for i in range(cfg.memory_frames - valid, cfg.memory_frames):
        f = fidx - 8 * (cfg.memory_frames - i)
        model.prefill(hist[i][None], text, memory, f)
    ctx = model.prefill(batch["video_latents"][0, :1], text, memory, fidx)
    assert len(memory) == min(valid + 1, cfg.memory_frames)
    for (k0, v0), (k1, v1) in zip(train_kv, ctx.kv):
        assert torch.allclose(k0, k1, atol=1e-5) and torch.allclose(v0, v1, atol=1e-5)
    # the memory matters: without it the current-frame K/V differ
    if valid:
        alone = model.prefill(batch["video_latents"][0, :1], text, None, fidx)
        assert not torch.allclose(alone.kv[-1][0], ctx.kv[-1][0], atol=1e-4)


def test_offset_training_matches_runtime_phase():
    """Chunk 0 of a training sample with offset delta == a runtime chunk at phase_offset delta."""
    model = _model()
    cfg = model.cfg
    batch = synthetic_batch(cfg, 1)
    text = model.encode_text(batch["instruction"])
    fidx = batch["frame_index"]
    noise = torch.randn(1, 16, 16, generator=torch.Generator().manual_seed(3))
    outs = {}
    for delta in (0, 7):
        batch["delta"] = torch.tensor([delta])
        with torch.no_grad():
            cb = model.fold_chunks(batch, model.frame0_kv(batch, text, fidx), text, fidx)
            s = torch.tensor([0.7])
            v_train = model.action(noise, s, cb.steps[:1], cb.frame_index[:1], [(k[:1], v[:1]) for k, v in cb.kv],
                                   cb.context.rows(slice(0, 1)))
        assert cb.steps[0].tolist() == list(range(delta, delta + 16))
        assert cb.steps[1, 0].item() == delta + 16
        ctx = model.prefill(batch["video_latents"][0, :1], text, _memory_from(model, batch, text), fidx)
        kv_e, c, pos = model.chunk_inputs(ctx, batch["chunk_obs_latents"][0, :1], batch["proprio"][0, :1], text, delta)
        with torch.no_grad():
            v_run = model.action(noise, s, pos, ctx.frame_index, kv_e, c)
        assert torch.allclose(v_train, v_run, atol=1e-5)
        outs[delta] = model.sample_chunk(ctx, batch["chunk_obs_latents"][0, :1], batch["proprio"][0, :1], text,
                                         phase_offset=delta, steps=3, noise=noise)
    assert not torch.allclose(outs[0], outs[7], atol=1e-4)  # the phase is seen by the executor


def _memory_from(model: WAM, batch: dict, text) -> PlannerMemory:
    memory = PlannerMemory(model.cfg.memory_frames)
    for i in range(model.cfg.memory_frames):
        model.prefill(batch["history_latents"][0, i][None], text, memory, batch["frame_index"] - 8 * (6 - i))
    return memory


@pytest.mark.parametrize("variant", ["aha", "fast"])
def test_training_steps_reduce_loss(variant):
    model = _model(variant).train()
    batch = synthetic_batch(model.cfg, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(15):
        loss, _ = model.training_loss(batch, torch.Generator().manual_seed(0))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses


def test_padded_actions_are_masked():
    model = _model()
    batch = synthetic_batch(model.cfg, 2)
    # a whole padded chunk (steps 48..63): padded targets inside a live chunk are still *inputs* to that
    # chunk's bidirectional attention, so only the loss terms, not the other tokens, can ignore them
    batch["action_mask"][:, 48:] = False
    base = _loss(model, batch)
    pert = dict(batch)
    pert["actions"] = batch["actions"].clone()
    pert["actions"][:, 48:] += 10.0
    assert _loss(model, pert)["loss_action"] == pytest.approx(base["loss_action"], rel=1e-6)


def test_paper_preset_counts_within_five_percent():
    counts = parameter_counts(make_config("paper"))
    for part, target in PAPER_PARAM_COUNTS.items():
        assert abs(counts[part] - target) / target < 0.05, (part, counts[part])
    assert abs(counts["total"] - 7.23e9) / 7.23e9 < 0.05
    fast = parameter_counts(make_config("paper", "fast"))
    assert fast["ovcr"] == 0 and fast["video_dit"] == counts["video_dit"]
    tiny = parameter_counts(make_config("tiny"))
    assert tiny["total"] < 10e6


def test_config_validation_names_bad_values():
    with pytest.raises(ValueError, match="bogus"):
        make_config("tiny", "bogus")
    with pytest.raises(ValueError, match="huge"):
        make_config("huge")


