"""Side-by-side benchmark of the suite and the schemathesis CLI on the selftest mutants."""
from __future__ import annotations

import os
import platform


def machine() -> str:
    """What a figure was measured on, as every results file records it: architecture, system, cores, Python."""
    return f"{platform.machine()} {platform.system()}, {os.cpu_count()} cores, Python {platform.python_version()}"
