"""`python -m tests.selftest.mutants NAME --port P --api-key K`: serve one mutant (or 'reference')."""
from __future__ import annotations

import argparse
import sys
import time

from tests.selftest.mutants.catalog import MUTANTS, serve


def main(argv: list[str] | None = None) -> int:
    from tests.selftest.mutants import catalog  # noqa: F401

    parser = argparse.ArgumentParser(prog="python -m tests.selftest.mutants")
    parser.add_argument("name", choices=["reference", *sorted(MUTANTS)])
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args(argv)
    with serve(args.name, args.api_key, port=args.port) as server:
        print(f"serving {args.name} on {server.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
