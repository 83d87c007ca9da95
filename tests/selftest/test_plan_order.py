"""The plan's order is the order requests take budget and in-flight slots, also with several in flight.

When the budget is smaller than the plan, the plan's first requests are the
ones sent (the basics and the credential checks come first on purpose): with
threads racing for the last reservations, a CI machine under load once sent
twenty covering rows before the missing-Authorization check, which the budget
then cut, and a run against a server ignoring auth ended "not tested" instead
of failing.
"""
from __future__ import annotations

import uuid
from pathlib import Path

from benchmarks.counting import RequestCounter
from contracts import Contract
from harness.plan import MemoryStore, PlanExecutor, PlannedRequest
from harness.transport import ApiClient, Limits, SharedBudget
from harness.transport.politeness import PoliteAdapter
from mock import ServerThread
from strategies import minimal_payload
from tests.selftest.mutants import build_app

KEY = "plan-order-key-7c2d41"


def _plan(contract: Contract, size: int) -> list[PlannedRequest]:
    space = str(uuid.uuid4())
    return [PlannedRequest("test_minimal_payload_is_created", f"row-{n:02d}", "covering", "create", "valid",
                           f"row {n}", payload=minimal_payload(contract.request_schema, spaceId=space))
            for n in range(size)]


def _run(contract: Contract, tmp_path: Path, *, budget: int, size: int, concurrency: int) -> list[str]:
    """The plan sent against the reference mock with a budget: the ids of the requests that got an answer."""
    counter = RequestCounter(build_app("reference", KEY), latency=0.01)
    with ServerThread(counter) as server:
        adapter = PoliteAdapter(SharedBudget(tmp_path / "state", Limits(budget, None)), contract.path)
        client = ApiClient(server.url, KEY, contract.path, timeout=(2.0, 10.0), politeness=adapter)
        requests = _plan(contract, size)
        store = MemoryStore()
        executor = PlanExecutor(client, requests, store, concurrency=concurrency).start()
        try:
            outcomes = {r.id: store.get(r.id, timeout=30) for r in requests}
        finally:
            executor.stop()
            client.close()
    assert counter.creates == budget, f"the server saw {counter.creates} creates with a budget of {budget}"
    assert all(o is not None for o in outcomes.values())
    return [rid for rid, o in outcomes.items() if o is not None and o.exchange is not None]


def test_a_short_budget_is_spent_on_the_plans_first_requests(loaded_contract: Contract, tmp_path: Path) -> None:
    for attempt in range(3):  # three runs: one lucky ordering must not make it pass
        sent = _run(loaded_contract, tmp_path / str(attempt), budget=6, size=40, concurrency=8)
        first = [r.id for r in _plan(loaded_contract, 40)][:6]
        assert sent == first, f"attempt {attempt}: the budget went to {sent}, not the plan's first six {first}"
