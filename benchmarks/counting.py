"""Count requests at the server, so both tools are measured the same way.

Every request that reaches the app gets a number, in arrival order, returned
in the `X-Bench-Request` response header: a tool's first failing request is
found in its own records (the suite's event log, schemathesis' HAR file) and
its number says how many requests the server had seen by then. Optionally
every answer is delayed (`latency`), for a target that answers slowly, and the
requests in flight and per second are tracked (politeness at the server).
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from typing import Any, Awaitable, Callable

HEADER = b"x-bench-request"


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
        self.per_second: Counter[int] = Counter()
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
            self.per_second[int(time.time())] += 1
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
        """What the server saw since the last take: requests, creates, most in flight, most in one second."""
        with self._lock:
            seen = {"requests": self.count, "creates": self.creates, "most_in_flight": self.most_in_flight,
                    "most_per_second": max(self.per_second.values(), default=0)}
            self.count = self.creates = self.most_in_flight = 0
            self.per_second.clear()
        return seen
