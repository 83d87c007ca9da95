"""Bearer auth is enforced: every way of not presenting the key gets 401 (403 accepted), never a 2xx.

The `auth` check judges each answer (a 2xx fails; a 401 without
WWW-Authenticate, or another 4xx such as RFC 6750's 400 for a malformed
header, is a warning); `status_code` fails a 5xx; `secrets` fails an answer
that echoes the credential back.
"""
from __future__ import annotations

import base64
import secrets
from typing import Callable

import pytest

from contracts import Contract
from contracts.checks import Finding
from harness.transport import ApiClient
from harness.conformance import Conformance
from strategies.builder import Builder
from strategies.domains import load_domains

# label -> Authorization header built from the real key (None: no header at all).
# Each is wrong in exactly one way; the real key appears in several, so a server
# that matches the key anywhere in the header is caught.
BAD_CREDENTIALS: dict[str, Callable[[str], str | None]] = {
    "missing": lambda key: None,
    "scheme=Basic": lambda key: "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
    "scheme=Token": lambda key: f"Token {key}",
    "empty-bearer": lambda key: "Bearer",
    "empty-bearer-with-space": lambda key: "Bearer ",
    "malformed=no-scheme": lambda key: key,
    "malformed=no-space": lambda key: f"Bearer{key}",
    "unknown-key": lambda key: "Bearer " + secrets.token_urlsafe(24),
    "key-with-suffix": lambda key: f"Bearer {key}x",
}


def _payload(contract: Contract, space_id: str, name_prefix: str, label: str) -> dict:
    builder = Builder(contract, space_id=space_id, name_prefix=name_prefix)
    name = load_domains().role("name")
    return builder.build({name: builder.name_for(label)} if name else {}, seed=label)


@pytest.mark.parametrize("label", list(BAD_CREDENTIALS))
def test_rejects_bad_credentials(conformance: Conformance, client: ApiClient, contract: Contract, space_id: str,
                                 name_prefix: str, label: str) -> None:
    header = BAD_CREDENTIALS[label](client.api_key)
    exchange = conformance.send(payload=_payload(contract, space_id, name_prefix, f"auth-{label}"),
                                authorization=header, intent="unauthenticated", label=f"auth={label}")
    assert exchange.status is not None


def test_scheme_is_case_insensitive(conformance: Conformance, client: ApiClient, contract: Contract,
                                    space_id: str, name_prefix: str) -> None:
    """RFC 9110 section 11.1: auth schemes are case-insensitive; refusing `bearer` is worth a warning."""
    exchange = client.send(payload=_payload(contract, space_id, name_prefix, "auth-lowercase-scheme"),
                           authorization=f"bearer {client.api_key}", intent="unknown", label="auth=scheme-lowercase")
    extra = []
    if exchange.response is not None and exchange.response.status != 200:
        extra.append(Finding("auth", "warning", "", "the key with a lower-case scheme ('bearer') was refused "
                             "(RFC 9110: auth schemes are case-insensitive)", expected="200",
                             got=str(exchange.response.status)))
    conformance.verify(exchange, extra=extra)
