"""The request plan: every deterministic case of a run, known (and costed) before anything is sent."""
from harness.plan.build import build_plan
from harness.plan.cases import Plan, PlannedRequest, render
from harness.plan.executor import FileStore, MemoryStore, Outcome, PlanExecutor, send_planned

__all__ = ["FileStore", "MemoryStore", "Outcome", "Plan", "PlanExecutor", "PlannedRequest", "build_plan", "render",
           "send_planned"]
