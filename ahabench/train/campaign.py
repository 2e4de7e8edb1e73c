"""A training state small enough to commit, so a long CPU campaign continues from the repo on any machine.

``ahabench train`` keeps its full resumable state in ``<out>/wam/train_state.pt`` (fp32 weights, AdamW moments,
EMA, RNGs). :func:`pack_state` writes the part a continuation needs into the shipped checkpoint folder as
``train_state.safetensors``:

- the trained (not averaged) weights in fp32: an update of lr x 1e-3 must not round away;
- AdamW's two moments in bf16 (they are running statistics; 8 bits of mantissa change the next updates by
  well under their own step-to-step noise);
- step, RNG states and the EMA's update count as metadata.

The EMA itself is not stored twice: it is the folder's ``model.safetensors`` (fp16, the shipped weights).
:func:`unpack_state` rebuilds a ``train_state.pt`` from the two files, and :func:`seed_run_from_checkpoint`
lays out a training directory (tokenizer stage marked done with the shipped tokenizer, the WAM stage's state)
so that ``ahabench train --resume`` continues the campaign exactly where the committed state stopped.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from ahabench.policies.wam.checkpoint import WEIGHTS, load_weights, read_config, save_checkpoint

log = logging.getLogger(__name__)

PACKED = "train_state.safetensors"


def pack_state(state_path: Path, folder: Path) -> Path:
    """``train_state.pt`` -> ``folder/train_state.safetensors`` (see the module docstring)."""
    state = torch.load(Path(state_path), map_location="cpu", weights_only=False)
    tensors: dict[str, torch.Tensor] = {}
    for k, v in state["model"].items():
        tensors[f"model.{k}"] = (v.float() if v.is_floating_point() else v).contiguous()
    opt = state["optim"]
    steps: dict[str, float] = {}
    for idx, st in opt["state"].items():
        for key in ("exp_avg", "exp_avg_sq"):
            tensors[f"optim.{idx}.{key}"] = st[key].to(torch.bfloat16).contiguous()
        steps[str(idx)] = float(st["step"])
    tensors["torch_rng"] = state["torch_rng"].clone()
    ema = state.get("ema")
    meta = {"step": str(int(state["step"])), "np_rng": json.dumps(state["np_rng"]),
            "optim_steps": json.dumps(steps), "param_groups": json.dumps(opt["param_groups"]),
            "ema_updates": "" if ema is None else str(int(ema["updates"]))}
    out = Path(folder) / PACKED
    tmp = out.with_name(out.name + ".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    tmp.replace(out)
    return out


def packed_step(folder: Path) -> int | None:
    """The training step a packed state was saved at (None when the folder has none)."""
    path = Path(folder) / PACKED
    if not path.exists():
        return None
    with safe_open(str(path), framework="pt") as fh:
        return int((fh.metadata() or {})["step"])


def unpack_state(folder: Path, state_path: Path, ema_module: torch.nn.Module) -> int:
    """``folder/train_state.safetensors`` (+ the folder's shipped weights as the EMA) -> ``state_path``.

    ``ema_module``: a model of the checkpoint's config; its trainable parameters name the EMA's entries.
    Returns the step the state continues from."""
    folder = Path(folder)
    path = folder / PACKED
    if not path.exists():
        raise FileNotFoundError(f"{folder} holds no packed training state ({PACKED}); it cannot be continued")
    with safe_open(str(path), framework="pt") as fh:
        meta = dict(fh.metadata() or {})
    tensors = load_file(str(path))
    model = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    steps = json.loads(meta["optim_steps"])
    opt_state: dict[int, dict[str, Any]] = {}
    for idx, step in steps.items():
        opt_state[int(idx)] = {"step": torch.tensor(step), "exp_avg": tensors[f"optim.{idx}.exp_avg"].float(),
                               "exp_avg_sq": tensors[f"optim.{idx}.exp_avg_sq"].float()}
    ema = None
    if meta.get("ema_updates"):
        load_weights(folder, {"wam": ema_module})
        ema = {"updates": int(meta["ema_updates"]),
               "shadow": {n: p.detach().float().clone() for n, p in ema_module.named_parameters() if n in model}}
    state = {"model": model, "optim": {"state": opt_state, "param_groups": json.loads(meta["param_groups"])},
             "np_rng": json.loads(meta["np_rng"]), "torch_rng": tensors["torch_rng"], "step": int(meta["step"]),
             "ema": ema}
    state_path = Path(state_path)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, state_path)
    return int(meta["step"])


def seed_run_from_checkpoint(folder: Path, out: Path, ema_module: torch.nn.Module, tokenizer_steps: int) -> int:
    """Lay out ``out`` so that ``train_policy(..., resume=True)`` continues the campaign in ``folder``.

    Writes ``out/tokenizer`` (the shipped tokenizer, marked trained for ``tokenizer_steps`` steps) and
    ``out/wam/train_state.pt`` plus the WAM stage's learning curve so far. Returns the continued step."""
    from ahabench.policies.wam.tokenizer import VisualTokenizer
    from ahabench.train.tokenizer_stage import DONE as TOK_DONE

    folder, out = Path(folder), Path(out)
    cfg = read_config(folder)
    tok = VisualTokenizer(ema_module.cfg)
    _load_tokenizer(folder, tok)
    save_checkpoint(out / "tokenizer" / "checkpoint", {"tokenizer": tok},
                    {"stage": "tokenizer", "step": tokenizer_steps, "model": ema_module.cfg.to_dict()}, None)
    (out / "tokenizer" / TOK_DONE).write_text(json.dumps({"steps": tokenizer_steps, "from": "checkpoint"}))
    for stage in ("tokenizer", "wam"):
        log_src = folder / f"loss_{stage}.jsonl"
        if log_src.exists():
            (out / stage).mkdir(parents=True, exist_ok=True)
            (out / stage / "loss.jsonl").write_text(log_src.read_text())
    step = unpack_state(folder, out / "wam" / "train_state.pt", ema_module)
    log.info("seeded %s from %s (%s, step %d)", out, folder, cfg.get("policy"), step)
    return step


def _load_tokenizer(folder: Path, tok: torch.nn.Module) -> None:
    """The shipped tokenizer: the ``wam.tokenizer.*`` weights of the checkpoint."""
    tensors = load_file(str(Path(folder) / WEIGHTS))
    prefix = "wam.tokenizer."
    sd = {k[len(prefix):]: v.float() for k, v in tensors.items() if k.startswith(prefix)}
    if not sd:
        raise KeyError(f"{folder / WEIGHTS} holds no tokenizer weights ({prefix}*)")
    tok.load_state_dict(sd)


__all__ = ["PACKED", "pack_state", "packed_step", "unpack_state", "seed_run_from_checkpoint"]
