"""One YAML reader for the contract and every data file beside it: libyaml's safe loader when installed.

Same documents as yaml.SafeLoader, several times faster: the contract, the
errata, domains, the invalid catalogue and the semantics table are read at
the start of every run, and the pure-Python parser cost a tenth of a second of it.
"""
from __future__ import annotations

from typing import Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str | bytes) -> Any:
    """The YAML document in `text` (safe tags only); raises yaml.YAMLError as yaml.safe_load does."""
    return yaml.load(text, Loader=LOADER)
