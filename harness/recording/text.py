"""Human-readable views of an exchange: redacted request/response text and a curl line.

Built once, when the exchange is recorded (harness/recording/events.py); the
failure message, the report and the summary read them from the record.
"""
from __future__ import annotations

import json
import shlex
from typing import Any

from contracts.checks.model import MISSING, Received, SentRequest
from harness.recording.redact import REDACTOR as redact

KEY_ENV = "BCTRL_API_KEY"
BODY_PREVIEW = 2000


def _json_text(value: Any) -> str:
    return json_text(redact.payload(value))


def json_text(redacted: Any) -> str:
    """The JSON text of a payload already redacted (`Redactor.payload`): what the views below show of it.

    The event writer redacts an exchange's payloads once and hands their text to every view (`body=`).
    """
    return json.dumps(redacted, ensure_ascii=False, sort_keys=False)


def request_body_text(request: SentRequest, limit: int = BODY_PREVIEW, body: str | None = None) -> str:
    if body is None:
        if request.payload is not MISSING:
            body = _json_text(request.payload)
        elif request.body:
            body = redact.text(request.body[:limit].decode("utf-8", "replace"))
        else:
            return ""
    return body if len(body) <= limit else body[:limit] + f"... ({len(body)} characters)"


def response_body_text(response: Received, limit: int = BODY_PREVIEW, body: str | None = None) -> str:
    if body is None:
        body = _json_text(response.json) if response.json is not MISSING else redact.text(
            response.body[:limit].decode("utf-8", "replace"))
    if response.truncated:
        body += " ... (body truncated by the client)"
    return body if len(body) <= limit else body[:limit] + f"... ({len(body)} characters)"


def request_text(request: SentRequest, body: str | None = None) -> str:
    """`body`: the payload's text from `json_text`, when the caller has it."""
    lines = [f"{request.method} {request.url}"]
    lines += [f"{k}: {v}" for k, v in redact.headers(request.headers).items()]
    body = request_body_text(request, body=body)
    return "\n".join(lines + ([""] + [body] if body else []))


def response_text(response: Received, body: str | None = None) -> str:
    lines = [f"HTTP {response.status}"]
    lines += [f"{k}: {redact.text(v)}" for k, v in response.headers.items()
              if k in ("content-type", "content-length", "www-authenticate", "retry-after", "location")]
    return "\n".join(lines + ["", response_body_text(response, body=body)])


def _double_quoted(text: str) -> str:
    """Escape what a POSIX shell would expand inside double quotes."""
    return "".join("\\" + char if char in '\\"$`' else char for char in redact.text(text))


def curl(request: SentRequest, api_key: str | None, body: str | None = None) -> str:
    """A curl line that replays the request; the key is read from $BCTRL_API_KEY, never written.

    `body`: the payload's text from `json_text`, when the caller has it.
    """
    parts = ["curl -sS -i", "-X", request.method, shlex.quote(redact.text(request.url))]
    for name, value in request.headers.items():
        if name.lower() in ("content-length", "host", "accept-encoding", "connection", "user-agent", "accept"):
            continue
        if name.lower() == "authorization" and api_key and api_key in value:
            # Double quotes so the shell expands the variable wherever the key stood (also in a
            # malformed header such as the bare key); the key itself never leaves the process.
            pieces = [_double_quoted(part) for part in value.split(api_key)]
            spliced = pieces[0] + "".join(
                (f"${{{KEY_ENV}}}" if piece[:1].isalnum() or piece[:1] == "_" else f"${KEY_ENV}") + piece
                for piece in pieces[1:])
            parts += ["-H", f'"Authorization: {spliced}"']
        else:
            parts += ["-H", shlex.quote(f"{name}: {redact.header(name, value)}")]
    if request.payload is not MISSING:
        parts += ["--data-raw", shlex.quote(body if body is not None else _json_text(request.payload))]
    elif request.body:
        if len(request.body) > 4096:
            parts += ["--data-binary", f"@<({len(request.body)} bytes, see the test source)>"]
        else:
            parts += ["--data-raw", shlex.quote(redact.text(request.body.decode("utf-8", "replace")))]
    return " ".join(parts)
