"""Fuzzing the mock's request handling with Hypothesis: no input earns a 5xx or crashes the app.

Three layers, each bounded by a fixed number of examples (a few seconds in all):
- raw bytes: request line, headers and body drawn freely, framing included,
  sent on a fresh socket; the answer must be a non-5xx or a closed connection;
- JSON: a valid create envelope (auth, content type) with any JSON body, and
  valid payloads with one subtree replaced by any JSON value;
- schema-valid payloads (the suite's own `runtime_payloads()`, edges included)
  must all be created (200): the echo must survive whatever the contract allows.
Any exception the app lets escape (uvicorn logs it at ERROR) fails the test too.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import Contract
from mock import MockSettings, ServerThread, create_app
from strategies import full_payload
from tests.selftest.faults.rawhttp import crashes, status_of

KEY = "fuzz-key-0b9e4c2d"
SPACE = "1b4e28ba-2fa1-11d2-883f-0016cb6f8a10"
FUZZ = settings(max_examples=150, deadline=None, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def server(loaded_contract: Contract) -> Iterator[ServerThread]:
    with ServerThread(create_app(MockSettings(frozenset({KEY}), max_body_bytes=64 * 1024), loaded_contract)) as srv:
        yield srv


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture(autouse=True)
def no_crash() -> Iterator[None]:
    with crashes() as logged:
        yield
    assert not logged, "the mock crashed: " + "; ".join(logged[:3])


# --- raw bytes -------------------------------------------------------------------------------
TOKEN = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_!#$%&'*+.^`|~"),
                min_size=1, max_size=12)
ANY_BYTES = st.binary(max_size=64)
METHODS = st.one_of(st.sampled_from(["POST", "GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "CONNECT"]),
                    TOKEN, ANY_BYTES.map(lambda b: b.decode("latin-1")))
HEADER_NAMES = st.one_of(st.sampled_from(["Authorization", "Content-Type", "Content-Length", "Transfer-Encoding",
                                          "Content-Encoding", "Expect", "Connection", "Host", "Accept"]), TOKEN)
HEADER_VALUES = st.one_of(
    st.sampled_from([f"Bearer {KEY}", "Bearer", "bearer  " + KEY, "application/json",
                     "application/json; charset=utf-16", "text/plain", "application/x+json", "chunked", "gzip",
                     "100-continue", "0", "-1", "99999999999", "close", ""]),
    ANY_BYTES.map(lambda b: b.decode("latin-1")),
)


@st.composite
def raw_requests(draw: st.DrawFn, path: str) -> bytes:
    method = draw(METHODS)
    target = draw(st.one_of(st.just(path), st.just(path + "?" + draw(TOKEN)),
                            ANY_BYTES.map(lambda b: "/" + b.decode("latin-1"))))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9", ""]))
    headers = draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=8))
    body = draw(st.one_of(ANY_BYTES, st.just(b'{"type": "browser", "spaceId": "' + SPACE.encode() + b'"}')))
    if draw(st.booleans()):  # usually frame the body honestly, sometimes leave the headers as drawn
        headers = [(n, v) for n, v in headers if n.lower() != "content-length"] + [("Content-Length", str(len(body)))]
    head = f"{method} {target} {version}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers) + "\r\n"
    return head.encode("latin-1") + body


def test_raw_requests_never_get_a_5xx(server: ServerThread, loaded_contract: Contract) -> None:
    @FUZZ
    @given(raw_requests(loaded_contract.path))
    def check(data: bytes) -> None:
        try:
            status = status_of(server.host, server.port, data, timeout=2.0)
        except TimeoutError:
            return  # the server waits for the rest of an incomplete request: allowed
        assert status is None or status < 500, f"{status} for {data[:300]!r}"

    check()


# --- JSON bodies -----------------------------------------------------------------------------
class Raw(str):
    """A JSON fragment written verbatim: numbers and nestings `json.dumps` would never produce."""


RAW_FRAGMENTS = st.one_of(
    # numbers as written: 1e999 (infinity once parsed), 400 digits
    st.from_regex(r"-?(0|[1-9][0-9]{0,400})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    st.integers(1, 1200).map(lambda depth: "[" * depth + "]" * depth),  # up to past the parser's recursion limit
    st.integers(1, 300).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
).map(Raw)
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=20)  # surrogates included
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT | RAW_FRAGMENTS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


def dumps(value: Any) -> str:
    """json.dumps, except that Raw fragments go in as written (ensure_ascii turns surrogates into escapes)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + dumps(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


def _post(session: requests.Session, server: ServerThread, contract: Contract, body: bytes) -> requests.Response:
    return session.post(server.url + contract.path, data=body, timeout=5,
                        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})


def test_any_json_body_never_gets_a_5xx(server: ServerThread, loaded_contract: Contract,
                                        session: requests.Session) -> None:
    @FUZZ
    @given(JSON)
    def check(value: Any) -> None:
        answer = _post(session, server, loaded_contract, dumps(value).encode())
        assert answer.status_code < 500, f"{answer.status_code} for {value!r}"

    check()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, prefix + (index,))
    return found


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of `value` with `new` at `path` (a missing last key is added)."""
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(copy[path[0]], path[1:], new) if len(path) > 1 else new
    return copy


def test_valid_payload_with_one_change_never_gets_a_5xx(server: ServerThread, loaded_contract: Contract,
                                                        session: requests.Session) -> None:
    """A valid payload with one subtree replaced, or one member added to an object, by any JSON.

    Adding members reaches the free-form places (`metadata`) the mock echoes back, where
    a value that parses but cannot be written back out would turn into a 500.
    """
    full = full_payload(loaded_contract.request_schema, spaceId=SPACE)
    paths = _paths(full)
    objects = [path for path in paths if isinstance(_get(full, path), dict)]

    @settings(FUZZ, max_examples=500)  # ~3 ms each; finds the echo hazards of 2aeef4b^ in most runs
    @given(st.one_of(st.tuples(st.just("replace"), st.sampled_from(paths), JSON),
                     st.tuples(st.just("add"), st.sampled_from(objects).flatmap(
                         lambda path: TEXT.map(lambda key: path + (key,))), JSON)))
    def check(change: tuple[str, tuple[Any, ...], Any]) -> None:
        _, path, new = change
        body = _replace(full, path, new)
        answer = _post(session, server, loaded_contract, dumps(body).encode())
        assert answer.status_code < 500, f"{answer.status_code} with {'/'.join(map(str, path))} = {new!r}"

    check()


def test_every_schema_valid_payload_is_created(server: ServerThread, loaded_contract: Contract,
                                               session: requests.Session) -> None:
    """The suite's own valid-payload strategy (edges included) against the reference: always 200."""
    from strategies.valid import runtime_payloads  # the strategies' public generator, edges and all

    validator = loaded_contract.request_validator()

    @settings(FUZZ, max_examples=100)
    @given(runtime_payloads(loaded_contract, space_id=SPACE, name_prefix="fuzz-"))
    def check(payload: Any) -> None:
        assert validator.is_valid(payload), f"the strategy drew an invalid payload: {payload!r}"
        answer = _post(session, server, loaded_contract, json.dumps(payload).encode())
        assert answer.status_code == 200, f"{answer.status_code} for schema-valid {payload!r}: {answer.text[:300]}"

    check()
