"""Count requests at the server, so both tools are measured the same way."""
from __future__ import annotations

import threading
from typing import Any, Awaitable, Callable


class RequestCounter:
    """An ASGI wrapper counting HTTP requests that reach the app (thread-safe)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.count = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]], send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] == "http":
            with self._lock:
                self.count += 1
        await self.app(scope, receive, send)

    def take(self) -> int:
        with self._lock:
            count, self.count = self.count, 0
        return count
