"""The echo-everything server: the reference mock handing every credential back, everywhere a report could show it.

Not a mutant (a mutant changes one behaviour; tests/selftest/mutants/leaks.py
has one per way of leaking): it exists to test the suite's redaction. The API
key comes back in a response header and in error bodies, proxy usernames and
passwords in free text (the runtime name, metadata, error bodies), not only in
fields named `password` that a structural mask would catch anyway. It remembers
every credential it received, so a test can search the suite's output for
exactly those values.
"""
from __future__ import annotations

import threading
from typing import Any

from mock import MockSettings, ServerThread, create_app
from tests.selftest.mutants.base import Reply, request_json, rewrite

_lock = threading.Lock()
AUTHORIZATION: set[str] = set()  # every Authorization header value this mutant saw
CREDENTIALS: set[str] = set()  # every proxy username and password it saw


def _credentials(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("username", "password") and isinstance(item, str):
                found.append(item)
            found += _credentials(item)
    elif isinstance(value, list):
        for item in value:
            found += _credentials(item)
    return found


def echo_everything(app):  # type: ignore[no-untyped-def]
    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        authorization = headers.get("authorization", "")
        sent = request_json(body)
        credentials = _credentials(sent)
        with _lock:
            AUTHORIZATION.add(authorization)
            CREDENTIALS.update(c for c in credentials if c)
        if authorization:
            reply.set_header("X-Debug-Authorization", authorization)
        data = reply.json
        if not isinstance(data, dict):
            return reply
        raw = body.decode("utf-8", "replace")
        if reply.status == 200:
            if credentials:
                data["name"] = f"{data.get('name', '')} via {':'.join(credentials)}"
            data["metadata"] = {"debug": raw[:4000]}
        elif isinstance(data.get("error"), dict):
            data["error"]["received"] = {"authorization": authorization, "body": raw[:4000]}
        reply.set_json(data)
        return reply

    return rewrite(fn)(app)


def received() -> tuple[list[str], list[str]]:
    """(Authorization header values, proxy usernames and passwords) received so far."""
    with _lock:
        return sorted(AUTHORIZATION), sorted(CREDENTIALS)


def serve_echo_server(api_key: str) -> ServerThread:
    """A started-on-enter echo-everything server accepting `api_key`."""
    return ServerThread(echo_everything(create_app(MockSettings(frozenset({api_key})))))
