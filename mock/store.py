"""The mock's in-memory runtime store, safe under concurrent requests."""
from __future__ import annotations

import threading
from typing import Any


class RuntimeStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, dict[str, Any]] = {}

    def add(self, runtime: dict[str, Any]) -> None:
        with self._lock:
            if runtime["id"] in self._items:
                raise KeyError(f"duplicate runtime id {runtime['id']}")
            self._items[runtime["id"]] = runtime

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._items)
