"""`python -m harness.reporting reports/summary.json`: the terminal summary again, e.g. for a CI job page."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from harness.reporting.terminal import terminal_lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "reports/summary.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read {path}: {exc}; pass the summary.json of a run", file=sys.stderr)
        return 4
    print("\n".join(terminal_lines(data, [])[2:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
