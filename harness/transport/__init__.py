"""Transport: how requests reach the target. Client, capped session, politeness, budget, breaker.

Everything the run sends goes through one `requests.Session` built here, so
budget, pacing, 429 handling, safe retries, the body cap and the circuit
breaker hold for every request, whoever builds it (our client, schemathesis).
Nothing here records or redacts: exchanges and events are handed to callbacks.
"""
from harness.transport.breaker import EXIT_TARGET_DOWN, BreakerAdapter, CircuitBreaker, TargetDown
from harness.transport.budget import BudgetExhausted, Limits, SharedBudget
from harness.transport.client import USE_KEY, ApiClient
from harness.transport.politeness import PoliteAdapter, RetryPolicy, Throttled, mount
from harness.transport.session import CappedSession

# Skips that mean "not tested": the run was cut short, the server was not judged.
CUT_SHORT = (BudgetExhausted, Throttled, TargetDown)

__all__ = ["CUT_SHORT", "EXIT_TARGET_DOWN", "USE_KEY", "ApiClient", "BreakerAdapter", "BudgetExhausted",
           "CappedSession", "CircuitBreaker", "Limits", "PoliteAdapter", "RetryPolicy", "SharedBudget", "TargetDown",
           "Throttled", "mount"]
