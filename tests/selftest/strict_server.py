"""A correct but *strict* server: refuses, with a clean 422, what lies outside plausible domains.

Written apart from the reference mock (the standard library's http.server, the
upstream document read here, no contracts/ or strategies/ code), it makes the
choices a careful backend may make where the contract is silent:
- 422 for values a real service would not store: a name longer than 255
  characters, a port outside 1-65535, an idle timeout outside 1-1440 minutes,
  more than 20 extensions, an undeclared top-level property, and text with
  control, format, separator (but the plain space), surrogate, private-use or
  unassigned characters anywhere in the body, member names included;
- 422 for a body the request schema refuses, 400 for one that is not strict
  JSON (RFC 8259: UTF-8 only, no NaN or Infinity, a leading byte order mark
  ignored as 8.1 allows), 415 for another media type (media-type and charset
  parsed as RFC 9110 says: case-insensitive, parameters with optional
  whitespace, quoted values), 413 above 1 MiB, 401 with a Bearer challenge
  unless `Authorization` is the Bearer scheme (any case, one or more spaces)
  with the key, 405 with Allow for other methods;
- otherwise a 200 that reflects the request (contracts/semantics.yaml):
  name, type, metadata, stealth, fingerprint browser and locale, idle
  timeout, extensions, browser profile, the saved proxy's id, proxy null vs
  present; no credential is ever echoed, and errors never quote values.
The suite must pass against it: refusals of extreme input are warnings, never failures.
"""
from __future__ import annotations

import json
import re
import threading
import unicodedata
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Iterator

import yaml
from jsonschema import Draft202012Validator

DOCUMENT = Path(__file__).resolve().parents[2] / "contracts" / "upstream" / "create-runtime.openapi.yaml"
PATH = "/v2/runtimes"
MAX_BODY = 1024 * 1024
# The strict limits: (where, lowest, highest) for integers; the rest below.
INTEGER_LIMITS = {("config", "proxy", "port"): (1, 65535), ("config", "lifecycle", "idleTimeoutMinutes"): (1, 1440)}
NAME_MAX = 255
EXTENSIONS_MAX = 20
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")
DEFAULT_LOCALE, DEFAULT_BROWSER, DEFAULT_STEALTH, DEFAULT_TIMEOUT = "en-US", "chrome", "high", 45
ZONES = {"en-US": "America/Chicago", "en-GB": "Europe/London", "de-DE": "Europe/Berlin", "ja-JP": "Asia/Tokyo"}


def _schema() -> tuple[dict[str, Any], Draft202012Validator]:
    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    schema = dict(document["paths"][PATH]["post"]["requestBody"]["content"]["application/json"]["schema"])
    schema["components"] = document["components"]
    return schema, Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def bearer_token(header: str) -> str | None:
    """RFC 9110 11.4 / RFC 6750 2.1: `Bearer` (any case), one or more spaces, a token68; else None."""
    scheme, spaces, rest = header.strip(" \t").partition(" ")
    if not spaces or scheme.lower() != "bearer":
        return None
    token = rest.lstrip(" ")
    return token if TOKEN68.fullmatch(token) else None


def is_json_media_type(header: str) -> bool:
    """RFC 9110 8.3.1/5.6.6: `application/json` in any case, parameters after optional whitespace;
    a charset parameter, if any, must name UTF-8 (a quoted value is the same value)."""
    media, *parameters = header.split(";")
    if media.strip(" \t").lower() != "application/json":
        return False
    for parameter in parameters:
        name, equals, value = parameter.strip(" \t").partition("=")
        if not parameter.strip(" \t"):
            continue
        if not equals or not TOKEN.fullmatch(name):
            return False
        value = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
        if name.lower() == "charset" and value.lower() != "utf-8":
            return False
    return True


def _printable(text: str) -> bool:
    # Control (Cc), format (Cf), surrogate (Cs), private-use (Co), unassigned (Cn), and
    # separators (Z*) other than the plain space: nothing a name or a label should hold.
    return all(ch == " " or unicodedata.category(ch)[0] not in "CZ" for ch in text)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _at(body: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(body, dict) or part not in body:
            return None
        body = body[part]
    return body


def implausible(body: dict[str, Any], declared: set[str]) -> list[dict[str, str]]:
    """Where a schema-valid body lies outside what this service stores (never quoting a value)."""
    problems = []
    for key in body:
        if key not in declared:
            problems.append({"field": f"/{key}", "problem": "not a documented property"})
    name = body.get("name")
    if isinstance(name, str) and len(name) > NAME_MAX:
        problems.append({"field": "/name", "problem": f"longer than {NAME_MAX} characters"})
    for path, (low, high) in INTEGER_LIMITS.items():
        value = _at(body, path)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not low <= value <= high:
            problems.append({"field": "/" + "/".join(path), "problem": f"outside {low}..{high}"})
    extensions = _at(body, ("config", "extensions"))
    if isinstance(extensions, list) and len(extensions) > EXTENSIONS_MAX:
        problems.append({"field": "/config/extensions", "problem": f"more than {EXTENSIONS_MAX} items"})
    if not all(_printable(text) for text in _strings(body)):
        problems.append({"field": "", "problem": "text with control, format or separator characters"})
    return problems


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def runtime(body: dict[str, Any]) -> dict[str, Any]:
    """The 200 body: what was sent comes back, the rest is this server's own defaults."""
    config = body.get("config") or {}
    fingerprint = config.get("fingerprint") or {}
    locale = fingerprint.get("locale", DEFAULT_LOCALE)
    browser = fingerprint.get("browser", DEFAULT_BROWSER)
    proxy = config.get("proxy")
    if isinstance(proxy, dict) and "id" in proxy:
        shown: Any = {"id": str(uuid.UUID(proxy["id"])), "name": "saved proxy"}
    elif isinstance(proxy, dict):
        shown = {"name": f"{proxy.get('protocol')} proxy on port {proxy.get('port')}"}
    else:
        shown = None
    stamp = _now()
    created: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": body.get("name", "untitled runtime"),
        "type": body["type"],
        "status": "active",
        "activeRunId": None,
        "config": {
            "browser": {"profile": (config.get("browser") or {}).get("profile", True)},
            "extensions": list(config.get("extensions") or []),
            "fingerprint": {"browser": browser, "locale": locale, "timezone": ZONES.get(locale, "UTC"),
                            "userAgent": f"Mozilla/5.0 ({browser})", "viewport": {"width": 1366, "height": 768}},
            "lifecycle": {"idleTimeoutMinutes": (config.get("lifecycle") or {}).get("idleTimeoutMinutes",
                                                                                    DEFAULT_TIMEOUT),
                          "lastActivityAt": stamp},
            "proxy": shown,
            "stealth": config.get("stealth", DEFAULT_STEALTH),
        },
        "createdAt": stamp,
        "updatedAt": stamp,
    }
    if "metadata" in body:
        created["metadata"] = body["metadata"]
    return created


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (quiet)
        pass

    def _answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _read(self) -> bytes | None:
        """The whole body (None when it is larger than MAX_BODY: drained, not kept)."""
        length = int(self.headers.get("Content-Length") or 0)
        chunks, left = [], length
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            left -= len(chunk)
            if length <= MAX_BODY:
                chunks.append(chunk)
        return b"".join(chunks) if length <= MAX_BODY else None

    def _other(self) -> None:
        self._read()
        if self.path.split("?", 1)[0] != PATH:
            self._answer(404, {"error": "not_found"})
        else:
            self._answer(405, {"error": "method_not_allowed"}, {"Allow": "POST"})

    do_GET = do_PUT = do_PATCH = do_DELETE = do_TRACE = do_OPTIONS = do_HEAD = _other

    def do_POST(self) -> None:
        raw = self._read()
        if self.path.split("?", 1)[0] != PATH:
            self._answer(404, {"error": "not_found"})
            return
        if bearer_token(self.headers.get("Authorization") or "") != self.server.api_key:
            self._answer(401, {"error": "unauthorized"}, {"WWW-Authenticate": 'Bearer realm="strict"'})
            return
        if raw is None:
            self._answer(413, {"error": "payload_too_large"})
            return
        if not is_json_media_type(self.headers.get("Content-Type") or ""):
            self._answer(415, {"error": "unsupported_media_type"})
            return
        try:
            text = raw.decode("utf-8")
            body = json.loads(text[1:] if text.startswith("\ufeff") else text, parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            self._answer(400, {"error": "malformed_json"})
            return
        if not self.server.validator.is_valid(body):
            errors = self.server.validator.iter_errors(body)
            fields = sorted({"/" + "/".join(map(str, e.absolute_path)) for e in errors})
            self._answer(422, {"error": "invalid", "fields": fields})
            return
        problems = implausible(body, self.server.declared)
        if problems:
            self._answer(422, {"error": "implausible", "details": problems})
            return
        self._answer(200, runtime(body))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The stdlib's listen backlog is 5: a client with 32 requests in flight would see resets. A real
    # service (behind any load balancer) takes them; so does this one.
    request_queue_size = 128
    api_key: str
    validator: Draft202012Validator
    declared: set[str]


class StrictServer:
    """A context manager serving the strict implementation on 127.0.0.1 (a free port)."""

    def __init__(self, api_key: str, port: int = 0) -> None:
        schema, validator = _schema()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.api_key = api_key
        self._server.validator = validator
        self._server.declared = set(schema.get("properties") or {})
        self._thread = threading.Thread(target=self._server.serve_forever, name="strict-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "StrictServer":
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
