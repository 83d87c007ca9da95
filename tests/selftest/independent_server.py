"""A second correct server, written apart from the reference mock, with other (equally valid) choices.

Built on the standard library's http.server instead of starlette, it reads the
upstream document itself (no contracts/ loader, no errata code) and differs
from the mock wherever the contract leaves room:
- 400 (not 422) for a body that breaks the schema, and for a wrong media type
  (not 415); error bodies `{"message": ..., "errors": [...]}`, not `{"error": {...}}`;
- 401 without a WWW-Authenticate challenge (the suite may warn, never fail);
- other defaults: stealth 'high', no locale unless asked for, idle timeout 60,
  a name like 'Runtime 1a2b3c4d', metadata left out when not sent;
- a custom proxy described by name only, a saved one by id only; uuids in
  lower case; timestamps with microseconds and '+00:00';
- GET on the path is 404 (no route), other methods 405 with Allow.
The suite must pass against it with no failures.
"""
from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from jsonschema import Draft202012Validator

DOCUMENT = Path(__file__).resolve().parents[2] / "contracts" / "upstream" / "create-runtime.openapi.yaml"
PATH = "/v2/runtimes"
MAX_BODY = 2 * 1024 * 1024


def _request_validator() -> Draft202012Validator:
    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    schema = dict(document["paths"][PATH]["post"]["requestBody"]["content"]["application/json"]["schema"])
    schema["components"] = document["components"]  # so '#/components/...' resolves inside the schema itself
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _runtime(body: dict[str, Any]) -> dict[str, Any]:
    config = body.get("config") if isinstance(body.get("config"), dict) else {}
    fingerprint = config.get("fingerprint") or {}
    runtime_id = str(uuid.uuid4())
    stamp = _now()
    described_fingerprint: dict[str, Any] = {"browser": fingerprint.get("browser", "chrome"),
                                             "viewport": {"width": 1280, "height": 800}}
    if "locale" in fingerprint:
        described_fingerprint["locale"] = fingerprint["locale"]
    proxy = config.get("proxy")
    if isinstance(proxy, dict) and proxy.get("mode") == "saved":
        described_proxy: Any = {"id": str(uuid.UUID(proxy["id"]))}
    elif isinstance(proxy, dict):
        described_proxy = {"name": f"{proxy.get('host')}:{proxy.get('port')}"}
    else:
        described_proxy = None
    runtime: dict[str, Any] = {
        "id": runtime_id,
        "name": body["name"] if "name" in body else f"Runtime {runtime_id[:8]}",
        "type": body["type"],
        "status": "active",
        "activeRunId": None,
        "config": {
            "browser": {"profile": (config.get("browser") or {}).get("profile", False)},
            "fingerprint": described_fingerprint,
            "lifecycle": {"idleTimeoutMinutes": (config.get("lifecycle") or {}).get("idleTimeoutMinutes", 60),
                          "lastActivityAt": stamp},
            "proxy": described_proxy,
            "stealth": config.get("stealth", "high"),
        },
        "createdAt": stamp,
        "updatedAt": stamp,
    }
    if "extensions" in config:
        runtime["config"]["extensions"] = sorted(set(config["extensions"]))
    if "metadata" in body:
        runtime["metadata"] = body["metadata"]
    return runtime


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (quiet)
        pass

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _drain(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        chunks, left = [], length
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            left -= len(chunk)
            if length <= MAX_BODY:
                chunks.append(chunk)
        return b"".join(chunks)

    def _other(self) -> None:
        self._drain()
        if self.path.split("?", 1)[0] != PATH:
            self._answer(404, {"message": "no such route"})
        elif self.command == "GET":
            self._answer(404, {"message": "listing runtimes is not supported here"})
        else:
            self._answer(405, {"message": f"{self.command} not allowed"}, {"Allow": "POST"})

    do_GET = do_PUT = do_PATCH = do_DELETE = do_TRACE = do_OPTIONS = _other

    def do_HEAD(self) -> None:
        self.send_response(405)
        self.send_header("Allow", "POST")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != PATH:
            self._drain()
            self._answer(404, {"message": "no such route"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self._drain()
        # RFC 6750 2.1: credentials = "Bearer" 1*SP b64token; the field value has no surrounding whitespace.
        scheme, _, token = (self.headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or token.lstrip(" ") != self.server.api_key:
            self._answer(401, {"message": "unauthorized"})
            return
        if length > MAX_BODY:
            self._answer(413, {"message": "request body too large"})
            return
        media = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if media != "application/json":
            self._answer(400, {"message": "expected application/json"})
            return
        try:
            body = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
        except (UnicodeDecodeError, ValueError, RecursionError):
            self._answer(400, {"message": "malformed JSON"})
            return
        errors = list(self.server.validator.iter_errors(body))
        if errors:
            # Say which rule failed, never quote the value: jsonschema's message repeats the instance,
            # and a proxy object refused for its missing host would carry its password back.
            self._answer(400, {"message": "invalid request", "errors": [
                {"path": "." + ".".join(map(str, e.absolute_path)), "problem": f"fails '{e.validator}'"}
                for e in errors]})
            return
        self._answer(200, _runtime(body))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The stdlib's listen backlog is 5: a client with 32 requests in flight would see resets. A real
    # service (behind any load balancer) takes them; so does this one.
    request_queue_size = 128
    api_key: str
    validator: Draft202012Validator


class IndependentServer:
    """A context manager serving the independent implementation on 127.0.0.1 (a free port)."""

    def __init__(self, api_key: str, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.api_key = api_key
        self._server.validator = _request_validator()
        self._thread = threading.Thread(target=self._server.serve_forever, name="independent-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "IndependentServer":
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
