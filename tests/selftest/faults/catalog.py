"""The faults a nightly run meets, each as a handler for `FaultServer`.

Every handler answers every request on a keep-alive connection the same way,
so it does not matter how many tests the suite holds or in which order.
"""
from __future__ import annotations

import asyncio
import json
from typing import Callable

from tests.selftest.faults.server import Connection, Handler

HUGE_BODY_BYTES = 50 * 1024 * 1024
SLOW_SECONDS = 10.0
ERROR = json.dumps({"error": {"code": "unavailable", "message": "try later"}}).encode()
FAULTS: dict[str, Handler] = {}


def fault(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        FAULTS[name] = handler
        return handler

    return register


@fault("hang")
async def hang(conn: Connection) -> None:
    """Accepts the connection, reads the request, never answers."""
    await conn.read_request()
    await asyncio.Event().wait()


@fault("slow")
async def slow(conn: Connection) -> None:
    """Answers a plausible 200, but only after SLOW_SECONDS."""
    while await conn.read_request() is not None:
        await asyncio.sleep(SLOW_SECONDS)
        await conn.respond(200, b"{}", reason="OK")


@fault("reset-mid-body")
async def reset_mid_body(conn: Connection) -> None:
    """Promises 4096 bytes, sends 100, then resets the connection."""
    if await conn.read_request() is None:
        return
    conn.writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
                      + b'{"id": "' + b"x" * 92)
    await conn.writer.drain()
    await asyncio.sleep(0.05)  # let the head and part of the body reach the client first
    conn.reset()


@fault("503")
async def unavailable(conn: Connection) -> None:
    """503 Service Unavailable on every request."""
    while await conn.read_request() is not None:
        await conn.respond(503, ERROR, reason="Service Unavailable")


def throttle_forever(retry_after: str) -> Handler:
    async def throttled(conn: Connection) -> None:
        while await conn.read_request() is not None:
            await conn.respond(429, ERROR, reason="Too Many Requests", headers={"Retry-After": retry_after})

    throttled.__doc__ = f"429 with Retry-After: {retry_after} on every request."
    return throttled


FAULTS["429"] = throttle_forever("1")
FAULTS["429-long"] = throttle_forever("3600")


@fault("invalid-json")
async def invalid_json(conn: Connection) -> None:
    """200 with Content-Type: application/json and a body that is not JSON."""
    while await conn.read_request() is not None:
        await conn.respond(200, b'{"id": "a1", "status": active', reason="OK")


async def _stream_huge(conn: Connection, *, announce: bool) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {HUGE_BODY_BYTES}\r\n\r\n".encode() if announce else b"Connection: close\r\n\r\n"
    conn.writer.write(head)
    chunk = b'{"pad": "' + b"x" * (64 * 1024 - 12) + b'", '
    sent = 0
    while sent < HUGE_BODY_BYTES:
        piece = chunk[: HUGE_BODY_BYTES - sent]
        conn.writer.write(piece)
        sent += len(piece)
        await conn.writer.drain()


@fault("huge-body")
async def huge_body(conn: Connection) -> None:
    """200 with a 50 MB JSON-looking body (Content-Length says so), until the client hangs up."""
    while await conn.read_request() is not None:
        await _stream_huge(conn, announce=True)


@fault("huge-body-unannounced")
async def huge_body_unannounced(conn: Connection) -> None:
    """200 with a 50 MB body and no Content-Length (ends when the connection closes)."""
    if await conn.read_request() is not None:
        await _stream_huge(conn, announce=False)


@fault("redirect-loop")
async def redirect_loop(conn: Connection) -> None:
    """307 back to the very same URL, forever."""
    while (request := await conn.read_request()) is not None:
        await conn.respond(307, b"", reason="Temporary Redirect", headers={"Location": request.target})


NOT_A_RUNTIME = json.dumps({"name": "half-a-runtime", "type": "browser", "status": "active"}).encode()


def dying(after: int) -> Handler:
    """Answers the first `after` requests with a 200 that breaks the response schema, then resets every connection.

    A target that dies mid-run, after the suite has already found something.
    """

    async def handler(conn: Connection) -> None:
        while await conn.read_request() is not None:
            if conn.server.requests > after:
                conn.reset()
                return
            await conn.respond(200, NOT_A_RUNTIME, reason="OK")

    return handler
