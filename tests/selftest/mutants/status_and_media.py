"""Mutants that break the status line or the media type of a successful create."""
from __future__ import annotations

from tests.selftest.mutants.base import Reply, mutant, rewrite


@mutant("created-201", catches="status_code", description="answers 201 instead of the documented 200")
def created_201(app):  # type: ignore[no-untyped-def]
    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        if reply.status == 200:
            reply.status = 201
        return reply

    return rewrite(fn)(app)


@mutant("text-plain-200", catches="content_type", description="serves the 200 JSON body as text/plain")
def text_plain(app):  # type: ignore[no-untyped-def]
    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        if reply.status == 200:
            reply.set_header("content-type", "text/plain; charset=utf-8")
        return reply

    return rewrite(fn)(app)


@mutant("405-without-allow", catches="other_methods",
        description="refuses other methods with 405 but no Allow header (RFC 9110 requires it)")
def no_allow_on_405(app):  # type: ignore[no-untyped-def]
    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        if reply.status == 405:
            reply.set_header("allow", None)
        return reply

    return rewrite(fn)(app)
