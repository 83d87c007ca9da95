"""Mutants that break the shape of the 200 body (caught by response_schema)."""
from __future__ import annotations

from tests.selftest.mutants.base import Reply, mutant, rewrite


def _on_created(change):  # type: ignore[no-untyped-def]
    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        if reply.status == 200 and isinstance(reply.json, dict):
            data = reply.json
            change(data)
            reply.set_json(data)
        return reply

    return rewrite(fn)


@mutant("status-outside-enum", catches="response_schema", description="status 'running' is not in the status enum")
def status_outside_enum(app):  # type: ignore[no-untyped-def]
    return _on_created(lambda d: d.__setitem__("status", "running"))(app)
