"""Shipped checkpoints: fp16 safetensors weights + config JSON + normalisation stats.

A checkpoint folder (what ``policies/<name>/checkpoint/`` holds)::

    model.safetensors   every module's weights in fp16, keys prefixed by module name ("tokenizer.", "wam.")
    config.json         {"policy", "size", "model": <model config dict>, "tokenizer": <its config>, "step",
                         "tasks", "seed", "data", "sample": <sample geometry>, "format_version"}
    norm_stats.json     per-dimension mean/std of qpos and actions over the training demos

This is the only checkpoint format: the policies load it here, ``ahabench.train`` writes it. Optimiser state
for ``--resume`` lives in each stage's ``train_state.pt`` outside this folder (and, packed, in a campaign
checkpoint's ``train_state.safetensors``: ``ahabench.train.campaign``). Weights are
stored in fp16 to keep shipped checkpoints small; loading casts them back to each parameter's dtype.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ahabench.policies.wam.normalize import NormStats

log = logging.getLogger(__name__)

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
STATS = "norm_stats.json"
FORMAT_VERSION = 1


def save_checkpoint(folder: Path, modules: dict[str, nn.Module], config: dict[str, Any], stats: NormStats | None) -> Path:
    """Write a checkpoint folder atomically (a crash leaves the previous checkpoint intact)."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    tensors: dict[str, torch.Tensor] = {}
    for prefix, mod in modules.items():
        for k, v in mod.state_dict().items():
            v = v.detach().cpu()
            # fp16 for float weights; integer buffers (step counters, vocab ids) keep their dtype.
            tensors[f"{prefix}.{k}"] = (v.to(torch.float16) if v.is_floating_point() else v).contiguous()
    save_file(tensors, str(tmp / WEIGHTS))
    (tmp / CONFIG).write_text(json.dumps({"format_version": FORMAT_VERSION, **config}, indent=2, sort_keys=True, default=str))
    if stats is not None:
        (tmp / STATS).write_text(json.dumps(stats.to_dict(), indent=2))
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        if old.exists():
            shutil.rmtree(old)
        os.replace(folder, old)
    os.replace(tmp, folder)
    if old.exists():
        shutil.rmtree(old)
    return folder


def read_config(folder: Path) -> dict[str, Any]:
    path = Path(folder) / CONFIG
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {folder} (missing {CONFIG})")
    return json.loads(path.read_text())


def read_stats(folder: Path) -> NormStats | None:
    path = Path(folder) / STATS
    return NormStats.from_dict(json.loads(path.read_text())) if path.exists() else None


def load_weights(folder: Path, modules: dict[str, nn.Module], strict: bool = True) -> None:
    """Load the prefixed weights of ``folder`` into ``modules`` (cast to each parameter's dtype)."""
    path = Path(folder) / WEIGHTS
    if not path.exists():
        raise FileNotFoundError(f"no weights at {path}")
    tensors = load_file(str(path))
    for prefix, mod in modules.items():
        own = mod.state_dict()
        sd = {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
        if strict and not sd:
            have = sorted({k.split(".")[0] for k in tensors})
            raise KeyError(f"checkpoint {path} holds no weights for module {prefix!r} (has prefixes {have})")
        sd = {k: v.to(own[k].dtype) if k in own else v for k, v in sd.items()}
        missing, unexpected = mod.load_state_dict(sd, strict=strict)
        if missing or unexpected:
            log.warning("%s: missing %s, unexpected %s", prefix, missing, unexpected)
