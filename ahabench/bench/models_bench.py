"""Model latency benchmark: the ``measured`` cost of AHA-WAM's calls vs Fast-WAM's call on this machine.

Everything runs on the CPU with ``torch.set_num_threads(1)`` (the evaluation workers' setting), batch 1,
under ``torch.no_grad``. Each timed item is called ``warmup`` times untimed, then ``repetitions`` times;
the table reports the median (and min / max) wall time in milliseconds, and the median CPU time of the
calling thread (``cpu_median_ms``: the cost without waiting for a core, steadier on a loaded machine).

Components (AHA-WAM unless the model column says otherwise):

* ``text_encode``: instruction -> text tokens (once per episode; the adapters cache it).
* ``tokenizer_encode``: one 96x80 camera mosaic -> latents (every call encodes its observation).
* ``planner_prefill``: one clean video-DiT pass over the current frame attending to a *full* rolling
  memory (``memory_frames`` past refreshes: the steady state of an episode); ``planner_prefill_empty``
  with no memory (an episode's first refresh, and what Fast-WAM's call runs).
* ``ovcr``: observation-guided K/V routing of the cached context to the newest observation.
* ``executor_setup``: OVCR + the action DiT's text/proprio context (once per chunk).
* ``denoise_step``: one action-DiT velocity evaluation (one Euler step); ``denoise_total`` (per ``steps``):
  the Euler loop of ``steps`` steps on prepared inputs.
* ``chunk_call`` (per ``steps``): what one executor call of the ``aha-wam`` adapter costs: tokenizer
  encode + executor setup + denoising (16 actions). ``prefill_call``: tokenizer encode + planner prefill.
* Fast-WAM ``fast_call`` (per ``steps``): tokenizer encode + memoryless prefill + denoising (32 actions),
  its single synchronous call; also its ``tokenizer_encode``, ``planner_prefill_empty`` and
  ``denoise_step`` / ``denoise_total``.

Weights: the shipped checkpoint (``policies/<name>/checkpoint``) when there is one, else random
initialisation of the same size config; latency does not depend on trained values, and the output
says which was used.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ahabench.bench.machine import machine_info

logger = logging.getLogger(__name__)

MODEL_COLUMNS = ["model", "variant", "size", "weights", "component", "steps", "median_ms", "min_ms", "max_ms",
                 "cpu_median_ms", "repetitions", "warmup", "threads"]
POLICY_PACKAGES = {"aha-wam": "ahabench.policies.aha_wam", "fast-wam": "ahabench.policies.fast_wam"}
VARIANTS = {"aha-wam": "aha", "fast-wam": "fast"}
INSTRUCTION = "Pick up the red block and place it on the green block."


def timed(fn: Callable[[], Any], repetitions: int, warmup: int) -> tuple[list[float], list[float]]:
    """(wall ms, thread CPU ms) of ``repetitions`` calls of ``fn`` after ``warmup`` untimed calls.

    With one torch thread all compute runs on the calling thread, so its CPU time is the call's cost
    without the time spent waiting for a core: on a shared machine it is the steadier of the two."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repetitions):
        c0, t0 = time.thread_time(), time.perf_counter()
        fn()
        wall.append(1000.0 * (time.perf_counter() - t0))
        cpu.append(1000.0 * (time.thread_time() - c0))
    return wall, cpu


def _label(folder: Path) -> str:
    """A checkpoint folder as the results name it: relative to the repo when inside it (no machine path)."""
    try:
        return str(folder.resolve().relative_to(Path(__file__).resolve().parents[2]))
    except ValueError:
        return folder.name


def load_model(name: str, size: str = "tiny", checkpoint: Path | None = None):
    """(WAM in eval mode, weights label): the checkpoint at ``checkpoint`` (default the policy's shipped
    ``checkpoint/`` folder) if it exists and matches ``size``, else random init of ``make_config(size, variant)``."""
    from ahabench.policies.wam.config import WAMConfig, make_config
    from ahabench.policies.wam.wam import WAM

    if name not in VARIANTS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(VARIANTS)}")
    if checkpoint is None:
        import importlib

        checkpoint = Path(importlib.import_module(POLICY_PACKAGES[name]).__file__).parent / "checkpoint"
    folder = Path(checkpoint)
    if (folder / "config.json").exists():
        from ahabench.policies.wam.checkpoint import load_weights, read_config

        cfg = WAMConfig.from_dict(read_config(folder)["model"])
        if cfg.size == size:
            model = WAM(cfg)
            load_weights(folder, {"wam": model})
            return model.eval(), f"checkpoint:{_label(folder)}"
        logger.warning("%s: checkpoint %s is size %r, not %r: using random weights", name, folder, cfg.size, size)
    torch.manual_seed(0)
    return WAM(make_config(size, VARIANTS[name])).eval(), "random-init"


class _Inputs:
    """Fixed inputs for one model: a random mosaic, the instruction, proprio, a full memory."""

    def __init__(self, model, seed: int = 0):
        cfg = model.cfg
        rng = np.random.default_rng(seed)
        h, w = cfg.image_hw
        self.mosaic = rng.integers(0, 256, size=(1, h, w, 3), dtype=np.uint8)
        self.proprio = torch.from_numpy(rng.standard_normal((1, cfg.action_dim)).astype(np.float32))
        with torch.no_grad():
            self.text = model.encode_text([INSTRUCTION])
            self.lat = model.encode_obs(self.mosaic)
        self.gen = torch.Generator().manual_seed(seed)
        self.memory = None
        if cfg.use_memory:
            from ahabench.policies.wam.memory import PlannerMemory

            self.memory = PlannerMemory(cfg.memory_frames)
            for i in range(cfg.memory_frames):  # steady state: the memory is full
                model.prefill(self.lat, self.text, self.memory, frame_index=i, obs_tick=i * cfg.frame_stride_steps)
        # the context a chunk call reads: the newest refresh (not pushed again)
        self.frame = cfg.memory_frames
        self.context = model.prefill(self.lat, self.text, self.memory, frame_index=self.frame,
                                     obs_tick=self.frame * cfg.frame_stride_steps, push=False)


def bench_model(name: str, steps_list: tuple[int, ...] = (1, 2, 4, 10), repetitions: int = 20, warmup: int = 3,
                size: str = "tiny", checkpoint: Path | None = None) -> list[dict]:
    """Rows of :data:`MODEL_COLUMNS` for ``name`` ("aha-wam" or "fast-wam"); threads as the caller set them."""
    from ahabench.policies.wam.flow import euler_sample

    model, weights = load_model(name, size, checkpoint)
    cfg = model.cfg
    inp = _Inputs(model)
    rows: list[dict] = []

    def add(component: str, fn: Callable[[], Any], steps: int | None = None) -> None:
        with torch.no_grad():
            ms, cpu = timed(fn, repetitions, warmup)
        rows.append(dict(model=name, variant=cfg.variant, size=cfg.size, weights=weights, component=component,
                         steps=steps, median_ms=statistics.median(ms), min_ms=min(ms), max_ms=max(ms),
                         cpu_median_ms=statistics.median(cpu),
                         repetitions=repetitions, warmup=warmup, threads=torch.get_num_threads()))

    fidx = inp.context.frame_index
    pos = torch.arange(cfg.chunk_len)[None]  # phase offset 0
    noise = torch.randn((1, cfg.chunk_len, cfg.action_dim), generator=inp.gen)
    obs_tokens = model.patchify(inp.lat) if model.ovcr is not None else None
    with torch.no_grad():
        kv_e, actx = model.executor_inputs(inp.context.kv, obs_tokens, inp.text, inp.proprio)
    velocity = lambda x, s: model.action(x, s, pos, fidx, kv_e, actx)  # noqa: E731
    s_one = torch.ones(1)

    add("text_encode", lambda: model.encode_text([INSTRUCTION]))
    add("tokenizer_encode", lambda: model.encode_obs(inp.mosaic))
    add("planner_prefill_empty", lambda: model.prefill(inp.lat, inp.text, None, frame_index=0))
    if cfg.use_memory:
        add("planner_prefill", lambda: model.prefill(inp.lat, inp.text, inp.memory, frame_index=inp.frame, push=False))
    if model.ovcr is not None:
        add("ovcr", lambda: model.ovcr(obs_tokens, list(inp.context.kv)))
    add("executor_setup", lambda: model.executor_inputs(inp.context.kv, obs_tokens, inp.text, inp.proprio))
    add("denoise_step", lambda: velocity(noise, s_one))
    for k in steps_list:
        add("denoise_total", lambda k=k: euler_sample(velocity, noise, k, cfg.time_shift), k)
    if name == "fast-wam":
        for k in steps_list:
            add("fast_call", lambda k=k: model.fast_call(model.encode_obs(inp.mosaic), inp.proprio, inp.text,
                                                         frame_index=0, steps=k, generator=inp.gen), k)
    else:
        mem = inp.memory if cfg.use_memory else None
        add("prefill_call", lambda: model.prefill(model.encode_obs(inp.mosaic), inp.text, mem,
                                                  frame_index=inp.frame, push=False))
        for k in steps_list:
            add("chunk_call", lambda k=k: model.sample_chunk(inp.context, model.encode_obs(inp.mosaic), inp.proprio,
                                                             inp.text, 0, steps=k, generator=inp.gen), k)
    return rows


def bench_models(out: Path | None = None, models: tuple[str, ...] = ("aha-wam", "fast-wam"),
                 steps_list: tuple[int, ...] = (1, 2, 4, 10), repetitions: int = 20, warmup: int = 3,
                 size: str = "tiny") -> pd.DataFrame:
    """Benchmark each model with one torch thread; write ``out/models.csv`` and ``out/models.json``
    (rows, a per-step-count summary of aha-wam's chunk call vs fast-wam's call, machine info)."""
    from ahabench.policies.wam.wam import parameter_counts

    if repetitions < 1 or warmup < 0:
        raise ValueError(f"need repetitions >= 1 and warmup >= 0, got {repetitions}, {warmup}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rows = [r for m in models for r in bench_model(m, steps_list, repetitions, warmup, size)]
        info = machine_info()
    finally:
        torch.set_num_threads(threads)
    df = pd.DataFrame(rows, columns=MODEL_COLUMNS)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        df.to_csv(out / "models.csv", index=False, float_format="%.4g")
        from ahabench.policies.wam.config import make_config

        doc = {"machine": info, "torch_threads_used": 1, "device": "cpu", "batch": 1, "size": size,
               "settings": dict(steps=list(steps_list), repetitions=repetitions, warmup=warmup, statistic="median"),
               "parameters": {m: parameter_counts(make_config(size, VARIANTS[m])) for m in models},
               "summary": call_summary(df), "breakdown": call_breakdown(df).to_dict(orient="records"),
               "rows": json.loads(df.to_json(orient="records"))}
        (out / "models.json").write_text(json.dumps(doc, indent=2))
        call_breakdown(df).to_csv(out / "latency_breakdown.csv", index=False, float_format="%.4g")
    return df


def call_summary(df: pd.DataFrame) -> list[dict]:
    """Per step count: aha-wam chunk call, aha-wam prefill call and fast-wam call (median wall ms and
    median CPU ms), and fast / aha chunk (how many times sooner AHA-WAM's executor answers)."""
    def med(model: str, comp: str, steps: int | None = None, col: str = "median_ms") -> float | None:
        sel = df[(df.model == model) & (df.component == comp)]
        if steps is not None:
            sel = sel[sel.steps == steps]
        return float(sel[col].iloc[0]) if len(sel) else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a and b else None

    out = []
    for k in sorted({int(s) for s in df.steps.dropna()}):
        row = dict(steps=k)
        for col, suffix in (("median_ms", "ms"), ("cpu_median_ms", "cpu_ms")):
            aha, fast = med("aha-wam", "chunk_call", k, col), med("fast-wam", "fast_call", k, col)
            row.update({f"aha_chunk_call_{suffix}": aha, f"aha_prefill_call_{suffix}": med("aha-wam", "prefill_call", None, col),
                        f"fast_call_{suffix}": fast, f"fast_over_aha_chunk_{suffix}": ratio(fast, aha)})
        out.append(row)
    return out


#: Breakdown columns: the parts one policy call is made of (CPU ms, median), their sum, the whole call timed
#: as one, and the cost per executed action.
BREAKDOWN_COLUMNS = ["model", "call", "steps", "tokenizer_ms", "prefill_ms", "ovcr_ms", "executor_setup_ms",
                     "action_steps_ms", "parts_sum_ms", "call_ms", "actions_per_call", "call_ms_per_action",
                     "planner_ms_per_chunk"]


def call_breakdown(df: pd.DataFrame, col: str = "cpu_median_ms", executes: dict[str, int] | None = None) -> pd.DataFrame:
    """What one policy call costs and of what, per sampler step count, from :func:`bench_model` rows.

    aha-wam's executor call (what the robot waits for) = tokenizer encode + executor setup (OVCR included) +
    the Euler loop; its planner prefill runs on the planner's own device, every ``refresh`` chunks, so it is
    listed apart (``planner_ms_per_chunk``: prefill call / 2 at the default refresh of 2 chunks) and is not
    in the executor's call. fast-wam's one call = tokenizer encode + memoryless prefill + the Euler loop.
    ``executes``: actions executed per call (aha-wam: its 16-action chunk; fast-wam: 24 of its 32).
    """
    executes = executes or {"aha-wam": 16, "fast-wam": 24}

    def get(model: str, comp: str, steps: int | None = None) -> float:
        sel = df[(df.model == model) & (df.component == comp)]
        if steps is not None:
            sel = sel[sel.steps == steps]
        return float(sel[col].iloc[0]) if len(sel) else float("nan")

    rows = []
    for k in sorted({int(s) for s in df.steps.dropna()}):
        if (df.model == "aha-wam").any():
            tok, ovcr, setup, act = (get("aha-wam", "tokenizer_encode"), get("aha-wam", "ovcr"),
                                     get("aha-wam", "executor_setup"), get("aha-wam", "denoise_total", k))
            call = get("aha-wam", "chunk_call", k)
            rows.append(dict(model="aha-wam", call="chunk_call", steps=k, tokenizer_ms=tok, prefill_ms=0.0, ovcr_ms=ovcr,
                             executor_setup_ms=setup - ovcr, action_steps_ms=act, parts_sum_ms=tok + setup + act,
                             call_ms=call, actions_per_call=executes["aha-wam"],
                             call_ms_per_action=call / executes["aha-wam"],
                             planner_ms_per_chunk=get("aha-wam", "prefill_call") / 2))
        if (df.model == "fast-wam").any():
            tok, pre, setup, act = (get("fast-wam", "tokenizer_encode"), get("fast-wam", "planner_prefill_empty"),
                                    get("fast-wam", "executor_setup"), get("fast-wam", "denoise_total", k))
            call = get("fast-wam", "fast_call", k)
            rows.append(dict(model="fast-wam", call="fast_call", steps=k, tokenizer_ms=tok, prefill_ms=pre, ovcr_ms=0.0,
                             executor_setup_ms=setup, action_steps_ms=act, parts_sum_ms=tok + pre + setup + act,
                             call_ms=call, actions_per_call=executes["fast-wam"],
                             call_ms_per_action=call / executes["fast-wam"], planner_ms_per_chunk=0.0))
    return pd.DataFrame(rows, columns=BREAKDOWN_COLUMNS)
