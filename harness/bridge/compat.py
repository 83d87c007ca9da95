"""Compatibility shims between the pinned schemathesis and the pinned pytest, installed explicitly."""
from __future__ import annotations

from typing import Any


def install_nodeid_shim() -> None:
    """schemathesis 4.32.5's `from_fixture` reads and rewrites `item._nodeid`, which pytest 9.2 renamed `_id`.

    Without this, every lazily loaded schema test dies with AttributeError.
    Installed by the pytest integration at configure time (never at import);
    remove it once schemathesis follows pytest's rename.
    """
    from _pytest import nodes

    if hasattr(nodes.Node, "_nodeid"):
        return
    from _pytest.nodeid import coerce_node_id

    def get(self: Any) -> str:
        return str(self._id)

    def set_(self: Any, value: str) -> None:
        self._id = coerce_node_id(value)

    nodes.Node._nodeid = property(get, set_)  # type: ignore[attr-defined]
