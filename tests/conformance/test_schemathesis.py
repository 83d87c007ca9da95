"""schemathesis over the patched contract: examples, coverage and fuzzing phases, against the same target.

Its built-in checks (minus the ones the contract's silences would turn into
false alarms, see harness/schemathesis_bridge.py) run together with every check
of our registry, so generated cases are judged by our semantics, secrets and
invariants too. Its budget follows the Hypothesis profile
(`--hypothesis-profile dev|ci|nightly`): the fuzzing phase draws the profile's
examples; the coverage phase sends every positive case the schema defines, and
in `nightly` every negative one too (in dev and ci the invalid catalogue stands
for those, see SCHEMATHESIS_COVERAGE_MODES in harness/profiles.py).
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest
import schemathesis

from contracts import Contract
from harness.client import ApiClient
from harness.events import EventLog
from harness.profiles import SCHEMATHESIS_COVERAGE_MODES, active_profile
from harness.schemathesis_bridge import Bridge, activate, bridge_for, build_schema, deactivate
from harness.target import TargetConfig

# Last in the run: on staging the request budget goes to the deterministic cases first.
pytestmark = pytest.mark.exploratory


@pytest.fixture(scope="session")
def st_schema(contract: Contract, target_url: str, target: TargetConfig, pytestconfig: pytest.Config) -> Any:
    """Built lazily, so --base-url, the key and the request timeout apply."""
    seed = pytestconfig.getoption("hypothesis_seed", None)
    return build_schema(contract, target_url, target.api_key,
                        request_timeout=pytestconfig.getoption("request_timeout"),
                        seed=int(seed) if seed is not None and str(seed).isdigit() else None,
                        coverage_modes=SCHEMATHESIS_COVERAGE_MODES[active_profile(pytestconfig)])


@pytest.fixture
def st_bridge(contract: Contract, target: TargetConfig, event_log: EventLog, pytestconfig: pytest.Config,
              request: pytest.FixtureRequest) -> Iterator[Bridge]:
    bridge = bridge_for(contract, target.api_key, log=event_log, test=request.node.nodeid,
                        strict_warnings=pytestconfig.getoption("fail_on_warning"))
    activate(bridge)
    yield bridge
    deactivate()


schema = schemathesis.pytest.from_fixture("st_schema")


@schema.parametrize()
def test_schemathesis(case: Any, st_bridge: Bridge, target_url: str, client: ApiClient, space_id: str) -> None:
    st_bridge.run(case, base_url=target_url, session=client.session, space_id=space_id)
