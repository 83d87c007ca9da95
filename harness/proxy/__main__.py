"""`python -m harness.proxy --target URL --port N`: a reverse proxy on 127.0.0.1 in front of the target.

Every request is forwarded to the target unchanged and the target's answer
returned unchanged; each exchange is handed, off the request path, to a judge.
For now the judge counts exchanges and prints one line each (method, path,
status); Ctrl-C or SIGTERM stops the proxy after the last exchange was handed over.
"""
from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from contracts.checks.model import Received, SentRequest
from harness.proxy.forward import create_proxy_app
from harness.proxy.server import run_until_signalled


class _Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.exchanges = 0
        self.no_answer = 0

    def __call__(self, request: SentRequest, response: Received | None, meta: dict[str, Any]) -> None:
        with self.lock:
            self.exchanges += 1
            self.no_answer += response is None
        status = response.status if response is not None else f"no answer ({meta.get('error', '')})"
        print(f"{request.method} {meta.get('path', urlsplit(request.url).path)} {status}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.proxy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", required=True, help="base URL of the server to forward to")
    parser.add_argument("--port", type=int, default=8788, help="port on 127.0.0.1 to listen on (default: 8788)")
    parser.add_argument("--reports-dir", type=Path, default=Path("reports/proxy"),
                        help="where reports go (not written yet: judging and reports come next)")
    parser.add_argument("--read-timeout", type=float, default=30.0, help="seconds to wait for the target's answer")
    parser.add_argument("--connect-timeout", type=float, default=5.0, help="seconds to wait for a connection")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a TCP port (0-65535)")
    counter = _Counter()
    try:
        app = create_proxy_app(args.target, counter, connect_timeout=args.connect_timeout,
                               read_timeout=args.read_timeout)
    except ValueError as exc:
        parser.error(str(exc))

    def ready(url: str) -> None:
        print(f"proxy on {url} -> {app.target} (Ctrl-C to stop)", flush=True)

    def shutdown() -> int:
        print(f"{counter.exchanges} exchanges, {counter.no_answer} without an answer from the target", flush=True)
        return 0

    try:
        return run_until_signalled(app, port=args.port, on_ready=ready, on_shutdown=shutdown)
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
