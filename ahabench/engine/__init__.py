"""The evaluation engine: one episode on the simulated clock (:mod:`ahabench.engine.episode`) and
multi-episode runs over tasks and seeds (:mod:`ahabench.engine.run`)."""

from ahabench.engine.episode import BadActionError, check_action_chunk, run_episode

__all__ = ["BadActionError", "check_action_chunk", "run_episode"]
