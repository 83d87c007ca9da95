"""One credentials policy (contracts/credentials.py), used alike by the redactor and the secrets check."""
from __future__ import annotations

import base64
import json
from urllib.parse import quote

from contracts import Contract
from contracts.checks import SentRequest
from contracts.checks.secrets import credentials
from contracts.credentials import (MASK_MIN_LENGTH, SEARCH_MIN_LENGTH, credential_pointers, forms, header_credentials,
                                   payload_credentials)
from harness.recording import Redactor


def test_the_contract_declares_the_credential_fields(loaded_contract: Contract) -> None:
    pointers = credential_pointers(loaded_contract.request_schema)
    assert pointers and all(p.rsplit("/", 1)[-1] in ("username", "password") for p in pointers)
    assert not any(p.startswith("/metadata") for p in pointers), "free-form members are data, not credentials"


def test_every_wire_form_of_a_credential() -> None:
    value = "pw-é/ü+:x"
    found = forms(value)
    assert {value, quote(value, safe=""), json.dumps(value)[1:-1]} <= found
    assert base64.b64encode(f"{value}:".encode()).decode() in found
    assert base64.urlsafe_b64encode(f":{value}".encode()).decode().rstrip("=") in found


def test_header_credentials_know_a_scheme_word_from_a_key() -> None:
    assert header_credentials({"Authorization": "Bearer k-123"}) == {"the API key (Authorization header)": "k-123"}
    assert header_credentials({"authorization": "k-123"}) == {"the API key (Authorization header)": "k-123"}
    assert header_credentials({"Authorization": "Bearer"}) == {}, "a scheme's name alone is no secret"
    assert header_credentials({"Authorization": "Bearer "}) == {}
    basic = header_credentials({"Authorization": "Basic " + base64.b64encode(b"user-1:pass-2").decode()})
    assert basic["the Basic user"] == "user-1" and basic["the Basic password"] == "pass-2"


def test_the_redactor_and_the_secrets_check_read_the_same_policy(loaded_contract: Contract) -> None:
    payload = {"spaceId": "s", "type": "browser", "metadata": {"password": "meta-value-123"},
               "config": {"proxy": {"mode": "custom", "host": "h", "port": 1, "protocol": "http",
                                    "username": "user-0123456789", "password": "pw-0123456789"}}}
    request = SentRequest.for_json("POST", "http://x/v2/runtimes", {"Authorization": "Bearer key-0123456789"}, payload)
    checked = set(credentials(request, loaded_contract).values())
    assert checked == {"key-0123456789", "user-0123456789", "pw-0123456789"}
    redactor = Redactor()
    redactor.learn_request(request)
    text = redactor.text(json.dumps(payload) + " Bearer key-0123456789 " + base64.b64encode(b"key-0123456789:").decode())
    assert not any(secret in text for secret in checked) and "Bearer" in text
    # The redactor masks credential-named members anywhere (metadata included); the check searches declared ones.
    assert "meta-value-123" not in text and ("/metadata/password", "meta-value-123") in payload_credentials(payload)
    assert MASK_MIN_LENGTH < SEARCH_MIN_LENGTH
