"""`python -m contracts.drift OLD NEW`: what changed in POST /v2/runtimes, and whether it breaks clients.

Exit 0: nothing at or above --fail-on changed; 1: something did; 4: usage
error (bad option, unreadable or unsuitable document), one line on stderr.
"""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn, Sequence

from contracts.drift.compare import drift
from contracts.drift.render import FORMATS, render, rules_table
from contracts.drift.rules import DEFAULT_RULES, load_rules
from contracts.errors import ContractError
from contracts.loader import DEFAULT_OVERLAY

EXIT_USAGE = 4


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the usage block and exits 2; this tool's contract is one line and exit 4.
        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m contracts.drift", description=__doc__.split("\n", 1)[0].split(": ", 1)[1])
    p.add_argument("old", nargs="?", metavar="OLD", help="the previous OpenAPI document (YAML or JSON)")
    p.add_argument("new", nargs="?", metavar="NEW", help="the new OpenAPI document (YAML or JSON)")
    p.add_argument("--errata", default=str(DEFAULT_OVERLAY), metavar="PATH|none",
                   help="overlay applied to both documents (default: %(default)s); 'none' for none")
    p.add_argument("--format", default="text", choices=FORMATS, help="output format (default: text)")
    p.add_argument("--fail-on", default="breaking", choices=("breaking", "warning"),
                   help="exit 1 when a change at this level or above is found (default: breaking)")
    p.add_argument("--rules", default=str(DEFAULT_RULES), metavar="PATH",
                   help="the policy table (default: %(default)s)")
    p.add_argument("--list-rules", action="store_true", help="print the policy as a markdown table and exit")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    try:
        args = parser().parse_args(argv)
        rules = load_rules(args.rules)
        if args.list_rules:
            sys.stdout.write(rules_table(rules))
            return 0
        if not args.old or not args.new:
            raise UsageError("give two documents: python -m contracts.drift OLD NEW")
        overlay = None if args.errata.lower() == "none" else args.errata
        report = drift(args.old, args.new, overlay=overlay, rules=rules)
    except (UsageError, ContractError) as exc:
        print(f"contracts.drift: {exc}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(render(report, args.format))
    return report.exit_code(args.fail_on)


if __name__ == "__main__":
    sys.exit(main())
