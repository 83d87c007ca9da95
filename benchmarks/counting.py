"""Count requests at the server, so both tools are measured the same way.

Every request that reaches the app gets a number, in arrival order, returned
in the `X-Bench-Request` response header: a tool's first failing request is
found in its own records (the suite's event log, schemathesis' HAR file) and
its number says how many requests the server had seen by then. Optionally
every answer is delayed (`latency`), for a target that answers slowly, and
politeness is measured where it matters, at the server: the most requests in
flight at once, and the most that arrived in any one-second window (a sliding
window over the arrival times, not calendar seconds: 20 requests at the end of
one second and 20 at the start of the next are 40 in one second).
"""
from __future__ import annotations

import asyncio
import bisect
import threading
import time
from typing import Any, Awaitable, Callable, Sequence

HEADER = b"x-bench-request"


def most_in_window(arrivals: Sequence[float], window: float = 1.0) -> int:
    """The most arrivals in any half-open window [t, t + window) (arrivals in seconds, any order)."""
    times = sorted(arrivals)
    # The busiest window can always be slid right until it starts at an arrival.
    return max((bisect.bisect_left(times, t + window, lo=i) - i for i, t in enumerate(times)), default=0)


class RequestCounter:
    """An ASGI wrapper counting HTTP requests that reach the app (thread-safe)."""

    def __init__(self, app: Any, *, latency: float = 0.0, creates_path: str = "/v2/runtimes") -> None:
        self.app = app
        self.latency = latency
        self.creates_path = creates_path
        self.count = 0
        self.creates = 0  # POSTs to the create path answered 2xx
        self.in_flight = 0
        self.most_in_flight = 0
        self.arrivals: list[float] = []  # time.monotonic() of each request's arrival, since the last take
        self._lock = threading.Lock()

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with self._lock:
            self.count += 1
            number = self.count
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.arrivals.append(time.monotonic())
        create = scope["method"] == "POST" and scope["path"].endswith(self.creates_path)

        async def numbered(message: dict) -> None:
            if message["type"] == "http.response.start":
                if create and 200 <= message["status"] < 300:
                    with self._lock:
                        self.creates += 1
                message = {**message, "headers": [*message.get("headers", []), (HEADER, str(number).encode())]}
            await send(message)

        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            await self.app(scope, receive, numbered)
        finally:
            with self._lock:
                self.in_flight -= 1

    def take(self) -> dict[str, int]:
        """What the server saw since the last take: requests, creates, most in flight, most in any one second."""
        with self._lock:
            arrivals, self.arrivals = self.arrivals, []
            seen = {"requests": self.count, "creates": self.creates, "most_in_flight": self.most_in_flight}
            self.count = self.creates = self.most_in_flight = 0
        return {**seen, "most_per_second": most_in_window(arrivals)}
