"""Read HAR 1.2 recordings into exchanges the checks can judge.

A HAR file is one JSON document, so each file is parsed whole; a folder is read
file by file, and entries are dropped from the parsed document as they are
turned into exchanges, so memory holds at most one file's parse tree plus the
exchanges built so far.

Recorders differ, and a recording is evidence, not a test we ran: a body the
recorder did not keep (no `text`, or `text` shorter than `content.size`) is
marked as not recorded and its exchange is judged on status and headers only,
never failed for it. What each recorder writes is handled here:

- bodies: `content.encoding: base64`; `text` decoded by the recorder with the
  charset of `mimeType` (so it is encoded back with it); non-UTF-8 bytes kept
  as lone surrogates (mitmproxy: they become those bytes again) or replaced by
  U+FFFD (Playwright: lost, so the body counts as not recorded); `content.compression`
  and the mitmproxy convention of `size` being the on-the-wire size
  (size + compression is then the decoded size); `postData.text` or
  `postData.params` (form fields, rebuilt as an urlencoded body);
- headers: names in any case (lower-cased for `Received`, kept as sent on the
  request); HTTP/2 pseudo-headers (`:method`, `:path`, ...) dropped; duplicate
  names joined with ", " ("; " for Cookie, RFC 9113 8.2.3);
- no answer: `response.status` 0 (Chromium, with `_error`) or -1 (Playwright,
  with `_failureText`) gives `response=None` and the reason in `error`;
- sizes of -1 (unknown) and missing optional fields.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlencode, urlsplit

from contracts.checks.model import MISSING, Exchange, Received, SentRequest

# Methods that usually carry a body: a HAR entry of one of these without postData
# leaves it unknown whether the body was empty or just not recorded.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\";\s]+)", re.IGNORECASE)


class TrafficError(ValueError):
    """A path that cannot be read as HAR: one readable sentence says which and why."""


@dataclass(frozen=True)
class RecordedExchange:
    """One recorded request on the operation's path, and its answer (None when there was none)."""

    request: SentRequest
    response: Received | None
    source: str  # the HAR file it came from
    index: int  # position in that file's log.entries
    started: str  # the entry's startedDateTime, as recorded
    request_body_recorded: bool = True
    response_body_recorded: bool = True
    # Why a body cannot be judged (empty when both were recorded); say it in the report.
    not_judged_reason: str = ""
    error: str | None = None  # why there is no answer, when response is None

    @property
    def body_recorded(self) -> bool:
        """Both bodies (the request's and the response's) are in the recording."""
        return self.request_body_recorded and self.response_body_recorded

    def as_exchange(self) -> Exchange:
        return Exchange(self.request, self.response, self.error)


@dataclass(frozen=True)
class OtherEntry:
    """A recorded entry that is not an exchange of the operation, and why."""

    method: str
    url: str
    reason: str
    source: str
    index: int


@dataclass(repr=False)
class Traffic:
    """What a HAR file or folder holds: the operation's exchanges and everything else."""

    method: str = ""  # the operation's method, upper-case
    exchanges: list[RecordedExchange] = field(default_factory=list)
    other: list[OtherEntry] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def __repr__(self) -> str:  # counts, not 10,000 exchanges: pytest prints it beside a failure
        return f"Traffic({self.method} {len(self.exchanges)} exchanges, {len(self.other)} other, files={self.files!r})"

    @property
    def entries(self) -> int:
        return len(self.exchanges) + len(self.other)

    def on_operation(self) -> list[RecordedExchange]:
        """Exchanges sent with the operation's method (the others are for the other-methods check)."""
        return [x for x in self.exchanges if x.request.method.upper() == self.method]

    def not_judged(self) -> list[RecordedExchange]:
        return [x for x in self.exchanges if not x.body_recorded]

    def summary(self) -> str:
        unrecorded = len(self.not_judged())
        answered = sum(1 for x in self.exchanges if x.response is not None)
        return (f"{self.entries} entries in {len(self.files)} file(s): {len(self.exchanges)} exchanges on the "
                f"operation's path ({len(self.on_operation())} {self.method}, {answered} answered, "
                f"{unrecorded} with a body not recorded), "
                f"{len(self.other)} other entries")


class _Matcher:
    """Which entries belong to the operation: by URL path, whatever the host, within base_url if given."""

    def __init__(self, path_template: str, base_url: str | None) -> None:
        parts = re.split(r"(\{[^}/]+\})", path_template)
        self._path = re.compile("".join("[^/]+" if p.startswith("{") and p.endswith("}") else re.escape(p)
                                        for p in parts) + r"\Z")
        self._base = base_url.rstrip("/") if base_url else None
        self._base_path = urlsplit(self._base).path if self._base else ""

    def route(self, method: str, url: str, headers: dict[str, str], resource_type: Any) -> str | None:
        """None when the entry is an exchange of the operation, else why it is not."""
        split = urlsplit(url)
        if split.scheme.lower() not in ("http", "https"):
            return f"not an HTTP URL ({split.scheme or 'no scheme'})"
        path = split.path
        if self._base is not None:
            if not url.startswith(self._base) or url[len(self._base):len(self._base) + 1] not in ("", "/", "?", "#"):
                return f"outside the base URL {self._base}"
            path = path[len(self._base_path):]
        if not self._path.match(path):
            return "another path"
        if method.upper() == "OPTIONS" and (resource_type == "preflight" or any(
                name.lower() == "access-control-request-method" for name in headers)):
            return "CORS preflight"
        return None


def _charset(mime: str) -> str | None:
    found = _CHARSET.search(mime or "")
    if not found:
        return None
    try:
        return codecs.lookup(found.group(1)).name
    except LookupError:
        return None


def _text_bytes(text: str, mime: str) -> bytes:
    """The bytes a recorder decoded into `text`: encoded back with the declared charset when it can be."""
    charset = _charset(mime)
    if charset and charset != "utf-8":
        try:
            return text.encode(charset)
        except UnicodeEncodeError:
            pass
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    try:
        # Bytes that were not UTF-8, kept by the recorder as lone surrogates U+DC80..U+DCFF
        # (Python's surrogateescape; mitmproxy does this): they turn back into those bytes.
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _decode(text: Any, encoding: Any, mime: str) -> tuple[bytes | None, str]:
    """(bytes, "") or (None, why not)."""
    if not isinstance(text, str):
        return None, "no text"
    if isinstance(encoding, str) and encoding.lower() == "base64":
        try:
            return base64.b64decode(text, validate=False), ""
        except (binascii.Error, ValueError):
            return None, "its base64 text does not decode"
    if encoding not in (None, ""):
        return None, f"its text is in an unknown encoding {str(encoding)[:40]!r}"
    return _text_bytes(text, mime), ""


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _headers(entries: Any, *, lower: bool) -> dict[str, str]:
    """HAR's header list as a dict: pseudo-headers dropped, duplicates joined, names lower-cased or kept."""
    out: dict[str, str] = {}
    spelled: dict[str, str] = {}  # lower-case name -> the spelling used as key
    for item in entries if isinstance(entries, list) else ():
        if not isinstance(item, dict):
            continue
        name, value = item.get("name"), item.get("value")
        if not isinstance(name, str) or not name or name.startswith(":"):
            continue
        value = "" if value is None else str(value)
        low = name.lower()
        key = spelled.setdefault(low, low if lower else name)
        if key in out:
            out[key] += ("; " if low == "cookie" else ", ") + value
        else:
            out[key] = value
    return out


def _json_payload(body: bytes | None) -> Any:
    if not body:
        return MISSING
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return MISSING


def _lossy(text: Any, body: bytes, declared: int | None) -> bool:
    """The recorder decoded bytes that were not text with replacements (Playwright does): they are lost."""
    return declared is not None and len(body) > declared and isinstance(text, str) and "\ufffd" in text


def _request_body(method: str, request: dict[str, Any], headers: dict[str, str]) -> tuple[bytes | None, str]:
    """(body, "") or (what part was recorded or None, why the body is not recorded)."""
    post = request.get("postData")
    declared = _size(request.get("bodySize"))
    if isinstance(post, dict):
        mime = post.get("mimeType") or next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        text = post.get("text")
        params = post.get("params")
        if isinstance(text, str):
            body, why = _decode(text, post.get("encoding", post.get("_encoding")), mime)
            if body is None:
                return None, f"the request body is not recorded: {why}"
        elif isinstance(params, list) and params:
            if any(isinstance(p, dict) and "fileName" in p for p in params) or \
                    str(mime).lower().startswith("multipart/"):
                return None, "the request body is recorded as multipart form fields, which cannot be rebuilt byte for byte"
            # Rebuilt, so its size may differ from the original's (%20 or +): not compared with bodySize.
            return urlencode([(str(p.get("name", "")), str(p.get("value", ""))) for p in params
                              if isinstance(p, dict)]).encode(), ""
        else:
            body = b""
        if declared is not None and len(body) < declared:
            return body, f"the request body is not recorded whole ({len(body)} of {declared} bytes)"
        if _lossy(text, body, declared):
            return None, (f"the request body is recorded lossily ({len(body)} bytes with U+FFFD replacement "
                          f"characters for {declared} bytes sent)")
        return body, ""
    length = next((v for k, v in headers.items() if k.lower() == "content-length"), "").strip()
    if (declared or 0) > 0 or (length.isdigit() and int(length) > 0):
        return None, f"the request body ({declared if declared else length} bytes) is not recorded"
    if method.upper() in _BODY_METHODS and declared is None:
        return None, "the request body is not recorded (no postData, size unknown)"
    return None, ""


def _response_body(method: str, response: dict[str, Any], status: int) -> tuple[bytes, str]:
    """(body, "") or (what part was recorded, why the body is not recorded)."""
    content = response.get("content") if isinstance(response.get("content"), dict) else {}
    size = _size(content.get("size"))
    compression = content.get("compression")
    text = content.get("text")
    if not isinstance(text, str):
        if size == 0 or (size is None and (_size(response.get("bodySize")) == 0 or status in (204, 304)
                                           or method.upper() == "HEAD")):
            return b"", ""
        return b"", "the response body is not recorded" + (f" ({size} bytes)" if size else "")
    body, why = _decode(text, content.get("encoding"), str(content.get("mimeType") or ""))
    if body is None:
        return b"", f"the response body is not recorded: {why}"
    if size is not None:
        # HAR says size is the decoded size; mitmproxy writes the wire size and puts
        # decoded - wire in compression. The body is whole when it reaches either.
        whole = size
        if isinstance(compression, int) and not isinstance(compression, bool) and size + compression >= 0:
            whole = min(size, size + compression)
        if len(body) < whole:
            return body, f"the response body is not recorded whole ({len(body)} of {size} bytes)"
        if _lossy(text, body, max(whole, size)):
            return b"", (f"the response body is recorded lossily ({len(body)} bytes with U+FFFD replacement "
                         f"characters for {max(whole, size)} bytes received)")
    return body, ""


def _no_answer(entry: dict[str, Any], response: Any) -> str:
    reasons = [str(x) for x in (entry.get("_error"), response.get("_error") if isinstance(response, dict) else None,
                                response.get("_failureText") if isinstance(response, dict) else None) if x]
    return "no answer: " + (reasons[0] if reasons else "the recording has no response status")


def _convert(entry: Any, matcher: _Matcher, source: str, index: int) -> RecordedExchange | OtherEntry:
    if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
        return OtherEntry("", "", "malformed entry: no request object", source, index)
    request = entry["request"]
    method, url = request.get("method"), request.get("url")
    if not isinstance(method, str) or not isinstance(url, str) or not method or not url:
        return OtherEntry(str(method or ""), str(url or ""), "malformed entry: no request method or URL", source, index)
    headers = _headers(request.get("headers"), lower=False)
    why = matcher.route(method, url, headers, entry.get("_resourceType"))
    if why is not None:
        return OtherEntry(method, url, why, source, index)

    body, request_gap = _request_body(method, request, headers)
    started = str(entry.get("startedDateTime", ""))
    sent_at = _epoch(started)  # the recorder's clock: a fresh resource's timestamps are judged against it
    sent = SentRequest(method, url, headers, body, MISSING if request_gap else _json_payload(body),
                       intent="unknown", label=f"{Path(source).name}#{index}", sent_at=sent_at)
    response = entry.get("response")
    status = response.get("status") if isinstance(response, dict) else None
    if not isinstance(status, int) or isinstance(status, bool) or status <= 0:
        return RecordedExchange(sent, None, source, index, started, request_body_recorded=not request_gap,
                                not_judged_reason=request_gap, error=_no_answer(entry, response))
    elapsed = entry.get("time")
    elapsed = elapsed / 1000 if isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool) and elapsed > 0 else 0.0
    body_received, response_gap = _response_body(method, response, status)
    noted = entry.get("_error") or response.get("_error")
    if noted and not response_gap:
        response_gap = f"the recorder noted an error after the answer began: {str(noted)[:200]}"
    received = Received.build(status, _headers(response.get("headers"), lower=True), body_received,
                              elapsed=elapsed, truncated=bool(response_gap),
                              received_at=None if sent_at is None else sent_at + elapsed)
    reason = "; ".join(x for x in (request_gap, response_gap) if x)
    return RecordedExchange(sent, received, source, index, started, request_body_recorded=not request_gap,
                            response_body_recorded=not response_gap, not_judged_reason=reason)


def _epoch(text: str) -> float | None:
    """An ISO 8601 startedDateTime as epoch seconds (None when absent or unreadable)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo else None


def _har_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".har" and p.is_file())
        if not files:
            raise TrafficError(f"{path} is a folder with no *.har files in it")
        return files
    if not path.exists():
        raise TrafficError(f"{path} does not exist")
    return [path]


def _read_entries(path: Path) -> list[Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TrafficError(f"{path} cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TrafficError(f"{path} is not HAR: it is not UTF-8 text (byte {exc.start})") from None
    del raw
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrafficError(f"{path} is not HAR: it is not JSON ({exc.msg} at line {exc.lineno}, "
                           f"column {exc.colno})") from None
    except RecursionError:
        raise TrafficError(f"{path} is not HAR: its JSON nests too deep to read") from None
    del text
    log = document.get("log") if isinstance(document, dict) else None
    if not isinstance(log, dict):
        raise TrafficError(f"{path} is not HAR: it has no top-level \"log\" object")
    entries = log.get("entries")
    if not isinstance(entries, list):
        raise TrafficError(f"{path} is not HAR: its \"log\" has no \"entries\" list")
    return entries


def iter_traffic(path: str | Path, *, path_template: str,
                 base_url: str | None = None) -> Iterator[RecordedExchange | OtherEntry]:
    """Every entry of a HAR file, or of each `*.har` file in a folder (by name), in file order.

    Files are read one at a time, when the iteration reaches them: a later file that
    is not HAR raises TrafficError only then.
    """
    matcher = _Matcher(path_template, base_url)
    for file in _har_files(Path(path)):
        entries = _read_entries(file)
        source = str(file)
        entries.reverse()  # pop from the end: the parse tree shrinks as exchanges are built
        index = 0
        while entries:
            yield _convert(entries.pop(), matcher, source, index)
            index += 1


def load_traffic(path: str | Path, *, method: str, path_template: str, base_url: str | None = None) -> Traffic:
    """The exchanges of one operation (`method` `path_template`) in a HAR file or a folder of them.

    An entry is an exchange when its URL path matches `path_template` (`{name}`
    matches one segment), on any host; with `base_url` (e.g.
    `https://staging.example.com/api`) only URLs under it count, and its path is
    stripped before matching. Entries on the path with another method than
    `method` are exchanges too (the other-methods check judges them), except
    CORS preflights. Everything else is listed in `other`, with the reason.
    Raises TrafficError when a file cannot be read as HAR, or a folder holds none.
    """
    traffic = Traffic(method=method.upper())
    for file in _har_files(Path(path)):
        traffic.files.append(str(file))
        for item in iter_traffic(file, path_template=path_template, base_url=base_url):
            (traffic.exchanges if isinstance(item, RecordedExchange) else traffic.other).append(item)
    return traffic


def load_contract_traffic(path: str | Path, contract: Any, *, base_url: str | None = None) -> Traffic:
    """load_traffic for a Contract's operation."""
    return load_traffic(path, method=contract.method.upper(), path_template=contract.path, base_url=base_url)

