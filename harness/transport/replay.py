"""Prefetch: send requests known in advance several at a time, and hand each answer to whoever sends it next.

The exploratory tests (Hypothesis, schemathesis) send one request after another,
each chosen by the generator. On a slow target that is the run's time. But a
generator run with a fixed seed draws the same requests again: a dry pass
(nothing sent) lists them, `prefetch()` sends them with several in flight
through the session's own transport (budget, pacing, breaker, ledger: each is a
real request, counted once), and the real pass then finds each answer waiting
in the `ReplayCache`, by the request's fingerprint, instead of waiting for the
server. An answer is handed out once; a request the real pass sends that the
dry pass did not foresee (a failure makes Hypothesis shrink) simply goes out.
An answer nobody took is returned by `leftovers()`: it was sent, so it is judged.
"""
from __future__ import annotations

import hashlib
import io
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Iterable

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPResponse

# Headers that identify the request for this purpose; the others (a generator's per-case id, the user
# agent, the length) may differ between the dry and the real pass of the same request.
FINGERPRINT_HEADERS = ("authorization", "content-type")
REPLAYED = "_bctrl_replayed"


def fingerprint(method: str, url: str, headers: Any, body: bytes | str | None) -> str:
    wanted = {k.lower(): str(v) for k, v in dict(headers or {}).items() if k.lower() in FINGERPRINT_HEADERS}
    data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    text = "\n".join([method.upper(), url, *(f"{k}:{wanted[k]}" for k in sorted(wanted))])
    return hashlib.sha256(text.encode("utf-8") + b"\n" + data).hexdigest()


def fingerprint_of(request: requests.PreparedRequest) -> str:
    return fingerprint(str(request.method), str(request.url), request.headers, request.body)


@dataclass(frozen=True)
class StoredAnswer:
    request: requests.PreparedRequest
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    elapsed: float
    received_at: float


class ReplayCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[str, deque[StoredAnswer]] = {}
        self.served = 0

    def put(self, key: str, answer: StoredAnswer) -> None:
        with self._lock:
            self._answers.setdefault(key, deque()).append(answer)

    def take(self, key: str) -> StoredAnswer | None:
        with self._lock:
            waiting = self._answers.get(key)
            if not waiting:
                return None
            self.served += 1
            return waiting.popleft()

    def leftovers(self) -> list[StoredAnswer]:
        """Answers fetched but never asked for (they were sent: judge them), and forget them."""
        with self._lock:
            rest = [a for waiting in self._answers.values() for a in waiting]
            self._answers.clear()
        return rest


class ReplayAdapter(BaseAdapter):
    """The outermost transport adapter: an answer waiting in the cache is handed out instead of sending."""

    def __init__(self, inner: BaseAdapter, cache: ReplayCache) -> None:
        super().__init__()
        self.inner = inner
        self.cache = cache

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        stored = self.cache.take(fingerprint_of(request))
        if stored is None:
            return self.inner.send(request, **kwargs)
        raw = HTTPResponse(body=io.BytesIO(stored.body), headers=stored.headers, status=stored.status,
                           reason=stored.reason, preload_content=False, decode_content=False)
        response = requests.Response()
        response.status_code = stored.status
        response.reason = stored.reason
        response.headers = CaseInsensitiveDict(stored.headers)
        response.raw = raw
        response.url = str(request.url)
        response.request = request
        response.elapsed = __import__("datetime").timedelta(seconds=stored.elapsed)
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        setattr(response, REPLAYED, True)
        return response

    def close(self) -> None:
        self.inner.close()


def install(session: requests.Session, cache: ReplayCache) -> None:
    for prefix in ("https://", "http://"):
        session.mount(prefix, ReplayAdapter(session.adapters[prefix], cache))


def prefetch(session: requests.Session, prepared: Iterable[requests.PreparedRequest], cache: ReplayCache, *,
             concurrency: int, timeout: Any) -> int:
    """Send every request (several in flight) through `session`; each answer waits in `cache`. Returns the count.

    A request the transport does not send (budget, breaker, throttling) is left out: the real pass meets
    the same refusal itself.
    """
    requests_ = list(prepared)

    def fetch(request: requests.PreparedRequest) -> None:
        started = time.monotonic()
        try:
            with session.send(request, timeout=timeout, stream=True, allow_redirects=False) as response:
                body = b"".join(response.iter_content(64 * 1024))
                truncated = bool(getattr(response.raw, "truncated", False))
                if truncated:
                    return  # a body cut off is not replayed: the real pass reads it (and judges it) itself
                cache.put(fingerprint_of(request), StoredAnswer(
                    request, response.status_code, response.reason or "", dict(response.headers), body,
                    time.monotonic() - started, time.time()))
        except BaseException:  # noqa: BLE001 - not sent, or no answer: the real pass will meet it
            return

    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="prefetch") as pool:
        list(pool.map(fetch, requests_))
    return len(requests_)
