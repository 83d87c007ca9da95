"""The reference mock behaves as a careful backend: auth, media type, JSON, schema, reflection."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from contracts import Contract
from strategies import full_payload, minimal_payload
from tests.selftest.conftest import SELFTEST_KEY

AUTH = {"Authorization": f"Bearer {SELFTEST_KEY}"}


def _minimal(contract: Contract) -> dict:
    return minimal_payload(contract.request_schema, spaceId=str(uuid.uuid4()))


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic " + SELFTEST_KEY,
                                    "Token " + SELFTEST_KEY, "Bearer wrong-key", SELFTEST_KEY])
def test_bad_auth_gets_401_with_challenge(runtimes_url: str, loaded_contract: Contract, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = requests.post(runtimes_url, json=_minimal(loaded_contract), headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthorized"


def test_wrong_content_type_gets_415(runtimes_url: str) -> None:
    response = requests.post(runtimes_url, data="spaceId=x", headers={**AUTH, "Content-Type": "text/plain"}, timeout=5)
    assert response.status_code == 415


@pytest.mark.parametrize("body", [b"{", b"", b"\xff\xfe", b"[" * 100000, b'{"a": NaN}'])
def test_malformed_json_gets_400(runtimes_url: str, body: bytes) -> None:
    response = requests.post(runtimes_url, data=body, headers={**AUTH, "Content-Type": "application/json"}, timeout=5)
    assert response.status_code == 400


def test_schema_violation_gets_422_with_pointers(runtimes_url: str) -> None:
    body = {"spaceId": "not-a-uuid", "type": "browser", "config": {"stealth": "extreme"}}
    response = requests.post(runtimes_url, json=body, headers=AUTH, timeout=5)
    assert response.status_code == 422
    pointers = {d["pointer"] for d in response.json()["error"]["details"]}
    assert pointers == {"/spaceId", "/config/stealth"}


def test_extra_properties_are_accepted(runtimes_url: str, loaded_contract: Contract) -> None:
    body = {**_minimal(loaded_contract), "somethingNew": {"x": 1}}
    assert requests.post(runtimes_url, json=body, headers=AUTH, timeout=5).status_code == 200


def test_oversize_body_gets_413(runtimes_url: str) -> None:
    body = b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = requests.post(runtimes_url, data=body, headers={**AUTH, "Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 413


def test_other_methods_get_405(runtimes_url: str) -> None:
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        assert requests.request(method, runtimes_url, headers=AUTH, timeout=5).status_code == 405


def test_full_payload_is_reflected(runtimes_url: str, loaded_contract: Contract) -> None:
    payload = full_payload(loaded_contract.request_schema, spaceId=str(uuid.uuid4()))
    response = requests.post(runtimes_url, json=payload, headers=AUTH, timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert list(loaded_contract.response_validator().iter_errors(body)) == []
    assert body["name"] == payload["name"] and body["metadata"] == payload["metadata"]
    config = payload["config"]
    assert body["config"]["stealth"] == config["stealth"]
    assert body["config"]["fingerprint"]["locale"] == config["fingerprint"]["locale"]
    assert body["config"]["lifecycle"]["idleTimeoutMinutes"] == config["lifecycle"]["idleTimeoutMinutes"]
    assert body["config"]["extensions"] == config["extensions"]
    assert body["config"]["browser"]["profile"] == config["browser"]["profile"]
    assert body["config"]["proxy"] is not None


def test_proxy_credentials_are_never_echoed(runtimes_url: str, loaded_contract: Contract) -> None:
    payload = full_payload(loaded_contract.request_schema, spaceId=str(uuid.uuid4()))
    payload["config"]["proxy"].update(username="user-s3cret-name", password="pw-s3cret-value")
    response = requests.post(runtimes_url, json=payload, headers=AUTH, timeout=5)
    assert response.status_code == 200
    assert "s3cret" not in response.text and SELFTEST_KEY not in response.text


def test_concurrent_creates_keep_ids_unique(runtimes_url: str, loaded_contract: Contract) -> None:
    def create(_: int) -> str:
        response = requests.post(runtimes_url, json=_minimal(loaded_contract), headers=AUTH, timeout=10)
        assert response.status_code == 200
        return response.json()["id"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(create, range(200)))
    assert len(set(ids)) == len(ids) == 200


def test_validation_errors_never_quote_credentials(runtimes_url: str) -> None:
    proxy = {"mode": "custom", "host": "proxy.example", "port": "8080", "protocol": "http",
             "username": "user-9f8e7d6c5b4a", "password": "pw-0a1b2c3d4e5f"}
    body = {"spaceId": "not-a-uuid", "type": "browser", "config": {"proxy": proxy}}
    response = requests.post(runtimes_url, json=body, headers=AUTH, timeout=5)
    assert response.status_code == 422
    assert {d["pointer"] for d in response.json()["error"]["details"]} == {"/spaceId", "/config/proxy"}
    assert "0a1b2c3d4e5f" not in response.text and "9f8e7d6c5b4a" not in response.text
