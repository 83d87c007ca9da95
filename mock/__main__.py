"""`python -m mock --port 8787 --api-key KEY`: run the reference server standalone."""
from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from contracts import ContractError
from mock.app import MockSettings, create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mock", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port (default: 8787, the contract's local server)")
    parser.add_argument("--api-key", action="append", dest="api_keys",
                        help="accepted API key (repeatable; default: $BCTRL_API_KEY)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before each create")
    parser.add_argument("--throttle-every", type=int, default=0, help="answer 429 to every Nth create")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds on a 429")
    args = parser.parse_args(argv)
    keys = args.api_keys or ([os.environ["BCTRL_API_KEY"]] if os.environ.get("BCTRL_API_KEY") else [])
    if not keys:
        parser.error("no API key: pass --api-key KEY or set BCTRL_API_KEY")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a TCP port (0-65535)")
    try:
        app = create_app(MockSettings(frozenset(keys), args.latency, args.throttle_every, args.retry_after))
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
