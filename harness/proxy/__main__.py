"""`python -m harness.proxy --target URL --port N`: a validating reverse proxy on 127.0.0.1 in front of the target.

Every request is forwarded to the target unchanged and its answer returned
unchanged; each exchange on the operation's path is judged off the request path
by the suite's checks (same severities, known issues) and recorded, redacted,
in the event log under --reports-dir. One line per exchange is printed.
Ctrl-C or SIGTERM stops the proxy: it finishes the requests in flight, judges
what is queued, writes summary.json, conformance.html and junit.xml, prints
the summary and exits.

The API key is never needed: a Bearer token the operation accepts (2xx) is
known valid from then on, and --api-key-env names an environment variable
holding one from the start (read from the environment only, so it never lands
in shell history or reports).

exit status: 0 no contract violation found, 1 violations found,
4 usage error (bad option, unreadable contract or known issues file),
10 the target cannot be reached at start.
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

from contracts import DEFAULT_CONTRACT, DEFAULT_OVERLAY, Contract, ContractError, load_contract
from contracts.checks import REGISTRY
from harness import known_issues
from harness.proxy.run import ProxyRun, redacted_logging
from harness.proxy.server import run_until_signalled
from harness.target import TargetUnreachable, probe

EXIT_USAGE, EXIT_UNREACHABLE = 4, 10


class UsageError(Exception):
    """A bad option: one line says which and how to fix it."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one line and exit 4, not usage + exit 2
        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m harness.proxy", description=__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", required=True,
                   help="base URL of the server to forward to, e.g. https://staging.example.com")
    p.add_argument("--port", type=int, default=8788,
                   help="port on 127.0.0.1 to listen on (default: 8788; 0: any free port)")
    p.add_argument("--reports-dir", type=Path, default=Path("reports/proxy"),
                   help="where the event log (.events/) and the views go (default: reports/proxy)")
    p.add_argument("--api-key-env", metavar="NAME", default=None,
                   help="environment variable holding a valid API key (known valid from the first request)")
    p.add_argument("--known-issues", metavar="PATH", default=None,
                   help="expectations file of known, ticketed deviations (e.g. known-issues.yaml)")
    p.add_argument("--contract", default=str(DEFAULT_CONTRACT), help="upstream OpenAPI document (YAML or JSON)")
    p.add_argument("--errata", default=str(DEFAULT_OVERLAY), help="errata overlay (OpenAPI Overlay 1.0), or 'none'")
    p.add_argument("--read-timeout", type=float, default=30.0, help="seconds to wait for the target's answer")
    p.add_argument("--connect-timeout", type=float, default=5.0, help="seconds to wait for a connection")
    p.add_argument("--quiet", action="store_true", help="no line per exchange, only the summary at the end")
    p.add_argument("--judge-process", action="store_true",
                   help="judge in a child process instead of the proxy's own worker thread: less added latency "
                        "per request, one more process")
    return p


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _target(url: str) -> str:
    split = urlsplit(url)
    try:
        split.port
    except ValueError:
        raise UsageError(f"--target {url!r} has an invalid port; use e.g. http://127.0.0.1:8787") from None
    if split.scheme not in ("http", "https") or not split.hostname:
        raise UsageError(f"--target {url!r} is not an http(s) URL with a host; use e.g. https://staging.example.com")
    if split.query or split.fragment:
        raise UsageError(f"--target {url!r} must not carry a query or fragment; "
                         "pass scheme, host, port and path prefix")
    return url.rstrip("/")


def _api_key(name: str | None) -> str | None:
    if name is None:
        return None
    value = os.environ.get(name, "").strip()
    if not value:
        raise UsageError(f"--api-key-env {name}: that environment variable is not set or empty")
    return value


def _check_port(port: int) -> None:
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is not a TCP port (0-65535)")
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise UsageError(f"--port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror or exc})") from None


def _reports_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--reports-dir {str(path)!r} cannot be created ({exc.strerror or exc})") from None
    return path


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
        target = _target(args.target)
        _check_port(args.port)
        contract: Contract = load_contract(args.contract, overlay=None if args.errata == "none" else args.errata)
        known = known_issues.load(args.known_issues, [*REGISTRY, "transport"]) if args.known_issues else ()
        api_key = _api_key(args.api_key_env)
        reports_dir = _reports_dir(args.reports_dir)
    except (UsageError, ContractError, known_issues.KnownIssuesError) as exc:
        print(f"usage error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        probe(target, timeout=args.connect_timeout)
    except TargetUnreachable as exc:
        print(f"target unreachable: {_one_line(exc)}", file=sys.stderr)
        return EXIT_UNREACHABLE

    redacted_logging()
    run = ProxyRun(contract, target, reports_dir, known=known, api_key=api_key, quiet=args.quiet,
                   judge_process=args.judge_process, connect_timeout=args.connect_timeout,
                   read_timeout=args.read_timeout)

    def ready(url: str) -> None:
        print(f"proxy on {url} -> {run.app.target} (Ctrl-C to stop); judging {contract.method.upper()} "
              f"{contract.path} against {contract.title} {contract.version}; reports in {reports_dir}", flush=True)

    try:
        return run_until_signalled(run.app, port=args.port, on_ready=ready, on_shutdown=run.finish)
    except OSError as exc:  # the port was taken between the check and the bind
        print(f"usage error: --port {args.port}: cannot listen on 127.0.0.1:{args.port} ({exc.strerror or exc})",
              file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
