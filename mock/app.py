"""The reference server: `POST /v2/runtimes` as a careful backend team would build it."""
from __future__ import annotations

import asyncio
import itertools
import json
import math
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contracts import Contract, load_contract
from mock import defaults
from mock.runtime import build_runtime
from mock.store import RuntimeStore


@dataclass
class MockSettings:
    """What the mock accepts and how it misbehaves on purpose (for politeness tests)."""

    api_keys: frozenset[str]
    latency_seconds: float = 0.0
    throttle_every: int = 0  # answer 429 to every Nth create (0: never)
    retry_after_seconds: int = 1
    max_body_bytes: int = defaults.MAX_BODY_BYTES
    max_json_depth: int = defaults.MAX_JSON_DEPTH
    counters: dict[str, int] = field(default_factory=dict)


def error(status: int, code: str, message: str, *, details: list[dict[str, str]] | None = None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


def _pointer(path: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _describe(problem: Any) -> str:
    # Say what the schema wanted, never quote the rejected value: it may hold a proxy password.
    expected = problem.validator_value
    if problem.validator in ("type", "enum", "format", "required", "const"):
        return f"{problem.validator} {json.dumps(expected)[:200]} not satisfied"
    if problem.validator in ("oneOf", "anyOf"):
        return f"matches none of the {len(expected)} allowed variants"
    return f"violates '{problem.validator}'"


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    # `1e999` is valid JSON grammar but parses to inf, which no JSON answer can carry back.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _parse_json(raw: bytes, max_depth: int) -> Any:
    """The body as JSON; ValueError or RecursionError when it is not, or cannot be answered faithfully."""
    body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float)
    # Walk without recursion: a body nested just under the parser's limit must not make the
    # validator or the echo hit Python's recursion limit (a 500) one level further down.
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            try:
                # A "\ud800" escape parses (RFC 8259 8.2 leaves it undefined) but is no Unicode text.
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("a string holds an unpaired surrogate escape") from None
        elif isinstance(value, (dict, list)):
            if depth > max_depth:
                raise ValueError(f"the body nests deeper than {max_depth} levels")
            stack.extend((child, depth + 1) for child in ([*value, *value.values()] if isinstance(value, dict) else value))
    return body


class _BodyTooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _authorized(request: Request, keys: frozenset[str]) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token.strip() != "" and token.strip() in keys


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def create_app(settings: MockSettings, contract: Contract | None = None) -> Starlette:
    contract = contract or load_contract()
    validator = contract.request_validator()
    store = RuntimeStore()
    creates = itertools.count(1)
    count_lock = threading.Lock()

    async def runtimes(request: Request) -> Response:
        if request.method != "POST":
            return error(405, "method_not_allowed", f"{request.method} is not supported on this path",
                         headers={"Allow": "POST"})
        if not _authorized(request, settings.api_keys):
            return error(401, "unauthorized", "a valid 'Authorization: Bearer <api-key>' header is required",
                         headers={"WWW-Authenticate": 'Bearer realm="bctrl"'})
        if not _is_json(request.headers.get("content-type", "")):
            return error(415, "unsupported_media_type", "send the body as application/json")
        try:
            raw = await _read_body(request, settings.max_body_bytes)
        except _BodyTooLarge:
            return error(413, "payload_too_large", f"the body exceeds {settings.max_body_bytes} bytes")
        except ClientDisconnect:
            # The client left (or broke the framing) mid-body: nobody reads this answer,
            # but the app must end cleanly rather than crash with a logged traceback.
            return Response(status_code=400)
        if not raw.strip():
            return error(400, "invalid_json", "a JSON request body is required")
        try:
            body = _parse_json(raw, settings.max_json_depth)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            reason = str(exc) if type(exc) is ValueError else type(exc).__name__
            return error(400, "invalid_json", f"the body is not valid JSON: {reason[:200]}")
        problems = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        if problems:
            details = [{"pointer": _pointer(e.absolute_path), "message": _describe(e)} for e in problems]
            return error(422, "validation_failed", "the body does not match the request schema", details=details)
        with count_lock:
            number = next(creates)
        if settings.throttle_every and number % settings.throttle_every == 0:
            settings.counters["throttled"] = settings.counters.get("throttled", 0) + 1
            return error(429, "rate_limited", "too many requests", headers={"Retry-After": str(settings.retry_after_seconds)})
        if settings.latency_seconds:
            await asyncio.sleep(settings.latency_seconds)
        runtime = build_runtime(body)
        store.add(runtime)
        return JSONResponse(runtime, status_code=200)

    async def not_found(request: Request, exc: HTTPException) -> Response:
        # Keep the framework's headers: a 405 must carry Allow (RFC 9110), e.g. for QUERY or unknown methods.
        return error(exc.status_code, "not_found" if exc.status_code == 404 else "http_error", str(exc.detail),
                     headers=dict(exc.headers or {}))

    app = Starlette(
        routes=[Route(contract.path, runtimes, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])],
        exception_handlers={HTTPException: not_found},
    )
    app.state.store = store
    app.state.settings = settings
    return app
