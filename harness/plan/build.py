"""The request plan: every deterministic case of a run, from the strategies, in the order they are sent.

Groups (and the test that judges each): the basic promises, bad credentials,
the covering rows (every enum value, branch, optional field and pair), the
boundary catalogue, framing, the invalid catalogue and lax JSON, protocol
robustness, and a burst of creates sent at the same moment. Built the same in
every process of a run (the controller sends, an xdist worker judges), from
the contract, the space, the run's name prefix and the saved proxy id.
"""
from __future__ import annotations

import json
from typing import Any

from contracts import Contract
from harness.plan.cases import Plan, PlannedRequest
from strategies import (boundary_cases, classify, covering_set, framing_cases, full_payload, invalid_payloads,
                        lax_json_bodies, minimal_payload)
from strategies.protocol import (BAD_CREDENTIALS, MALFORMED, OTHER_METHODS, OVERSIZE_BYTES, WRONG_MEDIA_TYPE,
                                 free_form_member, named_payload)

COVERING_TESTS = {"enum": "test_accepts_every_enum_value", "variant": "test_accepts_every_variant",
                  "fields": "test_accepts_optional_fields", "pairwise": "test_accepts_every_pair"}
DEFAULT_BURST = 8


def build_plan(contract: Contract, *, space_id: str, name_prefix: str, saved_proxy_id: str | None = None,
               burst: int = DEFAULT_BURST) -> Plan:
    """Every deterministic request of the run (see the module doc), redundant covering rows included.

    Redundant rows (single values the pairwise rows already cover) carry
    `group="covering-redundant"`: the pytest integration leaves them out unless
    asked, and follow-ups may still send them.
    """
    requests: list[PlannedRequest] = []
    requests += _basics(contract, space_id, name_prefix)
    requests += _credentials(contract, space_id, name_prefix)
    requests += _covering(contract, space_id, name_prefix, saved_proxy_id)
    requests += _boundaries(contract, space_id, name_prefix, saved_proxy_id)
    requests += _framing(contract, space_id, name_prefix, saved_proxy_id)
    requests += _invalid(contract, space_id, name_prefix)
    requests += _protocol(contract, space_id, name_prefix)
    requests += _burst(contract, space_id, name_prefix, burst)
    return Plan(tuple(requests))


def _basics(contract: Contract, space_id: str, prefix: str) -> list[PlannedRequest]:
    schema = contract.request_schema
    minimal = minimal_payload(schema, spaceId=space_id)
    full = full_payload(schema, spaceId=space_id)
    name = _name_pointer()
    if name:  # the run's prefix, so what a remote run creates can be found
        full[name.lstrip("/")] = f"{prefix}full"
    return [
        PlannedRequest("test_minimal_payload_is_created", "minimal", "basics", "create", "valid", "minimal",
                       payload=minimal),
        PlannedRequest("test_full_payload_is_created", "full", "basics", "create", classify(full, contract).intent,
                       "full", payload=full),
        PlannedRequest("test_missing_authorization_is_rejected", "no-authorization", "basics", "refusal",
                       "unauthenticated", "no-authorization", payload=minimal, authorization=None),
    ]


def _name_pointer() -> str | None:
    from strategies import load_domains

    return load_domains().role("name")


def _credentials(contract: Contract, space_id: str, prefix: str) -> list[PlannedRequest]:
    out = []
    for label, template in BAD_CREDENTIALS.items():
        payload = named_payload(contract, space_id=space_id, name_prefix=prefix, label=f"auth-{label}")
        out.append(PlannedRequest("test_rejects_bad_credentials", label, "auth", "refusal", "unauthenticated",
                                  f"auth={label}", payload=payload, authorization=template))
    return out


def _covering(contract: Contract, space_id: str, prefix: str, proxy: str | None) -> list[PlannedRequest]:
    out = []
    for case in covering_set(contract, space_id=space_id, name_prefix=prefix, saved_proxy_id=proxy):
        verdict = classify(case.payload, contract)  # covering rows are ordinary; a selftest holds us to it
        group = "covering" if case.default else "covering-redundant"
        out.append(PlannedRequest(COVERING_TESTS[case.group], case.id, group, "create", verdict.intent,
                                  verdict.label(case.id), payload=case.payload, row=case))
    return out


def _boundaries(contract: Contract, space_id: str, prefix: str, proxy: str | None) -> list[PlannedRequest]:
    return [PlannedRequest("test_boundary_value", case.id, "boundary", "create", case.intent, case.label,
                           payload=case.payload)
            for case in boundary_cases(contract, space_id=space_id, name_prefix=prefix, saved_proxy_id=proxy)]


def _framing(contract: Contract, space_id: str, prefix: str, proxy: str | None) -> list[PlannedRequest]:
    out = []
    for case in framing_cases(contract, space_id=space_id, name_prefix=prefix, saved_proxy_id=proxy):
        accept = case.expect == "accept"
        content_type = next((v for k, v in case.headers.items() if k.lower() == "content-type"), None)
        out.append(PlannedRequest(
            "test_accepts_framing" if accept else "test_refuses_framing", case.id, "framing",
            "create" if accept else "refusal", "valid" if accept else "unauthenticated", case.label,
            payload=case.payload if case.payload is not None else _json(case.body), body=case.body,
            content_type=content_type, authorization=None, headers=dict(case.headers), query=case.query))
    return out


def _invalid(contract: Contract, space_id: str, prefix: str) -> list[PlannedRequest]:
    out = [PlannedRequest("test_rejects_invalid", case.id, "invalid", "refusal", "invalid",
                          f"{case.label} (breaks {case.pointer or 'the body'})", payload=case.payload)
           for case in invalid_payloads(contract, space_id=space_id, name_prefix=prefix)]
    out += [PlannedRequest("test_rejects_lax_json", case.id, "lax-json", "refusal", "invalid", case.label,
                           body=case.body, content_type=case.content_type)
            for case in lax_json_bodies(contract, space_id=space_id, name_prefix=prefix)]
    return out


def _protocol(contract: Contract, space_id: str, prefix: str) -> list[PlannedRequest]:
    out = []
    for label, case in MALFORMED.items():
        body = case.body(named_payload(contract, space_id=space_id, name_prefix=prefix, label=f"protocol-{label}"))
        out.append(PlannedRequest("test_refuses_malformed_body", label, "protocol", "refusal", "invalid",
                                  f"{label} ({case.why})", body=body, content_type=case.content_type))
    for label, case in WRONG_MEDIA_TYPE.items():
        body = case.body(named_payload(contract, space_id=space_id, name_prefix=prefix, label=f"protocol-{label}"))
        out.append(PlannedRequest("test_wrong_media_type_is_refused_or_warned", label, "protocol", "refusal",
                                  "unknown", label, body=body, content_type=case.content_type))
    member = free_form_member(dict(contract.request_schema))
    if member is not None:
        payload = named_payload(contract, space_id=space_id, name_prefix=prefix, label="protocol-oversize")
        payload[member] = {"padding": "x" * OVERSIZE_BYTES}
        body = json.dumps(payload).encode()
        out.append(PlannedRequest("test_oversize_body_is_refused_or_handled", "oversize", "protocol", "create",
                                  "unknown", f"oversize ({len(body) // 1024} KiB)", body=body))
    for method in OTHER_METHODS:
        with_body = method in ("PUT", "PATCH")
        payload = named_payload(contract, space_id=space_id, name_prefix=prefix, label=f"protocol-{method}")
        out.append(PlannedRequest("test_other_methods_get_no_server_error", method, "protocol", "other", "unknown",
                                  f"method={method}", method=method, payload=payload if with_body else _missing(),
                                  content_type="application/json" if with_body else None))
    return out


def _burst(contract: Contract, space_id: str, prefix: str, size: int) -> list[PlannedRequest]:
    out = []
    for number in range(1, size + 1):
        payload = named_payload(contract, space_id=space_id, name_prefix=prefix, label=f"burst-{number}")
        out.append(PlannedRequest("test_overlapping_creates", f"burst-{number}of{size}", "burst", "create",
                                  classify(payload, contract).intent, f"burst {number}/{size}", payload=payload,
                                  burst="burst"))
    return out


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return _missing()


def _missing() -> Any:
    from contracts.checks.model import MISSING

    return MISSING
