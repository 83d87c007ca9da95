"""Contract drift, asked of the target (`--drift-from=OLD` or `--upstream-contract=NEWER`; harness/plugin/drift.py).

One item per change a request can tell apart (strategies/drift_probes.py): a
newly allowed value accepted, a removed one refused, a newly required field
enforced, a new response field present. Implemented passes; not implemented
fails with the request that shows it; inconclusive (an answer about the caller,
a 5xx, a field NEW allows to be absent) skips with its reason. With --upstream-contract
the run tests the vendored version, so "not implemented" is an expected failure (xfail):
reported at the top of the report, not failing the nightly run. A probe the plan
already answers (a covering row with the new value) reads that row's answer:
nothing is sent twice, and that row's own test judges it against the contract.
"""
from __future__ import annotations

import pytest

from harness.plugin import drift
from harness.recording import text
from harness.plugin.keys import run_of
from harness.plugin.planning import PlannedRunner


def test_drift_probe(planned: PlannedRunner, drift_probe: str, pytestconfig: pytest.Config) -> None:
    run = run_of(pytestconfig)
    state = run.drift
    probe = state.probes[drift_probe]
    reads = state.reads[drift_probe]
    request = run.plan.index[reads]
    exchange = planned.fetch(request)
    # A redundant covering row is left out of a default run: its answer was asked for here, so judged here.
    own = request.test == drift.TEST or (request.group == "covering-redundant"
                                         and not pytestconfig.getoption("all_rows"))
    if own:  # the probe's own request: judged against the run's contract like any other (and recorded)
        planned.conformance.verify(exchange)
    status = exchange.response.status if exchange.response is not None else 0
    verdict, reason = probe.judge(status, drift.body_of(exchange)) if exchange.response is not None else (
        "inconclusive", f"no answer: {exchange.error}")
    shared = "" if own else f" (the answer to {reads}, sent once)"
    drift.record(run.writer, run.judge.state.test, probe, verdict, reason, reads)
    where = f"{probe.change.level} change {probe.change.subject} ({probe.change.kind}): {reason}{shared}"
    if verdict == "inconclusive":
        pytest.skip(f"drift inconclusive: {where}")
    if verdict == "not implemented" and state.mode == "upstream":
        # The run tests the vendored contract; that staging has not moved to a newer one yet is news, not a failure.
        pytest.xfail(f"drift: the target does not follow the upstream contract yet: {where}")
    if verdict == "not implemented":
        newer = "NEW" if state.mode == "drift-from" else "the upstream contract"
        pytest.fail(f"drift not implemented: the target does not follow {newer} here: {where}\n"
                    f"reproduce: {text.curl(exchange.request, run.target.api_key)}", pytrace=False)
