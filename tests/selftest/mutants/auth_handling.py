"""Mutants that do not enforce the bearer key."""
from __future__ import annotations

from typing import Any

from tests.selftest.mutants.base import mutant
from tests.selftest.mutants.request_rewrite import Headers, api_key, rewrite_request


@mutant("ignored-auth", catches="auth", description="a request without an Authorization header is served",
        caught_in={"test_auth": ("auth",), "test_schemathesis": ("auth", "schemathesis.IgnoredAuth")})
def ignored_auth(app):  # type: ignore[no-untyped-def]
    def fn(headers: Headers, body: bytes, state: Any) -> tuple[Headers, bytes]:
        if "authorization" not in headers:
            headers["authorization"] = f"Bearer {api_key(state)}"
        return headers, body

    return rewrite_request(fn)(app)


@mutant("any-token-accepted", catches="auth", description="any non-empty bearer token is accepted")
def any_token_accepted(app):  # type: ignore[no-untyped-def]
    def fn(headers: Headers, body: bytes, state: Any) -> tuple[Headers, bytes]:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            headers["authorization"] = f"Bearer {api_key(state)}"
        return headers, body

    return rewrite_request(fn)(app)
