"""The WAM model family (AHA-WAM, Naive-Async, Fast-WAM, AHA-WAM-Flash): see /work/notes/WAM_API.md.

Modules: config (size presets, variants), tokenizer (conv VAE), text (instruction encoder), layers,
video_dit (planner), action_dit (executor), ovcr, memory, flow (flow matching), wam (joint model),
flash (distillation), cost (FLOPs/bytes per call), synthetic (test batches).
"""

from policies.wam.config import SIZE_PRESETS, WAMConfig, make_config
from policies.wam.memory import PlannerContext, PlannerMemory
from policies.wam.wam import WAM, TextContext, load_wam, parameter_counts, save_wam

__all__ = [
    "SIZE_PRESETS", "WAMConfig", "make_config", "PlannerContext", "PlannerMemory", "WAM", "TextContext",
    "load_wam", "parameter_counts", "save_wam",
]
