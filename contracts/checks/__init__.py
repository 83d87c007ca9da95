"""Checks: plain functions judging one exchange; importing this package registers them all."""
from contracts.checks import invariants, negative, response, secrets, semantics, status  # noqa: F401  (registration side effect)
from contracts.checks.model import MISSING, Exchange, Finding, Received, SentRequest
from contracts.checks.registry import REGISTRY, Check, Judged, check, judge_exchange, run_checks

__all__ = ["MISSING", "REGISTRY", "Check", "Exchange", "Finding", "Judged", "Received", "SentRequest", "check",
           "judge_exchange", "run_checks"]
