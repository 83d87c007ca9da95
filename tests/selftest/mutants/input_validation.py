"""Mutants that accept input they must refuse, or crash on it."""
from __future__ import annotations

import json
import uuid
from typing import Any

from contracts import load_contract
from tests.selftest.mutants.base import Reply, mutant, rewrite
from tests.selftest.mutants.request_rewrite import Headers, json_body, rewrite_request


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def _uuid_fields() -> list[str]:
    schema = load_contract().request_schema
    return [name for name, sub in schema.get("properties", {}).items() if sub.get("format") == "uuid"]


def _repair(change: Any):  # type: ignore[no-untyped-def]
    def fn(headers: Headers, body: bytes, state: Any) -> tuple[Headers, bytes]:
        data = json_body(body)
        if isinstance(data, dict) and change(data):
            body = json.dumps(data).encode()
        return headers, body

    return rewrite_request(fn)


@mutant("accepts-bad-uuid", catches="negative_data",
        description="a spaceId that is not a uuid is replaced by a fresh one instead of refused")
def accepts_bad_uuid(app):  # type: ignore[no-untyped-def]
    fields = _uuid_fields()

    def change(data: dict) -> bool:
        bad = [f for f in fields if isinstance(data.get(f), str) and not _is_uuid(data[f])]
        for name in bad:
            data[name] = str(uuid.uuid4())
        return bool(bad)

    return _repair(change)(app)


@mutant("accepts-missing-required", catches="negative_data",
        description="a request without spaceId gets a fresh one instead of a 4xx")
def accepts_missing_required(app):  # type: ignore[no-untyped-def]
    schema = load_contract().request_schema
    fields = [f for f in schema.get("required", []) if f in _uuid_fields()]

    def change(data: dict) -> bool:
        missing = [f for f in fields if f not in data]
        for name in missing:
            data[name] = str(uuid.uuid4())
        return bool(missing)

    return _repair(change)(app)


@mutant("accepts-unknown-proxy-mode", catches="negative_data",
        description="a proxy with an unknown mode is silently treated as no proxy")
def accepts_unknown_proxy_mode(app):  # type: ignore[no-untyped-def]
    contract = load_contract()
    variant = next(v for v in contract.variants_on("request") if v.pointer == "/config/proxy" and v.branches)
    modes = set(variant.labels)

    def change(data: dict) -> bool:
        proxy = (data.get("config") or {}).get("proxy") if isinstance(data.get("config"), dict) else None
        mode = proxy.get("mode") if isinstance(proxy, dict) else None
        # Any mode that is not a known one, a list or number included (`in` on a set would raise).
        if isinstance(proxy, dict) and not (isinstance(mode, str) and mode in modes):
            data["config"]["proxy"] = None
            return True
        return False

    return _repair(change)(app)


@mutant("crash-on-malformed-json", catches="status_code", description="answers 500 to a body that is not JSON")
def crash_on_malformed_json(app):  # type: ignore[no-untyped-def]
    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        if reply.status == 400 and body.strip() and json_body(body) is None:
            reply.status = 500
            reply.set_json({"error": "Internal Server Error"})
        return reply

    return rewrite(fn)(app)
