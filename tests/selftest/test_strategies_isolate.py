"""Isolating the smallest failing combination of a failing covering row, against fake servers.

Each fake `send` stands for a server that fails on one slice of valid input;
the isolation must name that slice (and nothing larger), within its bound of
k + k(k-1)/2 requests for a row of k factors, every probe a valid, ordinary
payload of the run.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest

from contracts import Contract
from strategies import classify, covering_set
from strategies.covering import CoveringCase
from strategies.isolate import Probe, bound, describe, isolate, probes
from strategies.schema import resolve

SPACE = "3f0c9a52-7d1e-4c1b-9a55-2b7f0e6d1c88"
PREFIX = "conformance-selftest-"
LOCALE, STEALTH, BROWSER = "/config/fingerprint/locale", "/config/stealth", "/config/fingerprint/browser"
PROXY, AFFINITY = "/config/proxy", "/config/proxy/overrides/affinity"


@pytest.fixture(scope="module")
def rows(loaded_contract: Contract) -> dict[str, CoveringCase]:
    return {c.id: c for c in covering_set(loaded_contract, space_id=SPACE, name_prefix=PREFIX)}


def _row(rows: dict[str, CoveringCase], hits: Callable[[Any], bool]) -> CoveringCase:
    """The first default pairwise row the fake server fails on (as the covering run would report it)."""
    return next(c for c in rows.values() if c.default and c.group == "pairwise" and hits(c.payload))


def _counting(hits: Callable[[Any], bool]) -> tuple[Callable[[Probe], bool], list[Probe]]:
    sent: list[Probe] = []

    def send(probe: Probe) -> bool:
        sent.append(probe)
        return hits(probe.payload)

    return send, sent


def test_one_factor_alone(loaded_contract: Contract, rows: dict[str, CoveringCase]) -> None:
    hits = lambda p: resolve(p, LOCALE) == "nb-NO"  # noqa: E731
    row = _row(rows, hits)
    send, sent = _counting(hits)
    found = isolate(loaded_contract, row, space_id=SPACE, name_prefix=PREFIX, send=send)
    assert found.status == "isolated"
    assert [[f.label for f in s] for s in found.schemas] == [["locale=nb-NO"]]
    assert found.sentences() == ("only when /config/fingerprint/locale = nb-NO",)
    assert len(sent) == len(row.factors) == found.requests  # the first round was enough


def test_a_pair(loaded_contract: Contract, rows: dict[str, CoveringCase]) -> None:
    hits = lambda p: resolve(p, BROWSER) == "edge" and resolve(p, STEALTH) == "ultra"  # noqa: E731
    row = _row(rows, hits)
    send, sent = _counting(hits)
    found = isolate(loaded_contract, row, space_id=SPACE, name_prefix=PREFIX, send=send)
    assert found.status == "isolated"
    assert [[f.label for f in s] for s in found.schemas] == [["browser=edge", "stealth=ultra"]]
    assert found.sentences() == ("only when /config/fingerprint/browser = edge and /config/stealth = ultra",)
    k = len(row.factors)
    assert len(sent) <= bound(k) == k + k * (k - 1) // 2


def test_a_value_with_the_absence_of_an_optional_field_is_not_blamed_on_the_value(
        loaded_contract: Contract, rows: dict[str, CoveringCase]) -> None:
    # socks5 alone on a bare body would also lack the username: each probe changes the other factors.
    def hits(p: Any) -> bool:
        proxy = resolve(p, PROXY)
        return isinstance(proxy, dict) and proxy.get("protocol") == "socks5" and "username" not in proxy

    row = _row(rows, hits)
    assert row.id.startswith("proxy=custom/")  # only the rows inside the custom branch pair these
    found = isolate(loaded_contract, row, space_id=SPACE, name_prefix=PREFIX, send=_counting(hits)[0])
    assert [[f.label for f in s] for s in found.schemas] == [["protocol=socks5", "username=absent"]]
    assert found.sentences() == ("only when /config/proxy/protocol = socks5 and /config/proxy/username is absent "
                                 "(in proxy=custom)",)


def test_a_factor_that_needs_its_branch(loaded_contract: Contract, rows: dict[str, CoveringCase]) -> None:
    def hits(p: Any) -> bool:
        affinity = resolve(p, AFFINITY)
        return isinstance(affinity, dict) and affinity.get("strategy") == "sticky" and "key" not in affinity

    row = rows["proxy=saved/affinity=sticky-no-key"]
    assert row.default and hits(row.payload)
    send, sent = _counting(hits)
    found = isolate(loaded_contract, row, space_id=SPACE, name_prefix=PREFIX, send=send)
    assert [[f.label for f in s] for s in found.schemas] == [["key=absent"]]
    assert found.sentences() == ("only when /config/proxy/overrides/affinity/key is absent "
                                 "(in proxy=saved/affinity=sticky)",)
    # The probe for `key=absent` holds the saved proxy and the sticky branch it lives in.
    probe = next(p for p in sent if p.label == "key=absent")
    assert resolve(probe.payload, PROXY)["mode"] == "saved" and hits(probe.payload)


def test_nothing_reproduces_says_flaky(loaded_contract: Contract, rows: dict[str, CoveringCase]) -> None:
    row = _row(rows, lambda p: resolve(p, LOCALE) == "de-DE")
    send, sent = _counting(lambda p: False)
    found = isolate(loaded_contract, row, space_id=SPACE, name_prefix=PREFIX, send=send)
    k = len(row.factors)
    assert found.status == "not-reproduced" and found.schemas == ()
    assert len(sent) == found.requests <= bound(k)
    (sentence,) = found.sentences()
    assert "flaky" in sentence and "three or more" in sentence


def test_known_answers_and_pending_rounds_reach_the_same_result(loaded_contract: Contract,
                                                                rows: dict[str, CoveringCase]) -> None:
    hits = lambda p: resolve(p, BROWSER) == "edge" and resolve(p, STEALTH) == "ultra"  # noqa: E731
    row = _row(rows, hits)
    known: dict[str, bool] = {}
    rounds = 0
    while True:
        step = isolate(loaded_contract, row, space_id=SPACE, name_prefix=PREFIX, known=known)
        if step.status != "pending":
            break
        rounds += 1
        known.update({p.id: hits(p.payload) for p in step.pending})
    direct = isolate(loaded_contract, row, space_id=SPACE, name_prefix=PREFIX, send=lambda p: hits(p.payload))
    assert rounds == 2 and step.schemas == direct.schemas and step.sentences() == direct.sentences()
    # Known answers are not asked again.
    asked: list[Probe] = []
    isolate(loaded_contract, row, space_id=SPACE, name_prefix=PREFIX, known=known,
            send=lambda p: asked.append(p) or False)
    assert asked == []


def test_every_probe_of_every_default_row_is_valid_ordinary_and_within_the_bound(
        loaded_contract: Contract, rows: dict[str, CoveringCase]) -> None:
    validator = loaded_contract.request_validator()
    for row in (r for r in rows.values() if r.default and r.factors):
        batch = probes(loaded_contract, row, space_id=SPACE, name_prefix=PREFIX, round=1) + \
            probes(loaded_contract, row, space_id=SPACE, name_prefix=PREFIX, round=2)
        k = len(row.factors)
        assert len(batch) == bound(k), row.id
        for probe in batch:
            assert validator.is_valid(probe.payload), (probe.id, next(validator.iter_errors(probe.payload)).message)
            assert classify(probe.payload, loaded_contract).kind == "ordinary", probe.id
            assert probe.payload["spaceId"] == SPACE and probe.payload["name"].startswith(PREFIX)
        ids = [p.id for p in batch]
        assert len(ids) == len(set(ids))


def test_describe_reads_like_the_brief(rows: dict[str, CoveringCase]) -> None:
    row = next(r for r in rows.values() if r.group == "pairwise" and "browser=edge" in r.id and "stealth=ultra" in r.id)
    factors = tuple(f for f in row.factors if f.label in ("browser=edge", "stealth=ultra"))
    assert describe(factors) == "only when /config/fingerprint/browser = edge and /config/stealth = ultra"
