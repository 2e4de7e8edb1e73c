"""The WAM model family (AHA-WAM, Naive-Async, Fast-WAM, AHA-WAM-Flash) and what its policy adapters share.

Model: config (size presets, variants), tokenizer (conv VAE), text (instruction encoder), layers, video_dit
(planner), action_dit (executor), ovcr, memory, flow (flow matching), wam (joint model), flash (distillation),
cost (FLOPs/bytes per call), synthetic (test batches). Adapters: configuration_wam (shared settings),
modeling_wam (checkpoint loading, observation and action I/O), normalize (16-D layout, NormStats),
checkpoint (the one checkpoint format). The data contract: docs/data.md.

Importing this package imports none of its modules (each is imported where used, so a policy that needs only
its config does not pull in torch).
"""
