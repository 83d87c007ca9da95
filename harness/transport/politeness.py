"""Being a good guest on a shared server: budget, pacing, 429 + Retry-After, safe retries.

Implemented as a requests transport adapter, so every request that goes
through the suite's session gets it, whoever builds the request (our client,
or schemathesis when handed `client.session`).

Retries are conservative on purpose: a create (POST) is retried only when it
provably never reached the server (the connection was not established), or
when the server answered 429 (it refused, so nothing was created). A read
timeout or a connection reset after sending may hide a runtime that was
created: the failure is reported instead, never retried.
"""
from __future__ import annotations

import contextlib
import email.utils
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from harness.transport.budget import BudgetExhausted, SharedBudget
from harness.transport.inflight import InFlight

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
EventSink = Callable[[dict[str, Any]], None]


_admission = threading.local()


@contextlib.contextmanager
def on_admitted(callback: Callable[[], None]) -> Iterator[None]:
    """Call `callback` once this thread's next request holds its in-flight slot, budget and pacing slot.

    A sender that keeps an order (the plan executor) lets the next request in only then: what it
    waits for (a slot, the last reservations of the budget, the pacing interval) is taken in the
    sender's order, not by whichever thread wakes first.
    """
    _admission.callback = callback
    try:
        yield
    finally:
        _admission.callback = None


def _admitted() -> None:
    callback = getattr(_admission, "callback", None)
    if callback is not None:
        _admission.callback = None
        callback()


class Throttled(pytest.skip.Exception):  # type: ignore[misc,name-defined]
    """The server kept answering 429 (or asked for too long a wait): not judged, skipped."""


@dataclass(frozen=True)
class RetryPolicy:
    max_throttle_retries: int = 3  # 429s honoured per request before giving up
    max_retry_wait: float = 30.0  # longest Retry-After we wait; longer: give up on the request
    default_wait: float = 1.0  # a 429 without Retry-After: 1, 2, 4 ... seconds
    max_connection_retries: int = 2
    backoff: float = 0.5  # connection retries: 0.5, 1, 2 ... seconds


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP-date (RFC 9110 10.2.3); None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def never_reached_server(exc: BaseException) -> bool:
    """True only when the connection was never established, so the request was never sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause: Any = exc
    for _ in range(6):
        if isinstance(cause, (NewConnectionError, ConnectTimeoutError)):
            return True
        if isinstance(cause, MaxRetryError):
            cause = cause.reason
        elif getattr(cause, "args", None) and isinstance(cause.args[0], BaseException):
            cause = cause.args[0]
        else:
            return False
    return False


class PoliteAdapter(HTTPAdapter):
    """An HTTPAdapter that takes a budget slot before each attempt and retries only when safe."""

    def __init__(self, budget: SharedBudget | None, create_path: str, *, policy: RetryPolicy = RetryPolicy(),
                 on_event: EventSink | None = None, sleep: Callable[[float], None] = time.sleep,
                 inflight: InFlight | None = None, guard: Callable[[], None] | None = None) -> None:
        super().__init__(pool_maxsize=64)  # the plan's threads share the connection pool
        self.budget = budget
        self.create_path = create_path
        self.policy = policy
        self.on_event = on_event
        self.sleep = sleep
        self.inflight = inflight  # at most N requests on the wire, across the run's threads and processes
        self.guard = guard  # raises (the breaker is open) instead of sending or retrying
        # A 429's Retry-After holds for every thread of the process, not only the one that got it.
        self._paused_until = 0.0
        self._paused_by = 0
        self._pause_lock = threading.Lock()

    def _is_create(self, request: requests.PreparedRequest) -> bool:
        return request.method == "POST" and urlsplit(request.url or "").path.endswith(self.create_path)

    def _emit(self, kind: str, request: requests.PreparedRequest, **fields: Any) -> None:
        if self.on_event is not None:
            self.on_event({"event": kind, "method": request.method, "url": request.url or "", **fields})

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        create = self._is_create(request)
        throttles = connection_retries = 0
        while True:
            if self.guard is not None:
                self.guard()
            with self._pause_lock:
                mine = self._paused_by == threading.get_ident()
                pause = 0.0 if mine else self._paused_until - time.time()
            if pause > 0:  # another thread's 429 asked everybody to wait (this thread's own wait is below)
                self.sleep(pause)
            created = True  # unless the answer says otherwise: a lost answer may hide a created runtime
            acquired = False
            try:
                # The in-flight slot first, then the pacing slot: a request paced, then kept waiting for
                # a free slot, would leave together with the next one.
                with self.inflight.slot() if self.inflight is not None else contextlib.nullcontext():
                    if self.budget is not None:
                        try:
                            self.budget.acquire(create=create)
                        except BudgetExhausted as exc:
                            self._emit("budget_exhausted", request, message=str(exc))
                            raise
                    acquired = True
                    _admitted()
                    response = super().send(request, *args, **kwargs)
                created = 200 <= response.status_code < 300
            except requests.ConnectionError as exc:
                reached = not never_reached_server(exc)
                created = reached
                safe = request.method in IDEMPOTENT or not reached
                if not safe or connection_retries >= self.policy.max_connection_retries:
                    raise
                wait = self.policy.backoff * 2 ** connection_retries
                connection_retries += 1
                self._emit("retry", request, reason=str(exc)[:200], attempt=connection_retries, waited=wait)
                self.sleep(wait)
                continue
            finally:
                if create and self.budget is not None and acquired:
                    self.budget.settle(created=created)
            if response.status_code != 429:
                return response
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            wait = asked if asked is not None else self.policy.default_wait * 2 ** throttles
            if throttles >= self.policy.max_throttle_retries or wait > self.policy.max_retry_wait:
                response.close()
                why = (f"asked to wait {wait:g} s, more than --max-retry-wait {self.policy.max_retry_wait:g}"
                       if wait > self.policy.max_retry_wait else f"{throttles + 1} answers 429 in a row")
                self._emit("throttled", request, retry_after=response.headers.get("Retry-After"), waited=0,
                           gave_up=True)
                raise Throttled(f"the target throttled {request.method} {request.url or ''} "
                                f"({why}); not judged. Lower --rate-limit or retry later")
            throttles += 1
            self._emit("throttled", request, retry_after=response.headers.get("Retry-After"), waited=wait,
                       gave_up=False)
            response.close()
            with self._pause_lock:
                self._paused_until, self._paused_by = max(self._paused_until, time.time() + wait), threading.get_ident()
            self.sleep(wait)


def mount(session: requests.Session, adapter: PoliteAdapter) -> None:
    for prefix in ("http://", "https://"):
        session.mount(prefix, adapter)
