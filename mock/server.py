"""Run an ASGI app on a real loopback socket in a background thread (uvicorn)."""
from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn


UVICORN = {"access_log": False, "lifespan": "off", "timeout_keep_alive": 5, "limit_concurrency": 512, "backlog": 512}


class ServerThread:
    """A uvicorn server on 127.0.0.1 in a daemon thread; a context manager.

    Port 0 picks a free port; `url` is known once the socket is bound, before
    the server starts, so there is no race between picking and binding.
    """

    name = "mock"

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
                 **config: Any) -> None:
        """`config`: uvicorn.Config settings over this server's defaults (the proxy turns the lifespan on)."""
        self.app = app
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it: without it, a keep-alive client (a requests
        # Session) waits ~40 ms per answer for Nagle + delayed ACK, because the
        # response head and body leave in two writes.
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        self._server = uvicorn.Server(uvicorn.Config(app, **{**UVICORN, "log_level": log_level, **config}))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"{self.name}-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> "ServerThread":
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def _serve_forked(app: Any, sock: socket.socket, log_level: str) -> None:
    uvicorn.Server(uvicorn.Config(app, **{**UVICORN, "log_level": log_level})).run(sockets=[sock])


class ServerProcess:
    """The same server in a child process (forked), so it runs on another core than the caller.

    The socket is bound here, before the fork, so `url` is known at once and
    the child only serves it. Used for the embedded mock of a run: the suite
    and the reference server then use the machine's two cores instead of
    taking turns on one. Stopped (terminated, then killed) on exit.
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> None:
        import multiprocessing

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.bind((host, port))
        self._sock.listen(512)
        self.host, self.port = self._sock.getsockname()[:2]
        self._process = multiprocessing.get_context("fork").Process(
            target=_serve_forked, args=(app, self._sock, log_level), name=f"mock-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> "ServerProcess":
        self._process.start()
        deadline = time.monotonic() + timeout
        while True:  # the socket already listens; wait until the child answers on it
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as probe:
                    probe.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if probe.recv(16):
                        # The child serves; this copy of the listening socket would only keep it open
                        # after the child ends (Ctrl-C reaches both): connections would then wait in
                        # its backlog for the whole request timeout instead of being refused at once.
                        self._sock.close()
                        return self
            except OSError:
                pass
            if not self._process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} server did not start on {self.url}")
            time.sleep(0.02)

    def stop(self, timeout: float = 5.0) -> None:
        self._process.terminate()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout)
        self._sock.close()

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
