"""The first promises of the endpoint: valid payloads get a conforming 200, no key gets a 401."""
from __future__ import annotations

from contracts import Contract
from harness.conformance import Conformance
from strategies import full_payload, minimal_payload


def test_minimal_payload_is_created(conformance: Conformance, contract: Contract, space_id: str) -> None:
    conformance.create(minimal_payload(contract.request_schema, spaceId=space_id), label="minimal")


def test_full_payload_is_created(conformance: Conformance, contract: Contract, space_id: str) -> None:
    conformance.create(full_payload(contract.request_schema, spaceId=space_id), label="full")


def test_missing_authorization_is_rejected(conformance: Conformance, contract: Contract, space_id: str) -> None:
    # The auth check judges it: a 2xx or 5xx fails, 401/403 pass, another 4xx is a warning.
    conformance.send(payload=minimal_payload(contract.request_schema, spaceId=space_id),
                     authorization=None, intent="unauthenticated", label="no-authorization")
