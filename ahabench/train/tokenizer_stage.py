"""Stage 1: train the visual tokenizer (conv VAE) on the demos' mosaics, then cache every frame's latents.

The VAE trains alone on random frames (reconstruction + small KL, ``VisualTokenizer.loss``). After
training its per-channel latent statistics are set from a sample of frames, and every demo frame is
encoded once; the latents are cached on disk (``latents.pt``) so the WAM stage, and any resumed run,
never re-encodes pixels.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ahabench.data.dataset import DemoDataset
from ahabench.policies.wam.checkpoint import load_weights, save_checkpoint
from ahabench.train.loop import LoopConfig, LoopResult, TrainEvent, run_loop

log = logging.getLogger(__name__)

DONE = "done.json"
LATENTS = "latents.pt"
#: Frames used to set the latent normalisation statistics.
STATS_FRAMES = 512
RECON_PNG = "reconstruction.png"


def train_tokenizer(
    cfg: Any,
    ds: DemoDataset,
    stage_dir: Path,
    loop: LoopConfig,
    batch_size: int,
    resume: bool = False,
    progress: Callable[[TrainEvent], None] | None = None,
) -> tuple[torch.nn.Module, LoopResult | None]:
    """Train (or, when ``stage_dir`` says it finished, reload) the tokenizer; returns it in eval mode."""
    from ahabench.policies.wam.tokenizer import VisualTokenizer

    stage_dir = Path(stage_dir)
    torch.manual_seed(loop.seed)
    tok = VisualTokenizer(cfg)
    done = _read_done(stage_dir)
    if resume and done is not None and done.get("steps") == loop.steps:
        load_weights(stage_dir / "checkpoint", {"tokenizer": tok})
        log.info("tokenizer: already trained (%d steps) in %s", loop.steps, stage_dir)
        return tok.eval(), None

    def loss_fn(rng: np.random.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        return tok.loss(ds.sample_frames(batch_size, rng))

    def on_ckpt(step: int) -> None:
        config = {"stage": "tokenizer", "step": step, "model": cfg.to_dict()}
        save_checkpoint(stage_dir / "checkpoint", {"tokenizer": tok}, config, None)

    result = run_loop("tokenizer", tok, loss_fn, loop, stage_dir, resume=resume, progress=progress, on_checkpoint=None)
    rng = np.random.default_rng(loop.seed + 1)
    tok.eval()
    tok.set_latent_stats(ds.sample_frames(min(STATS_FRAMES, max(ds.n_frames, 1)), rng))
    on_ckpt(loop.steps)
    write_reconstructions(tok, ds, stage_dir / RECON_PNG)
    (stage_dir / LATENTS).unlink(missing_ok=True)  # latents of an older tokenizer are stale
    done = {"steps": loop.steps, "first_loss": result.first_loss, "last_loss": result.last_loss}
    (stage_dir / DONE).write_text(json.dumps(done))
    return tok, result


@torch.no_grad()
def write_reconstructions(tok: torch.nn.Module, ds: DemoDataset, path: Path, per_task: int = 1) -> Path:
    """A PNG with, per task, one mid-episode mosaic above its reconstruction (encode -> decode), so one can
    see whether small objects (blocks, the bell's button) survive the tokenizer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    picks, seen = [], set()
    for e in ds.episodes:
        if e.task not in seen or per_task > 1:
            seen.add(e.task)
            picks.append((e.task, e.mosaics[len(e.mosaics) // 2]))
    frames = torch.from_numpy(np.stack([m for _, m in picks]))
    recon = tok.decode(tok.encode(frames)).cpu().numpy()  # (N, H, W, 3) in [0, 1]
    mse = ((recon - frames.numpy() / 255.0) ** 2).mean(axis=(1, 2, 3))
    fig, axes = plt.subplots(2, len(picks), figsize=(1.6 * len(picks), 4.0), squeeze=False)
    for i, (task, frame) in enumerate(picks):
        axes[0, i].imshow(frame)
        axes[0, i].set_title(task.replace("_", "\n", 1), fontsize=6)
        axes[1, i].imshow(recon[i])
        axes[1, i].set_title(f"mse {mse[i]:.4f}", fontsize=6)
        for ax in axes[:, i]:
            ax.axis("off")
    fig.suptitle("tokenizer: demo mosaics (top) and their reconstructions (bottom)", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def cache_latents(tok: torch.nn.Module, ds: DemoDataset, stage_dir: Path, key: dict[str, Any]) -> None:
    """Give ``ds`` the latents of every frame, from ``latents.pt`` when it matches ``key``, else by encoding."""
    path = Path(stage_dir) / LATENTS
    if path.exists():
        blob = torch.load(path, map_location="cpu", weights_only=False)
        if blob.get("key") == key and len(blob["latents"]) == len(ds.episodes):
            ds.set_latents([z.astype(np.float32) for z in blob["latents"]])
            log.info("latents: loaded cache %s", path)
            return
    ds.encode_all(tok.encode)
    # float16 halves the cache; latents are normalised to unit scale so fp16 loses nothing that matters.
    torch.save({"key": key, "latents": [z.astype(np.float16) for z in ds.latents]}, path)
    log.info("latents: encoded %d frames, cached to %s", ds.n_frames, path)


def _read_done(stage_dir: Path) -> dict[str, Any] | None:
    path = Path(stage_dir) / DONE
    return json.loads(path.read_text()) if path.exists() else None
