"""Scripted experts: per-arm mplib planners, manipulation primitives, and expert success measurement."""

from ahabench.experts.evaluate import expert_episode, expert_success
from ahabench.experts.planner import ArmPlanner
from ahabench.experts.primitives import LEFT, RIGHT, DualArmExpert, ExpertFailure, Grasp, top_down_pose

__all__ = ["ArmPlanner", "DualArmExpert", "ExpertFailure", "Grasp", "LEFT", "RIGHT", "expert_episode",
           "expert_success", "top_down_pose"]
