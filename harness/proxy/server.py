"""Serve the proxy app on 127.0.0.1 with uvicorn in a thread, and stop it cleanly on SIGINT/SIGTERM."""
from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any, Callable

from mock.server import ServerThread


class ProxyServer(ServerThread):
    """uvicorn serving `app` on a loopback socket in a daemon thread; a context manager.

    The mock's ServerThread (the socket is bound before the thread starts, so
    `url` is known at once and port 0 picks a free port), but with the ASGI
    lifespan on, so the app opens and closes its upstream client on the server's
    own event loop, and with a bounded graceful shutdown: requests in flight get
    `grace` seconds to finish.
    """

    name = "proxy"

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
                 grace: float = 5.0) -> None:
        # The target's Date and Server pass through; uvicorn must not add its own.
        super().__init__(app, host=host, port=port, log_level=log_level, lifespan="on", server_header=False,
                         date_header=False, timeout_graceful_shutdown=grace, limit_concurrency=1024, backlog=1024)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, let requests in flight finish (within the grace period), close the socket."""
        super().stop(timeout)


def run_until_signalled(app: Any, *, port: int, host: str = "127.0.0.1", on_ready: Callable[[str], None] | None = None,
                        on_shutdown: Callable[[], int] = lambda: 0, drain_timeout: float = 30.0,
                        stop: threading.Event | None = None) -> int:
    """Serve `app` until SIGINT or SIGTERM (or `stop` is set), then shut down in order and return an exit code.

    Order: stop accepting and finish requests in flight; wait (at most `drain_timeout`) until every
    exchange was handed to the judge (`app.drain`); close the app; then `on_shutdown()` (write the
    report, say the verdict) returns the exit code. A second signal during shutdown is ignored, so
    a double Ctrl-C does not lose the report. Signal handlers are installed only in the main thread.
    """
    stop = stop or threading.Event()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        def handle(signum: int, frame: FrameType | None) -> None:
            stop.set()
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, handle)
    try:
        server = ProxyServer(app, host=host, port=port).start()
        try:
            if on_ready is not None:
                on_ready(server.url)
            while not stop.wait(0.5):
                if not server.running:  # the server died on its own
                    break
        finally:
            server.stop()
            drained = app.drain(drain_timeout) if hasattr(app, "drain") else True
            if hasattr(app, "close"):
                app.close(timeout=5.0 if drained else 1.0)
        return on_shutdown()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
