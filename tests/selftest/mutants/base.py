"""The mutant registry, an ASGI rewriting wrapper, and a way to serve a mutant."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable


ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


@dataclass(frozen=True)
class Mutant:
    name: str
    catches: tuple[str, ...]  # check names the suite must name in its failures
    description: str
    wrap: Callable[[ASGIApp], ASGIApp]
    settings: dict[str, Any] = field(default_factory=dict)  # MockSettings overrides
    # Layers claimed to catch it besides the run as a whole: test module -> checks one of which it must name
    # there (the selftest holds every claim; the README quotes them).
    caught_in: dict[str, tuple[str, ...]] = field(default_factory=dict)


MUTANTS: dict[str, Mutant] = {}


def mutant(name: str, *, catches: tuple[str, ...] | str, description: str,
           caught_in: dict[str, tuple[str, ...]] | None = None,
           **settings: Any) -> Callable[[Callable[[ASGIApp], ASGIApp]], Callable[[ASGIApp], ASGIApp]]:
    def register(wrap: Callable[[ASGIApp], ASGIApp]) -> Callable[[ASGIApp], ASGIApp]:
        if name in MUTANTS:
            raise ValueError(f"mutant {name!r} registered twice")
        MUTANTS[name] = Mutant(name, (catches,) if isinstance(catches, str) else tuple(catches), description,
                               wrap, dict(settings), dict(caught_in or {}))
        return wrap

    return register


@dataclass
class Reply:
    """A response as the rewriting function sees it; change any field."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()

    def set_header(self, name: str, value: str | None) -> None:
        key = name.lower().encode()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != key]
        if value is not None:
            self.headers.append((key, value.encode()))


Rewrite = Callable[[dict, bytes, Reply], Reply | None]
Receive = Callable[[], Awaitable[dict]]


async def read_body(receive: Receive) -> bytes:
    """Buffer a whole ASGI request body."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body") or message["type"] != "http.request":
            return b"".join(chunks)


def replayer(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app `body` once, then passes through (e.g. disconnects)."""
    replayed = False

    async def replay() -> dict:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def rewrite(fn: Rewrite) -> Callable[[ASGIApp], ASGIApp]:
    """Wrap an app so `fn(scope, request_body, reply)` may change every HTTP reply.

    The request body is buffered and replayed to the app, so `fn` can decide by
    what was sent; the reply is buffered so `fn` can change status, headers and
    body together (content-length is recomputed).
    """

    def wrap(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: dict, receive: Callable[[], Awaitable[dict]], send: Callable[[dict], Awaitable[None]]) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            body = await read_body(receive)
            replay = replayer(body, receive)
            reply = Reply(500, [], b"")
            parts: list[bytes] = []

            async def capture(message: dict) -> None:
                if message["type"] == "http.response.start":
                    reply.status, reply.headers = message["status"], list(message.get("headers", []))
                elif message["type"] == "http.response.body":
                    parts.append(message.get("body", b""))

            await app(scope, replay, capture)
            reply.body = b"".join(parts)
            result = fn(scope, body, reply) or reply
            headers = [(k, v) for k, v in result.headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(result.body)).encode()))
            await send({"type": "http.response.start", "status": result.status, "headers": headers})
            await send({"type": "http.response.body", "body": result.body})

        return wrapped

    return wrap


def on_created(change: Callable[[dict], None]) -> Callable[[ASGIApp], ASGIApp]:
    """A wrapper that lets `change` edit every 200 JSON body in place."""

    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        data = reply.json
        if reply.status == 200 and isinstance(data, dict):
            change(data)
            reply.set_json(data)
        return reply

    return rewrite(fn)


def request_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
