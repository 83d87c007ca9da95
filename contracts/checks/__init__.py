"""Checks: plain functions judging one exchange; importing this package registers them all."""
from contracts.checks import invariants, negative, response, secrets, semantics, status  # noqa: F401  (registration side effect)
from contracts.checks.model import MISSING, Finding, Received, SentRequest
from contracts.checks.registry import REGISTRY, Check, check, run_checks

__all__ = ["MISSING", "REGISTRY", "Check", "Finding", "Received", "SentRequest", "check", "run_checks"]
