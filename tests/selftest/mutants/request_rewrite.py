"""An ASGI wrapper that changes the *request* before the reference app sees it.

Some mutants break validation or auth rather than the answer: "accepts a bad
uuid" is the reference app handed a repaired request. `fn(headers, body)`
returns the (possibly changed) headers and body; the app's answer is untouched.
"""
from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from tests.selftest.mutants.base import ASGIApp, read_body, replayer

Headers = dict[str, str]
RequestRewrite = Callable[[Headers, bytes, Any], tuple[Headers, bytes]]


def rewrite_request(fn: RequestRewrite) -> Callable[[ASGIApp], ASGIApp]:
    """Wrap an app so `fn(headers, body, app_state)` may change each HTTP request (content-length follows)."""

    def wrap(app: ASGIApp) -> ASGIApp:
        state = getattr(app, "state", None)

        async def wrapped(scope: dict, receive: Callable[[], Awaitable[dict]],
                          send: Callable[[dict], Awaitable[None]]) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            headers, body = fn(headers, await read_body(receive), state)
            if "content-length" in headers:
                headers["content-length"] = str(len(body))
            scope = {**scope, "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]}
            await app(scope, replayer(body, receive), send)

        wrapped.state = state  # type: ignore[attr-defined]  (stacked wrappers still find the settings)
        return wrapped

    return wrap


def json_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def api_key(state: Any) -> str:
    """A key the wrapped reference app accepts."""
    return sorted(state.settings.api_keys)[0]
