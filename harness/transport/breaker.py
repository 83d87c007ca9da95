"""A circuit breaker: stop the run when the target is down, instead of timing out test after test.

A nightly run against a target that died (or never answered HTTP at all) would
otherwise wait the full request timeout for every request of every test, and
Hypothesis would wait again while shrinking. The breaker counts requests in a
row that got no usable answer: a transport failure (refused, reset, timed out,
cut off mid-body), a gateway/availability status (502, 503, 504), or a 429 the
client gave up on after honouring Retry-After. A 500 is not counted: a server
that crashes on some inputs is alive, and each crash is a finding to collect.

It sits in the transport (a requests adapter around whatever the session has
mounted), so every request through the suite's session counts, schemathesis'
included. A failure while reading the body comes after the adapter returned;
`settle(exchange)` from the client's exchange callback accounts for it.

Once open, the breaker refuses to send (`TargetDown`, a pytest skip, so
Hypothesis stops at once instead of shrinking); the pytest integration ends the
run after the current test with one line and exit code EXIT_TARGET_DOWN
(harness/plugin/breaker.py). What was found before stays in the event log and
the reports.

One run, one count: a run of several processes (the forked helper of a run on
this machine, xdist workers) keeps the count in a small file of the run's state
folder (`share`), read and written under an advisory lock, so "N dead answers
in a row" means N across the run, whichever process sent them, and a breaker
opened in one process refuses in all. Alone, a process counts in memory.
"""
from __future__ import annotations

import fcntl
import os
import struct
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from requests.adapters import BaseAdapter

from contracts.checks.model import Exchange
from harness.transport.politeness import Throttled

EXIT_TARGET_DOWN = 11  # distinct from 1 (violations), 4 (usage), 10 (unreachable at start)
DEFAULT_THRESHOLD = 5
# Before the target has given one usable answer it has proven nothing: two dead answers suffice.
COLD_THRESHOLD = 2
DEAD_STATUSES = frozenset({429, 502, 503, 504})
STATE_FILE = "breaker.bin"


class TargetDown(pytest.skip.Exception):  # type: ignore[misc,name-defined]
    """The breaker is open: the request was not sent. A skip, so Hypothesis does not shrink on it."""


def _hint(reason: str) -> str:
    if "timed out" in reason or reason.startswith("no answer within"):
        return "is the server hung or overloaded? If it is only slow, raise --request-timeout"
    if reason.startswith("HTTP 429"):
        return "the server throttles every request: lower --rate-limit or run later"
    if reason.startswith("HTTP 5"):
        return "the server (or a gateway in front of it) is unavailable: check its health, then rerun"
    return "is the server up, and is --base-url right?"


def _innermost(exc: BaseException) -> str:
    cause: BaseException = exc
    for _ in range(8):
        nxt = cause.__cause__ or (cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None)
        if nxt is None:
            break
        cause = nxt
    return str(cause)


def _read_timeout(timeout: Any) -> str:
    value = timeout[1] if isinstance(timeout, tuple) else timeout
    return f"{value:g} s " if isinstance(value, (int, float)) else ""


@dataclass
class Counts:
    consecutive: int = 0  # dead answers in a row, up to now
    answered: bool = False  # has the target ever given a usable answer?
    dead_answers: int = 0  # in the whole run
    tripped: str | None = None  # the one line that ends the run, once open


class _InMemory:
    """The counts of a run of one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = Counts()

    @contextmanager
    def locked(self) -> Iterator[Counts]:
        with self._lock:
            yield self._counts


class _InFile:
    """The counts of a run of several processes: a few bytes of a file, read and written under flock.

    Each process opens the file itself (a forked child too: an open file it shared with its
    parent would share the parent's lock as well). A few microseconds a request.
    """

    HEAD = struct.Struct("<iiiH")  # consecutive, answered, dead answers, length of the line
    LINE_BYTES = 1024

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # threads of one process share its file and so its flock
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        if self._pid != os.getpid():
            if self._fd is not None:
                os.close(self._fd)  # the parent's, inherited through a fork
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self._fd

    @contextmanager
    def locked(self) -> Iterator[Counts]:
        with self._lock:
            fd = self._file()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                counts = self._decode(os.pread(fd, self.HEAD.size + self.LINE_BYTES, 0))
                yield counts
                os.pwrite(fd, self._encode(counts), 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _decode(self, raw: bytes) -> Counts:
        if len(raw) < self.HEAD.size:
            return Counts()
        consecutive, answered, dead, size = self.HEAD.unpack_from(raw)
        line = raw[self.HEAD.size:self.HEAD.size + size].decode("utf-8", "replace") if size else None
        return Counts(consecutive, bool(answered), dead, line)

    def _encode(self, counts: Counts) -> bytes:
        line = (counts.tripped or "").encode("utf-8")[:self.LINE_BYTES]
        return self.HEAD.pack(counts.consecutive, int(counts.answered), counts.dead_answers, len(line)) + line


class CircuitBreaker:
    """Counts consecutive dead answers from one target. `threshold` 0 disables it."""

    def __init__(self, url: str = "", threshold: int = DEFAULT_THRESHOLD, cold_threshold: int = COLD_THRESHOLD) -> None:
        self.url = url
        self.threshold = threshold
        self.cold_threshold = min(cold_threshold, threshold)
        self._counts: _InMemory | _InFile = _InMemory()
        self._local = threading.local()  # per thread: an answer whose body is still being read

    def share(self, folder: Path, *, fresh: bool) -> None:
        """Count across the processes of the run, in `folder` (`fresh`: the run starts here, from zero)."""
        path = folder / STATE_FILE
        if fresh and path.exists():
            path.unlink()
        self._counts = _InFile(path)

    @property
    def tripped(self) -> str | None:
        """The one line that ends the run, once the breaker is open (in any process of the run)."""
        with self._counts.locked() as counts:
            return counts.tripped

    @property
    def dead_answers(self) -> int:
        """Dead answers in the whole run."""
        with self._counts.locked() as counts:
            return counts.dead_answers

    def answered_or_open(self) -> bool:
        """Has the target given one usable answer yet, or has the breaker opened (in any process of the run)?"""
        with self._counts.locked() as counts:
            return counts.answered or counts.tripped is not None

    # -- counting ---------------------------------------------------------------------------
    def record(self, dead: str | None) -> None:
        """Count one outcome: `dead` says why it was dead; None means a usable answer."""
        with self._counts.locked() as counts:
            if dead is None:
                counts.consecutive, counts.answered = 0, True
                return
            counts.consecutive += 1
            counts.dead_answers += 1
            limit = self.threshold if counts.answered else self.cold_threshold
            if self.threshold > 0 and counts.tripped is None and counts.consecutive >= limit:
                counts.tripped = self._line(counts, dead)

    def _line(self, counts: Counts, last: str) -> str:
        where = self.url or "the target"
        what = (f"{counts.consecutive} requests in a row to {where} got no usable answer" if counts.answered
                else f"the target never answered: the first {counts.consecutive} requests to {where} failed")
        return (f"run stopped, target down: {what} (last: {last[:160]}); {_hint(last)} "
                f"(exit {EXIT_TARGET_DOWN}; what was found before is in the report)")

    def guard(self) -> None:
        """Raise TargetDown, without sending, once the breaker is open."""
        tripped = self.tripped
        if tripped is not None:
            raise TargetDown(f"not sent: {tripped}")

    # -- the transport ----------------------------------------------------------------------
    def _flush(self) -> None:
        # The previous answer on this thread had a head; nobody reported its body failing.
        if getattr(self._local, "pending", False):
            self._local.pending = False
            self.record(None)

    def around(self, send: Callable[[], requests.Response], timeout: Any) -> requests.Response:
        """Run one transport send: refuse when open, count what comes back."""
        self._flush()
        self.guard()
        try:
            response = send()
        except Throttled:
            self.record("HTTP 429 on every retry, the client gave up")
            raise
        except requests.ReadTimeout:
            self.record(f"no answer within the {_read_timeout(timeout)}read timeout")
            raise
        except requests.RequestException as exc:
            self.record(f"{type(exc).__name__}: {_innermost(exc)}")
            raise
        if response.status_code in DEAD_STATUSES:
            self.record(f"HTTP {response.status_code}")
        else:
            self._local.pending = True  # alive, unless reading the body fails (see settle)
        return response

    def settle(self, exchange: Exchange) -> None:
        """From the client: the exchange is complete; a body that failed to arrive is a dead answer."""
        if getattr(self._local, "pending", False):
            self._local.pending = False
            self.record(exchange.error or "no response" if exchange.response is None else None)

    def install(self, session: requests.Session, url: str) -> None:
        """Wrap the adapters mounted on `session` so every request through it is counted."""
        self.url = url
        for prefix in ("https://", "http://"):
            session.mount(prefix, BreakerAdapter(session.adapters[prefix], self))


class BreakerAdapter(BaseAdapter):
    """A transport adapter that sends through `inner`, with the breaker around it."""

    def __init__(self, inner: BaseAdapter, breaker: CircuitBreaker) -> None:
        super().__init__()
        self.inner = inner
        self.breaker = breaker

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        return self.breaker.around(lambda: self.inner.send(request, **kwargs), kwargs.get("timeout"))

    def close(self) -> None:
        self.inner.close()
