"""The one way the suite talks to a target: real HTTP, auth, timeouts, a capped read.

Nothing here leaves the process: exchanges go to `on_exchange`, and the
recording layer redacts them when it writes them down.
"""
from __future__ import annotations

import json
import os
import threading
import time
from typing import Any, Callable

import requests

from contracts.checks.model import MISSING, Exchange, Intent, Received, SentRequest
from harness.transport.politeness import PoliteAdapter, mount
from harness.transport.session import CappedSession

DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
USE_KEY: Any = object()  # sentinel: authenticate with the configured key


class ApiClient:
    """Sends requests to one base URL and reports every exchange to `on_exchange`."""

    def __init__(self, base_url: str, api_key: str, path: str, *, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 on_exchange: Callable[[Exchange], None] | None = None,
                 on_request: Callable[[SentRequest], None] | None = None,
                 on_read: Callable[[requests.Response, bytes, bool], None] | None = None,
                 max_response_bytes: int = MAX_RESPONSE_BYTES, politeness: PoliteAdapter | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.url = self.base_url + path
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.on_exchange = on_exchange
        self.on_request = on_request  # before sending: e.g. the redactor learns the request's credentials
        self._local = threading.local()
        # Never follows redirects, never reads a body past the cap: for everything sent
        # through this session, schemathesis included (see harness/session.py).
        self.session = CappedSession(max_response_bytes, on_read=on_read)
        self.session.headers.update({"User-Agent": "bctrl-conformance/1", "Accept": "application/json"})
        # The environment's proxy and CA settings, read once for the target instead of on every request
        # (requests re-reads them per request: a tenth of the suite's own time per request).
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.session.trust_env = False
        if politeness is not None:
            # Budget, pacing, 429 and safe retries live in the transport, so anything
            # sent through `self.session` (schemathesis included) gets them.
            mount(self.session, politeness)

    def create(self, payload: Any, *, intent: Intent = "valid", label: str = "") -> Exchange:
        """POST a JSON payload with the configured key."""
        return self.send(payload=payload, intent=intent, label=label)

    def send(self, method: str = "POST", *, payload: Any = MISSING, body: bytes | None = None,
             content_type: str | None = "application/json", authorization: Any = USE_KEY,
             headers: dict[str, str] | None = None, intent: Intent = "unknown", label: str = "",
             path: str | None = None, test: str = "") -> Exchange:
        """Send one request. `authorization=None` sends no Authorization header; a string sends it verbatim.

        `test` names the test the request is sent for, when it is not the running one (the plan's
        threads send ahead of the tests): what the transport records about it carries that name.
        """
        if payload is not MISSING:
            body = json.dumps(payload).encode("utf-8")
        sent_headers: dict[str, str] = {}
        if authorization is USE_KEY:
            sent_headers["Authorization"] = f"Bearer {self.api_key}"
        elif authorization is not None:
            sent_headers["Authorization"] = authorization
        if content_type is not None and body is not None:
            sent_headers["Content-Type"] = content_type
        sent_headers.update(headers or {})
        url = self.base_url + path if path is not None else self.url
        request = SentRequest(method, url, sent_headers, body, payload, intent, label, sent_at=time.time())
        if self.on_request:
            self.on_request(request)
        exchange = self._transmit(request, test)
        if self.on_exchange:
            self.on_exchange(exchange)
        return exchange

    def label_in_flight(self) -> str:
        """The label of the request this thread is sending through our own `send` ("" for other callers)."""
        return getattr(self._local, "label", "")

    def test_in_flight(self) -> str:
        """The test this thread's request is sent for, when `send` named one ("": the running test)."""
        return getattr(self._local, "test", "")

    def _transmit(self, request: SentRequest, test: str = "") -> Exchange:
        self._local.label, self._local.test = request.label, test
        try:
            return self._transmit_labelled(request)
        finally:
            self._local.label = self._local.test = ""

    def _transmit_labelled(self, request: SentRequest) -> Exchange:
        started = time.monotonic()
        try:
            with self.session.request(request.method, request.url, data=request.body, headers=request.headers,
                                      timeout=self.timeout, stream=True, allow_redirects=False) as raw:
                body, truncated = self._read_capped(raw)
                received = Received.build(raw.status_code, dict(raw.headers), body,
                                          elapsed=time.monotonic() - started, truncated=truncated,
                                          received_at=time.time())
            return Exchange(request, received)
        except requests.Timeout:
            return Exchange(request, None, f"no answer within the {self.timeout[1]:g} s read timeout")
        except requests.ConnectionError as exc:
            return Exchange(request, None, f"connection failed: {_reason(exc)}")
        except requests.RequestException as exc:
            return Exchange(request, None, f"request failed: {_reason(exc)}")

    def _read_capped(self, raw: requests.Response) -> tuple[bytes, bool]:
        # The session passes on no more than the cap, and of a cut-off body only a prefix
        # for the report (harness/session.py): it cannot be judged anyway.
        body = b"".join(raw.iter_content(64 * 1024))
        return body, bool(getattr(raw.raw, "truncated", False)) or len(body) > self.max_response_bytes

    def close(self) -> None:
        self.session.close()


def _reason(exc: Exception) -> str:
    # requests nests the real cause several levels deep; the innermost says it best.
    cause: BaseException = exc
    while cause.__cause__ is not None or (cause.args and isinstance(cause.args[0], BaseException)):
        cause = cause.__cause__ or cause.args[0]
    return (str(cause).split(": ", 1)[-1] if "Errno" in str(cause) else str(cause))[:200]


def sent_request(prepared: requests.PreparedRequest, *, intent: Intent = "unknown", label: str = "") -> SentRequest:
    """A request some library prepared (schemathesis), as the data model has it."""
    body = prepared.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    payload: Any = MISSING
    if body:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            payload = MISSING
    headers = {str(k): str(v) for k, v in prepared.headers.items()}
    return SentRequest(str(prepared.method).upper(), str(prepared.url), headers, body or None, payload, intent, label)
