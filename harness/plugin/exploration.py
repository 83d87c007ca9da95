"""The exploratory tests on a slow target: a dry pass lists their requests, `prefetch` sends them several at once.

Hypothesis and schemathesis choose each request as they go, one after the
other; against a target that takes a quarter of a second per answer, that
is the run's time. With a fixed seed the generator draws the same requests
again, so each exploratory test first runs its generator dry (nothing sent),
the requests go out with the plan's concurrency (harness/transport/replay.py),
and the real pass, run as usual, finds each answer waiting. Every request is
still sent once and judged once; answers the real pass did not ask for (it
shrank a failure instead) are judged here and fail the test if they fail.

`--prefetch auto` (the default) prefetches when the target is slow: the
median answer of the plan's requests took longer than PREFETCH_ABOVE.
"""
from __future__ import annotations

import statistics
from typing import Any, Iterable

import pytest
import requests

from contracts.checks import Exchange, Received
from harness.conformance import Judge
from harness.transport.client import sent_request
from harness.transport.replay import prefetch
from harness.verdict import ConformanceFailure, describe

PREFETCH_ABOVE = 0.02  # seconds per answer: below, a dry pass costs more than it saves


def add_options(parser: pytest.Parser) -> None:
    parser.getgroup("bctrl-plan").addoption(
        "--prefetch", choices=("auto", "always", "never"), default="auto",
        help="send the exploratory tests' requests ahead, several in flight, from a dry pass of their generator "
             f"(auto: when the plan's median answer took longer than {PREFETCH_ABOVE:g} s)")


def should_prefetch(config: pytest.Config, run: Any) -> bool:
    """Send the exploratory requests ahead (a dry pass of the same seeded generator first)?

    `--prefetch always|never` decides; `auto` prefetches for a remote target whose
    median answer so far took over PREFETCH_ABOVE. Never for the embedded mock:
    its answer times measure the run's own queue (the plan's requests in flight
    on this machine), not a slow server, and the dry pass would cost seconds.
    """
    mode = config.getoption("prefetch")
    if mode != "auto":
        return mode == "always"
    if run.target.embedded:
        return False
    times = list(run.resources.answer_times) if run.resources is not None else []
    return bool(times) and statistics.median(times) > PREFETCH_ABOVE


def send_ahead(run: Any, session: requests.Session, prepared: list[requests.PreparedRequest]) -> int:
    return prefetch(session, prepared, run.replay, concurrency=run.concurrency,
                    timeout=(min(5.0, run.timeout), run.timeout))


def judge_leftovers(run: Any, judge: Judge) -> None:
    """Prefetched answers no request of the real pass took: sent, so judged; a failure among them fails the test."""
    from harness.bridge.bridge import _ordinary_classifier, classify

    ordinary = _ordinary_classifier(judge.contract)
    failing = []
    for answer in run.replay.leftovers():
        draft = sent_request(answer.request, label="prefetched, not asked for again")
        intent = classify(judge.contract, run.target.api_key, draft, ordinary)
        request = sent_request(answer.request, intent=intent, label="prefetched, not asked for again")
        received = Received.build(answer.status, answer.headers, answer.body, elapsed=answer.elapsed,
                                  received_at=answer.received_at)
        verdict = judge.judge(Exchange(request, received), source="prefetch")
        if verdict.failed:
            failing.append(verdict)
    if failing:
        first = failing[0]
        raise ConformanceFailure(f"{len(failing)} prefetched exchange(s) failed:\n" + describe(first.record),
                                 exchange=first.exchange, findings=first.findings, known=first.known)
