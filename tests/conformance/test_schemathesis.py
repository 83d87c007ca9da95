"""schemathesis over the patched contract: examples, coverage and fuzzing phases, against the same target.

Its built-in checks (minus the ones the contract's silences would turn into
false alarms, see harness/bridge/bridge.py) run together with every check of
our registry, so generated cases are judged by our semantics, secrets and
invariants too. Every request it sends, its auth probes included, goes through
the suite's session (budget, pacing, breaker, created-runtimes ledger). Its
budget follows the Hypothesis profile (`--hypothesis-profile dev|ci|nightly`):
the fuzzing phase draws the profile's examples; the coverage phase sends every
positive case the schema defines, and in `nightly` every negative one too (in
dev and ci the invalid catalogue stands for those, see
SCHEMATHESIS_COVERAGE_MODES in harness/profiles.py). On a slow target its
cases are sent ahead from a dry pass of the same seeded test
(harness/plugin/exploration.py).
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest
import schemathesis

from harness.bridge import Bridge, activate, bridge_for, build_schema, deactivate, dry_requests, route_through
from harness.conformance import Judge
from harness.plugin import exploration
from harness.plugin.context import RunContext
from harness.profiles import SCHEMATHESIS_COVERAGE_MODES
from harness.transport import ApiClient

# Last in the run: on staging the request budget goes to the deterministic cases first.
pytestmark = pytest.mark.exploratory


@pytest.fixture(scope="session")
def st_bridge(judge: Judge, run: RunContext) -> Bridge:
    return bridge_for(judge, run.target.api_key)


@pytest.fixture(scope="session")
def st_schema(run: RunContext, target_url: str, client: ApiClient, st_bridge: Bridge,
              pytestconfig: pytest.Config) -> Any:
    """Built lazily, so --base-url, the key and the request timeout apply; every send goes through `client`."""
    schema = build_schema(run.contract, target_url, run.target.api_key, request_timeout=run.timeout, seed=run.seed,
                          coverage_modes=SCHEMATHESIS_COVERAGE_MODES[run.profile])
    schema = route_through(schema, client.session, st_bridge)
    if exploration.should_prefetch(pytestconfig, run):
        exploration.send_ahead(run, client.session, dry_requests(schema, client.session, target_url,
                                                                 run.target.space_id))
    return schema


@pytest.fixture
def active_bridge(st_bridge: Bridge, run: RunContext, judge: Judge) -> Iterator[Bridge]:
    activate(st_bridge)
    yield st_bridge
    deactivate()
    exploration.judge_leftovers(run, judge)


schema = schemathesis.pytest.from_fixture("st_schema")


@schema.parametrize()
def test_schemathesis(case: Any, active_bridge: Bridge, target_url: str, client: ApiClient, space_id: str) -> None:
    active_bridge.run(case, base_url=target_url, session=client.session, space_id=space_id)
