"""The forwarding core of the validating reverse proxy: pass everything through, judge a copy later.

The client talks to this ASGI app as it would to the target: the request goes
upstream unchanged (method, raw path and query, headers, body streamed as it
arrives) and the answer comes back unchanged (status, headers, body streamed
chunk by chunk), minus the hop-by-hop headers of RFC 9110 7.6.1 and with Host
naming the target. Only what a proxy must change is changed.

For judging, a copy of each body is kept up to `body_cap`; a longer body is
kept as its first `keep_prefix` bytes and marked truncated (as the suite's own
client does), so a 50 MB answer passes through whole while holding at most the
cap. The exchange is handed to `on_exchange` by one worker thread fed by a
queue: building the `SentRequest`/`Received` (JSON parsing included) and the
judging itself happen off the request path, and an exception there is logged,
never seen by the client. A judge that waits never delays an answer; one that
computes does a little (CPython runs one thread at a time): see offload.JudgeProcess.

An upstream that refuses or cannot be reached gives the client a 502, one that
does not answer in time a 504, both with a JSON body
`{"error": {"code", "message", "target", "source": "proxy"}}`;
`on_exchange` then gets `response=None` and `meta["error"]`.
"""
from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import queue
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Any, AsyncIterator, Callable
from urllib.parse import urlsplit

import httpx

from contracts.checks.model import MISSING, Received, SentRequest

log = logging.getLogger("harness.proxy")

# httpcore tries `import sniffio` several times per request; where sniffio is not installed
# (anyio 4 no longer needs it) each failed import scans sys.path: about 0.5 ms a request.
# Recording its absence once makes the failure immediate, and changes nothing else.
if importlib.util.find_spec("sniffio") is None:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

OnExchange = Callable[[SentRequest, "Received | None", dict[str, Any]], None]

POOLS = 16  # upstream connection pools (see ProxyApp.__init__)

# RFC 9110 7.6.1: a proxy removes Connection, the fields it names, and these.
HOP_BY_HOP = frozenset({"connection", "proxy-connection", "keep-alive", "te", "transfer-encoding", "upgrade"})


def _strip_hop_by_hop(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    named = {token.strip().lower() for name, value in raw if name.lower() == b"connection"
             for token in value.split(b",") if token.strip()}
    return [(name, value) for name, value in raw
            if name.lower().decode("latin-1") not in HOP_BY_HOP and name.lower() not in named]


def _header_dict(raw: list[tuple[bytes, bytes]], *, lower: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for name_b, value_b in raw:
        name, value = name_b.decode("latin-1"), value_b.decode("latin-1")
        key = name.lower() if lower else next((k for k in out if k.lower() == name.lower()), name)
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


class _Kept:
    """A copy of a body for judging: whole up to `cap`, else its first `keep` bytes and truncated.

    A body whose declared length is over the cap is cut from its first byte on (only the prefix
    is ever held); one that passes the cap unannounced is held up to the cap, then cut.
    """

    def __init__(self, cap: int, keep: int, declared: int | None = None) -> None:
        self._cap, self._keep = cap, min(keep, cap)
        self._parts: list[bytes] = []
        self._held = 0
        self.size = 0
        self.truncated = declared is not None and declared > cap

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.truncated:
            if self._held < self._keep:
                self._parts.append(chunk[:self._keep - self._held])
                self._held += len(self._parts[-1])
            return
        if self.size > self._cap:
            self.truncated = True
            prefix, self._parts, self._held = [*self._parts, chunk], [], 0
            for part in prefix:
                if self._held >= self._keep:
                    break
                self._parts.append(part[:self._keep - self._held])
                self._held += len(self._parts[-1])
        else:
            self._parts.append(chunk)
            self._held += len(chunk)

    def value(self) -> bytes:
        return b"".join(self._parts)


def _declared_length(raw: list[tuple[bytes, bytes]]) -> int | None:
    value = next((v for k, v in raw if k.lower() == b"content-length"), b"").strip()
    return int(value) if value.isdigit() else None


@dataclass
class _Pending:
    """What the request path hands to the worker: raw pieces, built into exchanges off the path."""

    method: str
    url: str
    request_headers: list[tuple[bytes, bytes]]
    request_body: bytes
    request_truncated: bool
    status: int | None = None
    response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    response_body: bytes = b""
    response_truncated: bool = False
    elapsed: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


def _decoded(body: bytes, encoding: str, cap: int) -> bytes | None:
    """The body without its Content-Encoding (gzip, deflate), at most `cap` bytes; None if it cannot be."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return None
    try:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32 if encoding != "deflate" else zlib.MAX_WBITS)
        out = inflater.decompress(body, cap + 1)
        if encoding == "deflate" and not out and body:
            raise zlib.error("not zlib-wrapped")
    except zlib.error:
        try:  # deflate is often sent raw, without the zlib wrapper
            out = zlib.decompressobj(-zlib.MAX_WBITS).decompress(body, cap + 1)
        except zlib.error:
            return None
    return out if len(out) <= cap else None


def build_exchange(pending: _Pending, body_cap: int) -> tuple[SentRequest, Received | None, dict[str, Any]]:
    """The exchange as the checks take it (runs in the worker thread)."""
    payload: Any = MISSING
    if pending.request_body and not pending.request_truncated:
        try:
            payload = json.loads(pending.request_body)
        except (ValueError, RecursionError):
            payload = MISSING
    request = SentRequest(pending.method, pending.url, _header_dict(pending.request_headers, lower=False),
                          pending.request_body or None, payload, intent="unknown",
                          label=f"proxy#{pending.meta.get('number', '')}")
    if pending.status is None:
        return request, None, pending.meta
    headers = _header_dict(pending.response_headers, lower=True)
    body, truncated = pending.response_body, pending.response_truncated
    encoding = headers.get("content-encoding", "")
    if encoding and not truncated:
        plain = _decoded(body, encoding, body_cap)
        if plain is None:
            pending.meta["content_encoding"] = f"{encoding}: not decoded for judging"
            truncated = True
        else:
            body = plain
    response = Received.build(pending.status, headers, body, elapsed=pending.elapsed, truncated=truncated)
    return request, response, pending.meta


class _Handover:
    """One worker thread handing queued exchanges to `on_exchange`, in arrival order."""

    def __init__(self, on_exchange: OnExchange, body_cap: int) -> None:
        self._on_exchange = on_exchange
        self._body_cap = body_cap
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._idle = threading.Condition()
        self._unfinished = 0
        self.handed = 0
        self.failed = 0  # on_exchange raised
        self._thread = threading.Thread(target=self._run, name="proxy-judge", daemon=True)
        self._thread.start()

    def put(self, pending: _Pending) -> None:
        with self._idle:
            self._unfinished += 1
        self._queue.put(pending)

    @property
    def queued(self) -> int:
        return self._unfinished

    def _run(self) -> None:
        while True:
            pending = self._queue.get()
            if pending is None:
                return
            try:
                self._on_exchange(*build_exchange(pending, self._body_cap))
            except Exception:  # noqa: BLE001 - a judge's bug must not stop the proxy
                self.failed += 1
                log.exception("on_exchange failed for %s %s", pending.method, pending.url)
            finally:
                with self._idle:
                    self._unfinished -= 1
                    self.handed += 1
                    if self._unfinished == 0:
                        self._idle.notify_all()

    def drain(self, timeout: float | None) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout)

    def stop(self, timeout: float | None = None) -> bool:
        done = self.drain(timeout)
        self._queue.put(None)
        self._thread.join(timeout)
        return done


class _ClientGone(Exception):
    pass


async def _exhaust(chunks: AsyncIterator[bytes]) -> None:
    async for _ in chunks:
        pass


class ProxyApp:
    """The ASGI app `create_proxy_app` returns; also `drain`, `close` and counters for the runner."""

    def __init__(self, target: str, on_exchange: OnExchange, *, body_cap: int, keep_prefix: int,
                 connect_timeout: float, read_timeout: float, max_connections: int = 256) -> None:
        split = urlsplit(target)
        if split.scheme not in ("http", "https") or not split.hostname:
            raise ValueError(f"the target {target!r} is not an http(s) URL with a host")
        self.target = target.rstrip("/")
        self._prefix = split.path.rstrip("/").encode("latin-1")
        self._base = f"{split.scheme}://{split.netloc}"
        self.body_cap, self.keep_prefix = body_cap, keep_prefix
        self._timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout,
                                      pool=connect_timeout)
        # httpcore's pool scans every connection for every queued request on each event (and polls each
        # idle socket): with 32 busy connections in one pool that was 60% of the proxy's CPU. So the
        # connections are spread over POOLS pools, each client connection always using the same one.
        per_pool = max(1, -(-max_connections // POOLS))
        self._limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)
        self._transports: list[httpx.AsyncHTTPTransport] = []
        # Every request is built on this one parsed URL; the `target` extension carries the raw path.
        self._url = httpx.URL(self._base + "/")
        self._extensions_timeout = self._timeout.as_dict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handover = _Handover(on_exchange, body_cap)
        self._numbers = iter(range(1, 2**62))
        self.forwarded = 0  # answers from the target passed on
        self.failed = 0  # 502/504 given, or an answer cut off mid-body

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def _transport_for(self, client: Any) -> httpx.AsyncHTTPTransport:
        # Requests go to httpx's transport (its connection pool), below AsyncClient.send:
        # what that layer adds per request (auth and redirect flows, a cookie jar shared by every client,
        # event hooks, default headers, URL parsing) is what a proxy must switch off anyway, and it cost
        # ~0.7 ms of CPU a request here (half of the added-latency budget). No redirect is followed, no
        # cookie stored, no proxy setting read from the environment: the target is the target.
        if not self._transports:
            tls = httpx.create_ssl_context()  # one for all pools: each would load the CA bundle (35 ms)
            self._transports = [httpx.AsyncHTTPTransport(verify=tls, limits=self._limits, retries=0, trust_env=False)
                                for _ in range(POOLS)]
            self._loop = asyncio.get_running_loop()
        return self._transports[hash(client) % POOLS]

    async def aclose(self) -> None:
        transports, self._transports = self._transports, []
        for transport in transports:
            await transport.aclose()

    def close(self, timeout: float = 10.0) -> bool:
        """Close the upstream client (from any thread) and stop the worker once the queue is drained."""
        loop = self._loop
        if self._transports and loop is not None and loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(self.aclose(), loop).result(timeout)
            except Exception:  # noqa: BLE001 - the loop may be ending: nothing left to close then
                pass
        return self._handover.stop(timeout)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every exchange queued so far was handed to on_exchange; False on timeout."""
        return self._handover.drain(timeout)

    @property
    def queued(self) -> int:
        return self._handover.queued

    @property
    def judge_errors(self) -> int:
        return self._handover.failed

    # -- ASGI --------------------------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._forward(scope, receive, send)
        else:  # websocket: not forwarded; closing the handshake is an honest refusal
            await send({"type": "websocket.close", "code": 1003})

    async def _lifespan(self, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._transport_for(None)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _upstream_headers(self, scope: dict[str, Any]) -> list[tuple[bytes, bytes]]:
        # Host names the target (httpx sets it from the URL); the client's is dropped.
        return [(name, value) for name, value in _strip_hop_by_hop(list(scope["headers"])) if name.lower() != b"host"]

    async def _forward(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        transport = self._transport_for(scope.get("client"))
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        query: bytes = scope.get("query_string", b"")
        target_path = self._prefix + raw_path + (b"?" + query if query else b"")
        url = self._base + target_path.decode("latin-1")
        method: str = scope["method"]
        headers = self._upstream_headers(scope)
        kept_request = _Kept(self.body_cap, self.keep_prefix, _declared_length(headers))
        client_addr = scope.get("client")
        pending = _Pending(method, url, headers, b"", False, meta={
            "number": next(self._numbers),
            "client": f"{client_addr[0]}:{client_addr[1]}" if client_addr else "",
            "path": (raw_path + (b"?" + query if query else b"")).decode("latin-1"),
            "started": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        })
        has_body = any(name.lower() in (b"content-length", b"transfer-encoding") for name, _ in scope["headers"])

        async def body() -> AsyncIterator[bytes]:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _ClientGone("the client left before its request body ended")
                chunk = message.get("body", b"")
                if chunk:
                    kept_request.add(chunk)
                    yield chunk
                if not message.get("more_body", False):
                    return

        # The raw target keeps the path byte for byte (httpx.URL would resolve dot segments).
        stream = body() if has_body else None
        request = httpx.Request(method, self._url, headers=headers, content=stream,
                                extensions={"target": target_path, "timeout": self._extensions_timeout})
        start = time.perf_counter()
        response: httpx.Response | None = None
        try:
            response = await transport.handle_async_request(request)
        except _ClientGone as exc:
            self._finish(pending, kept_request, start, error=str(exc))
            return
        except httpx.TimeoutException as exc:
            await self._fail(send, pending, kept_request, start, 504, "upstream_timeout",
                             f"the target did not answer in time ({type(exc).__name__})", stream)
            return
        except (httpx.HTTPError, OSError) as exc:
            await self._fail(send, pending, kept_request, start, 502, "upstream_unreachable",
                             f"the target could not be reached or broke the exchange "
                             f"({type(exc).__name__}: {str(exc)[:200] or 'no detail'})", stream)
            return

        response_headers = _strip_hop_by_hop(list(response.headers.raw))
        # A HEAD answer, a 204 or a 304 declares a length but carries no body.
        bodiless = method == "HEAD" or response.status_code in (204, 304)
        length = None if bodiless else _declared_length(response_headers)
        kept_response = _Kept(self.body_cap, self.keep_prefix, length)
        pending.status, pending.response_headers = response.status_code, response_headers
        error: str | None = None
        complete = False
        # The server drops what is sent to a client that has left, silently: watch for it, so that a
        # long answer stops being read from the target once nobody takes it.
        gone = asyncio.Event()
        watcher = asyncio.create_task(self._watch_disconnect(receive, gone))
        # With a Content-Length the client has its whole answer with the last byte: that chunk is held
        # until the exchange is queued, so that drain() covers every answer a client already has.
        held = b""
        try:
            await send({"type": "http.response.start", "status": response.status_code, "headers": response_headers})
            async for chunk in response.aiter_raw():
                kept_response.add(chunk)
                if held:
                    await send({"type": "http.response.body", "body": held, "more_body": True})
                    held = b""
                if length is not None and kept_response.size >= length:
                    held = chunk
                    continue
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                if gone.is_set():
                    raise _ClientGone(f"the client left after {kept_response.size} body bytes")
            complete = True
        except _ClientGone as exc:
            error = str(exc)
        except httpx.HTTPError as exc:
            # The answer began: its status cannot change now. Leaving the response incomplete makes the
            # server drop the connection, so the client sees a cut-off body, not a shorter "complete" one.
            error = f"the target's answer broke off after {kept_response.size} body bytes ({type(exc).__name__})"
            log.warning("%s %s: %s", method, url, error)
        except OSError as exc:  # the client went away mid-answer
            error = f"the client left after {kept_response.size} body bytes ({type(exc).__name__})"
        finally:
            watcher.cancel()
            await response.aclose()
        pending.response_body = kept_response.value()
        pending.response_truncated = kept_response.truncated or error is not None
        # Queued before the answer's last message: once a client has its whole answer, drain() covers it.
        self._finish(pending, kept_request, start, error=error, response_bytes=kept_response.size)
        if complete:
            await send({"type": "http.response.body", "body": held, "more_body": False})

    @staticmethod
    async def _watch_disconnect(receive: Callable[..., Any], gone: asyncio.Event) -> None:
        # The request body has been read whole by now (HTTP/1.1 sends it before the answer).
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    async def _fail(self, send: Callable[..., Any], pending: _Pending, kept: _Kept, start: float, status: int,
                    code: str, message: str, rest: AsyncIterator[bytes] | None) -> None:
        if rest is not None:
            # The target never read the body: read it for the judge, within the cap and the read timeout.
            try:
                await asyncio.wait_for(_exhaust(rest), self._timeout.read)
            except (asyncio.TimeoutError, _ClientGone, StopAsyncIteration, RuntimeError):
                pass
        log.warning("%s %s: %s", pending.method, pending.url, message)
        self._finish(pending, kept, start, error=message, proxy_status=status)
        body = json.dumps({"error": {"code": code, "message": message, "target": self.target,
                                     "source": "proxy"}}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"date", formatdate(usegmt=True).encode())]})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _finish(self, pending: _Pending, kept_request: _Kept, start: float, *, error: str | None = None,
                proxy_status: int | None = None, response_bytes: int | None = None) -> None:
        pending.elapsed = time.perf_counter() - start
        pending.request_body = kept_request.value()
        pending.request_truncated = kept_request.truncated
        pending.meta.update(elapsed=round(pending.elapsed, 6), request_bytes=kept_request.size,
                            request_truncated=kept_request.truncated)
        if response_bytes is not None:
            pending.meta.update(response_bytes=response_bytes, response_truncated=pending.response_truncated)
        if error is not None:
            pending.meta["error"] = error
            self.failed += 1
        if proxy_status is not None:
            pending.meta["proxy_status"] = proxy_status
        if pending.status is not None and error is None:
            self.forwarded += 1
        self._handover.put(pending)


def create_proxy_app(target: str, on_exchange: OnExchange, *, body_cap: int = 10 * 1024 * 1024,
                     keep_prefix: int = 64 * 1024, connect_timeout: float = 5.0, read_timeout: float = 30.0,
                     max_connections: int = 256) -> ProxyApp:
    """An ASGI app forwarding every request to `target` unchanged and handing each exchange to `on_exchange`.

    `target` is a base URL (`http://127.0.0.1:8787` or `https://staging.example.com/api`): the client's
    path and query are appended to its path. `on_exchange(request, response, meta)` runs in one worker
    thread, never on the request path; `response` is None when the target gave no answer (the client
    then got a 502 or 504) and `meta["error"]` says why. `meta` also holds `number`, `client`, `path`
    (as the client sent it), `started`, `elapsed`, `request_bytes`, `request_truncated` and, when an
    answer came, `response_bytes` and `response_truncated`. Call `drain(timeout)` before shutting down.
    """
    return ProxyApp(target, on_exchange, body_cap=body_cap, keep_prefix=keep_prefix,
                    connect_timeout=connect_timeout, read_timeout=read_timeout, max_connections=max_connections)
