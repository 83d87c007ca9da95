"""Raw HTTP on a socket, for requests no well-behaved client would send, and a crash watcher."""
from __future__ import annotations

import logging
import socket
from contextlib import contextmanager
from typing import Iterator


def status_of(host: str, port: int, data: bytes, timeout: float = 5.0) -> int | None:
    """The status the server answers `data` with; None if it closed the connection without answering."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it stopped reading (e.g. after a 413): the answer may still be there
        head = b""
        try:
            while b"\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    return None
                head += chunk
        except ConnectionResetError:
            if not head:
                return None
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def crashes(logger: str = "uvicorn.error") -> Iterator[list[str]]:
    """Collect what the server logs at ERROR (uvicorn: 'Exception in ASGI application') meanwhile."""
    handler = _Errors()
    log = logging.getLogger(logger)
    log.addHandler(handler)
    try:
        yield handler.messages
    finally:
        log.removeHandler(handler)
