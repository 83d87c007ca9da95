"""A tiny HTTP/1.1 server on 127.0.0.1 whose every answer is a chosen fault.

Raw asyncio streams, not a framework: a fault server must be able to do what no
well-behaved server does (never answer, reset mid-body, lie in Content-Length).
It runs its own event loop in a daemon thread; `stop()` cancels every
connection at once, so a handler that sleeps for minutes never delays a test.
"""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Awaitable, Callable

MAX_HEAD = 64 * 1024


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""


@dataclass
class Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server: "FaultServer"
    requests: int = 0

    async def read_request(self) -> Request | None:
        """The next request on this connection, or None when the client closed it."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, *_ = lines[0].split(" ") + ["", ""]
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        try:
            body = await self.reader.readexactly(length) if length else b""
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        self.requests += 1
        self.server.count()
        return Request(method, target, headers, body)

    async def respond(self, status: int, body: bytes = b"", *, reason: str = "Fault",
                      headers: dict[str, str] | None = None) -> None:
        fields = {"Content-Type": "application/json", "Content-Length": str(len(body)), **(headers or {})}
        head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
        self.writer.write(head.encode("latin-1") + body)
        await self.writer.drain()

    def reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0), not a clean FIN."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.writer.transport.abort()


Handler = Callable[[Connection], Awaitable[None]]


@dataclass
class FaultServer:
    """`with FaultServer(handler) as server: server.url`; `server.requests` counts requests read."""

    handler: Handler
    name: str = "fault"
    port: int = 0
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._run, name=f"fault-{self.name}-{self.port}", daemon=True)
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count(self) -> None:
        with self._lock:
            self.requests += 1

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._tasks.add(task)
            try:
                await self.handler(Connection(reader, writer, self))
            except (ConnectionError, asyncio.CancelledError):
                pass  # the client gave up (it should, on a fault): nothing to report
            finally:
                self._tasks.discard(task)
                writer.transport.abort()

        server = await asyncio.start_server(on_connect, sock=self._sock, limit=MAX_HEAD)
        self._ready.set()
        await self._stopping.wait()
        server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def start(self) -> "FaultServer":
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError(f"fault server {self.name} did not start")
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> "FaultServer":
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def refused_url() -> str:
    """A loopback URL where nothing listens: bind a free port, then close it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
