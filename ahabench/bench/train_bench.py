"""Training throughput: WAM training samples per second per policy and recipe, with the step's breakdown.

For each policy (aha-wam, naive-async, fast-wam) and each recipe (``paper``: today's fp32 recipe; ``v2``:
the campaign's, bf16 autocast), one model of the recipe's config is trained for ``steps`` timed steps (after
``warmup``) on a dataset of random pixels-free episodes whose lengths are the robotwin experts' mean step
counts (``tasks/expert_success.csv``), so the history validity a batch carries (and so the history prefix's
cost) is that of the real suite. Rows report, per step:

* ``sample_ms``: drawing the batch from the dataset (cached latents);
* ``text_ms``, ``history_ms``, ``video_ms``, ``action_ms``: the forward parts (``record_function`` labels of
  ``WAM.training_loss``), ``backward_ms`` and ``optimizer_ms`` (clip + AdamW + EMA);
* ``step_ms`` and ``samples_per_s`` measured without the profiler (thread CPU time: with one torch thread
  that is the step's cost without waiting for a core), and ``x_paper``: samples/s over the paper recipe's for
  the same policy in the same run.

Latencies are machine-dependent, so only the ratios between rows of one run mean anything.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ahabench.train.recipe import RECIPES

log = logging.getLogger(__name__)

TRAIN_COLUMNS = ["policy", "recipe", "autocast", "batch", "threads", "sample_ms", "text_ms", "history_ms", "video_ms",
                 "action_ms", "backward_ms", "optimizer_ms", "step_ms", "samples_per_s", "x_paper", "loss_first", "loss_last"]
PARTS = ("wam.text", "wam.history", "wam.video", "wam.action")


def suite_lengths(suite: str = "robotwin") -> list[int]:
    """Mean expert steps of a suite's tasks (the episode lengths a training set of that suite has)."""
    from ahabench.experts.success_table import DEFAULT_TABLE

    df = pd.read_csv(DEFAULT_TABLE)
    df = df[(df["suite"] == suite) & (df["setting"] == "clean")]
    if df.empty:
        raise ValueError(f"{DEFAULT_TABLE} has no clean rows of suite {suite!r}")
    return [int(round(v)) for v in df["mean_expert_steps"]]


def synthetic_dataset(cfg: Any, action_space: str, episodes_per_length: int = 2, seed: int = 0):
    """A DemoDataset of random episodes (latents cached) with the suite's episode lengths."""
    from ahabench.data.dataset import DemoDataset, DemoEpisode, SampleConfig

    rng = np.random.default_rng(seed)
    eps, lats = [], []
    for i, length in enumerate(suite_lengths() * episodes_per_length):
        frames = np.arange(0, length + 1, 4)
        eps.append(DemoEpisode(task=f"t{i % 12}", instruction=f"task number {i % 12}",
                               actions=rng.standard_normal((length, 16)).astype(np.float32),
                               qpos=rng.standard_normal((length + 1, 16)).astype(np.float32),
                               mosaics=np.zeros((len(frames), 1, 1, 3), np.uint8), frame_steps=frames, dim=16))
        lats.append(rng.standard_normal((len(frames), cfg.latent_channels, *cfg.latent_hw)).astype(np.float32))
    ds = DemoDataset(eps, SampleConfig(offset_training=cfg.variant != "fast", action_space=action_space,
                                       model_chunk=cfg.chunk_len))
    ds.set_latents(lats)
    return ds


def bench_train_one(policy: str, recipe: str, steps: int = 6, warmup: int = 2, size: str = "tiny") -> dict[str, Any]:
    """One row of :data:`TRAIN_COLUMNS` (``x_paper`` left None)."""
    from torch.profiler import ProfilerActivity, profile

    from ahabench.policies.wam.config import make_config
    from ahabench.policies.wam.wam import WAM
    from ahabench.train import POLICY_VARIANTS
    from ahabench.train.loop import EMA, LoopConfig, make_optimizer

    rec = RECIPES[recipe]
    variant, _ = POLICY_VARIANTS[policy]
    torch.manual_seed(0)
    cfg = make_config(size, variant, **rec.model_overrides())
    model = WAM(cfg).train()
    model.tokenizer.requires_grad_(False)
    ds = synthetic_dataset(cfg, rec.action_space)
    opt = make_optimizer(model, LoopConfig(steps=steps + warmup, lr=rec.lr))
    ema = EMA(model, rec.ema_decay) if rec.ema_decay > 0 else None
    params = [p for p in model.parameters() if p.requires_grad]
    rng = np.random.default_rng(0)
    losses: list[float] = []

    def step(times: dict[str, list[float]] | None = None) -> None:
        t0 = time.thread_time()
        batch = ds.sample(rec.batch, rng)
        t1 = time.thread_time()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=rec.autocast == "bf16"):
            loss, _ = model.training_loss(batch)
        t2 = time.thread_time()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t3 = time.thread_time()
        torch.nn.utils.clip_grad_norm_(params, rec.grad_clip)
        opt.step()
        if ema is not None:
            ema.update(model)
        t4 = time.thread_time()
        losses.append(float(loss.detach()))
        if times is not None:
            parts = (("sample", t1 - t0), ("forward", t2 - t1), ("backward", t3 - t2), ("optimizer", t4 - t3), ("step", t4 - t0))
            for key, val in parts:
                times.setdefault(key, []).append(1000.0 * val)

    for _ in range(warmup):
        step()
    times: dict[str, list[float]] = {}
    for _ in range(steps):
        step(times)
    with profile(activities=[ProfilerActivity.CPU]) as prof:  # one more step, for the forward's parts
        step()
    parts = {e.key: e.cpu_time_total / 1000.0 for e in prof.key_averages() if e.key in PARTS}
    fwd = statistics.median(times["forward"])
    prof_fwd = sum(parts.values()) or 1.0
    scale = fwd / prof_fwd  # profiler overhead removed: parts rescaled to the unprofiled forward
    med = {k: statistics.median(v) for k, v in times.items()}
    return dict(policy=policy, recipe=recipe, autocast=rec.autocast, batch=rec.batch, threads=torch.get_num_threads(),
                sample_ms=med["sample"], text_ms=parts.get("wam.text", 0.0) * scale,
                history_ms=parts.get("wam.history", 0.0) * scale, video_ms=parts.get("wam.video", 0.0) * scale,
                action_ms=parts.get("wam.action", 0.0) * scale, backward_ms=med["backward"], optimizer_ms=med["optimizer"],
                step_ms=med["step"], samples_per_s=1000.0 * rec.batch / med["step"], x_paper=None,
                loss_first=losses[0], loss_last=losses[-1])


def bench_training(out: Path | None = None, policies: tuple[str, ...] = ("aha-wam", "naive-async", "fast-wam"),
                   recipes: tuple[str, ...] = ("paper", "v2"), steps: int = 6, warmup: int = 2) -> pd.DataFrame:
    """Rows for every policy x recipe (one torch thread); writes ``OUT/train.csv|json`` when ``out`` is given."""
    from ahabench.bench.machine import machine_info

    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rows = [bench_train_one(p, r, steps, warmup) for p in policies for r in recipes]
    finally:
        torch.set_num_threads(prev)
    df = pd.DataFrame(rows, columns=TRAIN_COLUMNS)
    for p in policies:
        base = df[(df.policy == p) & (df.recipe == "paper")]["samples_per_s"]
        if len(base):
            df.loc[df.policy == p, "x_paper"] = df[df.policy == p]["samples_per_s"] / float(base.iloc[0])
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        df.round(4).to_csv(out / "train.csv", index=False)
        (out / "train.json").write_text(json.dumps({"machine": machine_info(), "steps": steps, "warmup": warmup,
                                                    "rows": df.round(4).to_dict(orient="records")}, indent=2))
    return df
