"""Training: LR schedule, resume equivalence, checkpoint round trip, loss goes down, end-to-end stages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from ahabench.data.dataset import DemoDataset, SampleConfig
from ahabench.policies.wam.checkpoint import load_weights, read_config, read_stats, save_checkpoint
from ahabench.policies.wam.normalize import NormStats
from ahabench.train.loop import LoopConfig, lr_at, read_loss_log, run_loop
from test_dataset import _ramp_episode

torch.set_num_threads(1)


def test_lr_schedule_warmup_then_cosine():
    cfg = LoopConfig(steps=100, lr=1.0, warmup_frac=0.05, min_lr_frac=0.1)
    assert lr_at(0, cfg) == pytest.approx(0.2) and lr_at(4, cfg) == pytest.approx(1.0)
    lrs = [lr_at(s, cfg) for s in range(5, 100)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))  # monotone decay after warm-up
    assert lrs[-1] == pytest.approx(0.1, abs=1e-3)


def _linear_problem():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    w = torch.tensor([[1.0, -2.0, 0.5, 3.0]])

    def loss_fn(rng: np.random.Generator):
        x = torch.from_numpy(rng.standard_normal((8, 4)).astype(np.float32))
        return (model(x) - x @ w.T).pow(2).mean(), {}

    return model, loss_fn


def test_resume_matches_uninterrupted_run(tmp_path: Path):
    cfg = LoopConfig(steps=12, lr=0.5, log_every=1, ckpt_every=6)
    m1, f1 = _linear_problem()
    r1 = run_loop("lin", m1, f1, cfg, tmp_path / "a")
    assert r1.last_loss < r1.first_loss
    # an interrupted run: it dies right after saving its step-6 state
    m2, f2 = _linear_problem()
    with pytest.raises(_Interrupt):
        run_loop("lin", m2, f2, cfg, tmp_path / "b", on_checkpoint=lambda s: _stop(s, 6))
    m3, f3 = _linear_problem()
    r3 = run_loop("lin", m3, f3, cfg, tmp_path / "b", resume=True)
    assert r3.resumed_from == 6
    for p, q in zip(m1.parameters(), m3.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    steps = [r["step"] for r in read_loss_log(tmp_path / "b")]
    assert steps == list(range(1, 13))  # no duplicated or missing learning-curve lines


class _Interrupt(Exception):
    pass


def _stop(step: int, at: int) -> None:
    if step == at:
        raise _Interrupt


def _tiny_wam(variant: str = "aha"):
    from ahabench.policies.wam.config import make_config
    from ahabench.policies.wam.wam import WAM

    torch.manual_seed(0)
    return WAM(make_config("tiny", variant))


def _latent_dataset(model) -> DemoDataset:
    ds = DemoDataset([_ramp_episode(200)], SampleConfig(), None)
    ds.encode_all(model.tokenizer.encode)
    return ds


def test_checkpoint_round_trip_identical_outputs(tmp_path: Path):
    model = _tiny_wam()
    stats = NormStats.identity()
    stats.action_mean[:] = 0.25
    save_checkpoint(tmp_path / "ck", {"wam": model}, {"policy": "aha-wam", "model": model.cfg.to_dict()}, stats)
    assert (tmp_path / "ck" / "model.safetensors").exists()
    from safetensors.torch import load_file

    weights = load_file(str(tmp_path / "ck" / "model.safetensors"))
    assert all(v.dtype == torch.float16 for v in weights.values() if v.is_floating_point())
    from ahabench.policies.wam.config import WAMConfig
    from ahabench.policies.wam.wam import WAM

    cfg = WAMConfig.from_dict(read_config(tmp_path / "ck")["model"])
    assert cfg == model.cfg
    loaded = WAM(cfg)
    load_weights(tmp_path / "ck", {"wam": loaded})
    assert read_stats(tmp_path / "ck").action_mean[0] == pytest.approx(0.25)
    # Reference: the original model with its weights rounded to fp16, as shipped.
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    ds = _latent_dataset(model)
    batch = ds.sample(2, np.random.default_rng(0))

    def run(m):
        m.eval()
        text = m.encode_text(batch["instruction"])
        ctx = m.prefill(batch["video_latents"][:, 0], text, None, batch["frame_index"])
        g = torch.Generator().manual_seed(3)
        return m.sample_chunk(ctx, batch["chunk_obs_latents"][:, 0], batch["proprio"][:, 0], text, 2, steps=4, generator=g)

    torch.testing.assert_close(run(model), run(loaded), rtol=0, atol=0)


def test_few_steps_reduce_wam_loss(tmp_path: Path):
    model = _tiny_wam()
    model.tokenizer.requires_grad_(False)
    ds = _latent_dataset(model)
    batch = ds.sample(2, np.random.default_rng(0))

    def loss_fn(rng):  # a fixed batch and fixed noise: the objective itself must go down
        return model.training_loss(batch, generator=torch.Generator().manual_seed(0))

    res = run_loop("wam", model, loss_fn, LoopConfig(steps=8, lr=2e-3, warmup_frac=0.0, log_every=4), tmp_path)
    assert res.last_loss < 0.8 * res.first_loss
    log = read_loss_log(tmp_path)
    assert [r["step"] for r in log] == [1, 4, 8] and "loss_action" in log[0]


@pytest.mark.slow
def test_train_policy_end_to_end_with_flash_and_resume(tmp_path: Path):
    from ahabench.data.collect import collect_demos
    from ahabench.train import train_policy
    from test_collect import register_fake_task

    task = register_fake_task()
    collect_demos([task], 2, "clean", tmp_path / "demos")
    events = []
    s = train_policy("aha-wam-flash", [task], "tiny", 3, tmp_path / "run", tmp_path / "demos", False, 0,
                     progress=events.append, tokenizer_steps=2, distill_steps=2, batch_size=2, threads=1)
    assert set(s.stages) == {"tokenizer", "wam", "flash"}
    assert {e.stage for e in events} == {"tokenizer", "wam", "flash"}
    ck = tmp_path / "run" / "checkpoint"
    cfg = read_config(ck)
    assert cfg["policy"] == "aha-wam-flash" and cfg["sample_steps"] == 2 and cfg["stage"] == "flash"
    assert read_stats(ck) is not None and (tmp_path / "run" / "wam" / "train_state.pt").exists()
    assert not (ck / "train_state.pt").exists()  # optimiser state stays out of the shipped folder
    # --resume on a finished run retrains nothing
    s2 = train_policy("aha-wam-flash", [task], "tiny", 3, tmp_path / "run", tmp_path / "demos", True, 0,
                      tokenizer_steps=2, distill_steps=2, batch_size=2, threads=1)
    assert all(v == {"skipped": "already trained"} for v in s2.stages.values())
    assert json.loads((tmp_path / "run" / "train_summary.json").read_text())["policy"] == "aha-wam-flash"
    card = (ck / "README.md").read_text()  # the model card survives a resume that skipped every stage
    assert "--steps 3 --tokenizer-steps 2 --distill-steps 2" in card and "policies/aha_wam_flash/checkpoint" in card
    assert {p.name for p in ck.glob("loss_*.jsonl")} == {"loss_tokenizer.jsonl", "loss_wam.jsonl", "loss_flash.jsonl"}


def test_model_card_command_uses_the_recorded_thread_count():
    from ahabench.train.card import reproduce_command

    summary = {"policy": "aha-wam", "tasks": ["click_bell"], "size": "tiny", "threads": 2}
    logs = {"tokenizer": [{"step": 30}], "wam": [{"step": 120}], "flash": []}
    cmd = reproduce_command(summary, {"seed": 4}, logs)
    assert cmd.endswith("--steps 120 --tokenizer-steps 30 --data runs/demos --out runs/aha-wam --seed 4 --threads 2")
    del summary["threads"]  # summaries from before threads were recorded: those runs used one thread
    assert reproduce_command(summary, {"seed": 4}, logs).endswith("--threads 1")


def test_data_phases_record_a_change_of_demos_and_keep_the_normalisation(tmp_path: Path):
    import json as _json

    from ahabench.train import data_phases as dp

    assert dp.as_folders(None, tmp_path / "demos") == [tmp_path / "demos"]
    with pytest.raises(ValueError, match="given twice"):
        dp.as_folders([Path("a"), Path("a")], tmp_path)
    fresh = dp.phases(None, ["runs/demos"], {"runs/demos": 0.0}, {"runs/demos": 100}, 1)
    assert fresh == [{"data": ["runs/demos"], "from_step": 0, "action_noise": {"runs/demos": 0.0},
                      "episodes": {"runs/demos": 100}, "threads": 1}]
    ck = tmp_path / "ck"
    ck.mkdir()
    (ck / "config.json").write_text(_json.dumps({"step": 14520, "data": "runs/demos"}))  # before data phases
    assert dp.resumed_stats(ck, ["runs/demos"]) is None  # same demos: computed again, exactly
    (ck / "norm_stats.json").write_text(_json.dumps(NormStats.identity().to_dict()))
    kept = dp.resumed_stats(ck, ["runs/demos", "runs/demos-dart"])  # new demos: the network's normalisation stays
    assert kept is not None and np.array_equal(kept.qpos_std, NormStats.identity().qpos_std)
    same = dp.phases(ck, ["runs/demos"], {}, {}, 1)
    assert [p["data"] for p in same] == [["runs/demos"]]
    mixed = ["runs/demos", "runs/demos-dart"]
    grown = dp.phases(ck, mixed, {"runs/demos": 0.0, "runs/demos-dart": 0.015}, {"runs/demos": 100, "runs/demos-dart": 50}, 2)
    assert [(p["data"], p["from_step"]) for p in grown] == [(["runs/demos"], 0), (mixed, 14520)]
    (ck / "config.json").write_text(_json.dumps({"step": 20000, "data": mixed, "data_phases": grown}))
    assert dp.phases(ck, mixed, {}, {}, 2) == grown  # resuming the same mix adds no phase
    assert dp.previous_checkpoint(tmp_path / "run", None) is None
    assert dp.previous_checkpoint(tmp_path / "run", ck) == ck


def test_model_card_commands_follow_the_data_phases():
    from ahabench.train.card import collect_commands, reproduce_command

    summary = {"policy": "aha-wam", "tasks": ["click_bell"], "size": "tiny", "threads": 1, "n_episodes": 150}
    phases = [{"data": ["runs/demos"], "from_step": 0, "action_noise": {"runs/demos": 0.0}, "episodes": {"runs/demos": 100}},
              {"data": ["runs/demos", "runs/demos-dart"], "from_step": 14520,
               "action_noise": {"runs/demos": 0.0, "runs/demos-dart": 0.015},
               "episodes": {"runs/demos": 100, "runs/demos-dart": 50}, "threads": 2}]
    config = {"seed": 0, "data_phases": phases}
    logs = {"tokenizer": [{"step": 1000}], "wam": [{"step": 30000}], "flash": []}
    first, second = reproduce_command(summary, config, logs).splitlines()
    assert "--steps 14520 " in first and "--data runs/demos --out" in first and "--resume" not in first
    assert "--threads 1" in first and "--threads 2 --resume" in second  # each phase with its own threads
    assert "--steps 30000 " in second and "--data runs/demos --data runs/demos-dart" in second
    assert second.endswith("--resume")
    assert collect_commands(summary, config) == [
        "ahabench collect --tasks click_bell --episodes 100 --setting clean --out runs/demos -w 2",
        "ahabench collect --tasks click_bell --episodes 50 --setting clean --out runs/demos-dart -w 2 --action-noise 0.015"]
