"""The valid-payload strategy keeps its promises: every draw validates, carries the run's space,
name prefix and recognisable credentials, and the draws reach the edges; the classification
follows strategies/domains.yaml.
"""
from __future__ import annotations

import re
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from contracts import Contract, load_contract
from contracts.credentials import CREDENTIAL_FIELDS
from strategies import classify, load_domains, runtime_payloads
from strategies.schema import fields, resolve

SPACE = "3f0c9a52-7d1e-4c1b-9a55-2b7f0e6d1c88"
PREFIX = "conformance-selftest-"
CONTRACT = load_contract()
PAYLOADS = runtime_payloads(CONTRACT, space_id=SPACE, name_prefix=PREFIX)
SAMPLES = settings(max_examples=300, database=None, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow])


CREDENTIALS = [f.pointer for f in fields(CONTRACT.request_schema) if f.name in CREDENTIAL_FIELDS]


def _secrets(payload: Any) -> list[tuple[str, Any]]:
    """The declared credential fields a draw holds (a metadata key named 'password' is just metadata)."""
    values = [(pointer.rsplit("/", 1)[-1], resolve(payload, pointer)) for pointer in CREDENTIALS]
    return [(name, value) for name, value in values if isinstance(value, str)]


@SAMPLES
@given(PAYLOADS)
def test_every_draw_is_valid_and_carries_space_prefix_and_recognisable_secrets(payload: dict[str, Any]) -> None:
    validator = CONTRACT.request_validator()
    assert validator.is_valid(payload), [e.message for e in validator.iter_errors(payload)]
    assert payload["spaceId"] in (SPACE, SPACE.upper())
    if "name" in payload:
        assert payload["name"].startswith(PREFIX)
    domains = load_domains()
    for field, value in _secrets(payload):
        prefix = domains.secret_prefix(field)
        assert value.startswith(prefix) and len(value) >= len(prefix) + 8, (field, value)
        assert re.fullmatch(r"[0-9a-f]{16}", value[len(prefix):len(prefix) + 16]), value  # the random token
    classify(payload, CONTRACT)  # never raises on a valid payload
    # Only the declared credential fields are credentials: a free-form member named so would be taken for one.
    assert not set(_keys(payload.get("metadata"))) & CREDENTIAL_FIELDS


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [*value, *(k for v in value.values() for k in _keys(v))]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


# Each edge the issue asks for, as a predicate over a draw; all must show up in a few hundred draws.
EDGES: dict[str, Callable[[Any], bool]] = {
    "unicode name": lambda p: isinstance(p.get("name"), str) and not p["name"].isascii(),
    "very long name": lambda p: len(p.get("name", "")) > 255,
    "empty extensions": lambda p: resolve(p, "/config/extensions") == [],
    "more than 20 extensions": lambda p: len(resolve(p, "/config/extensions") or []) > 20,
    "empty metadata": lambda p: p.get("metadata") == {},
    "nested metadata": lambda p: isinstance(p.get("metadata"), dict) and any(isinstance(v, (dict, list)) for v in p["metadata"].values()),
    "port 0 or negative": lambda p: isinstance(resolve(p, "/config/proxy/port"), int) and resolve(p, "/config/proxy/port") <= 0,
    "port above 65535": lambda p: isinstance(resolve(p, "/config/proxy/port"), int) and resolve(p, "/config/proxy/port") > 65535,
    "idle timeout at a 2**31 or 2**63 boundary": lambda p: abs(_int(resolve(p, "/config/lifecycle/idleTimeoutMinutes"))) >= 2**31 - 1,
    "integer written as a float": lambda p: isinstance(resolve(p, "/config/lifecycle/idleTimeoutMinutes"), float)
    or isinstance(resolve(p, "/config/proxy/port"), float),
    "upper-case uuid": lambda p: any(isinstance(v, str) and v != v.lower() for v in (p["spaceId"], resolve(p, "/config/proxy/id"))),
    "explicit null proxy": lambda p: resolve(p, "/config/proxy") is None,
    "proxy absent": lambda p: isinstance(p.get("config"), dict) and "proxy" not in p["config"],
    "only required fields": lambda p: set(p) == {"spaceId", "type"},
    "undeclared property": lambda p: any(k not in CONTRACT.request_schema["properties"] for k in p),
    "credentials with URL-breaking characters": lambda p: any(set(v) & set("@:/%#?") for _, v in _secrets(p)),
}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class _AllSeen(Exception):
    pass


def test_draws_reach_every_edge_and_both_classes() -> None:
    # Draw until every edge has shown up (usually a few hundred draws; rare ones ~1-2% each).
    seen: dict[str, int] = {name: 0 for name in EDGES}
    kinds = {"ordinary": 0, "extreme": 0}

    @settings(max_examples=3000, database=None, deadline=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=[HealthCheck.too_slow])
    @given(PAYLOADS)
    def sample(payload: dict[str, Any]) -> None:
        kinds[classify(payload, CONTRACT).kind] += 1
        for name, predicate in EDGES.items():
            seen[name] += bool(predicate(payload))
        if all(seen.values()) and sum(kinds.values()) >= 300:
            raise _AllSeen

    with pytest.raises(_AllSeen):
        sample()
    total = sum(kinds.values())
    assert [name for name, count in seen.items() if count == 0] == [], total
    assert kinds["ordinary"] > 0.3 * total and kinds["extreme"] > 0.2 * total, kinds


@pytest.mark.parametrize(("change", "kind", "reason"), [
    ({}, "ordinary", None),
    ({"/config/proxy/port": 70000}, "extreme", "/config/proxy/port 70000 > 65535"),
    ({"/config/proxy/port": 0}, "extreme", "/config/proxy/port 0 < 1"),
    ({"/config/lifecycle/idleTimeoutMinutes": 2**63}, "extreme", "> 1440"),
    ({"/config/lifecycle/idleTimeoutMinutes": 30.0}, "extreme", "an integer written as 30.0"),
    ({"/name": "x" * 256}, "extreme", "/name is 256 characters > 255"),
    ({"/name": "tab\there"}, "extreme", "/name has non-printable characters"),
    ({"/name": "Zoë 🙂 名前"}, "ordinary", None),
    ({"/spaceId": SPACE.upper()}, "extreme", "/spaceId is an upper-case uuid"),
    ({"/config/extensions": ["cjpalhdlnbpafiamejdnhcphjbkeiagm"] * 2}, "extreme", "repeats an item"),
    ({"/metadata": {"a": {"b": {"c": {"d": {"e": {}}}}}}}, "extreme", "/metadata nests 6 levels > 5"),
    ({"/unknownField": 1}, "extreme", "/unknownField is not a documented property"),
])
def test_classification_follows_the_domains_table(change: dict[str, Any], kind: str, reason: str | None) -> None:
    payload = {"spaceId": SPACE, "type": "browser", "name": PREFIX + "x",
               "config": {"proxy": {"mode": "custom", "host": "proxy.example.com", "port": 8080, "protocol": "http"},
                          "lifecycle": {"idleTimeoutMinutes": 30}}, "metadata": {"a": 1}}
    for pointer, value in change.items():
        *path, last = pointer.split("/")[1:]
        holder = payload
        for part in path:
            holder = holder[part]
        holder[last] = value
    assert CONTRACT.request_validator().is_valid(payload)
    verdict = classify(payload, CONTRACT)
    assert verdict.kind == kind, verdict
    if reason:
        assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_every_pointer_in_the_domains_table_exists_in_the_contract(loaded_contract: Contract) -> None:
    known = {f.pointer for f in fields(loaded_contract.request_schema)}
    domains = load_domains()
    stale = [p for p in [*domains.fields, *domains.roles.values()] if p not in known]
    assert stale == [], f"strategies/domains.yaml names fields the contract does not have: {stale}"
