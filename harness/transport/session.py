"""The suite's HTTP session: it never follows a redirect and never reads a body past a cap.

Everything the suite sends goes through one `requests.Session` (our client, and
schemathesis when handed `client.session`), so these guarantees hold for all of
it, whatever the caller passes:

- A redirect is an answer to judge, not an instruction: a create answered with
  a 3xx is an undocumented status, and following a redirect loop would cost 30
  requests per case and end in an exception instead of a finding.
- A body longer than `max_bytes` is cut off (the connection is closed); one
  whose Content-Length says so is not read past KEEP_WHEN_TRUNCATED at all.
  A cut-off body cannot be judged anyway, so the caller gets only that prefix
  (enough for the report's preview): a server answering every request with
  50 MB costs a transient read of at most the cap, and 64 KiB per response
  held afterwards, even where failing tests keep their responses alive
  (Hypothesis keeps the error of every failing explicit example, and with it
  the response). The caller sees `response.raw.truncated`.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import requests

KEEP_WHEN_TRUNCATED = 64 * 1024


class CappedRaw:
    """A urllib3 response whose body is passed on whole if it is at most `max_bytes`, else cut off.

    The first KEEP_WHEN_TRUNCATED bytes (at most the cap) go to the caller at once; the rest is held
    back until the body has ended within the cap (then it follows) or has passed
    it (then it is dropped, the connection closed, and `truncated` set). So a
    caller that keeps what it read keeps at most the prefix of a cut-off body.
    """

    def __init__(self, raw: Any, max_bytes: int, *, declared_too_big: bool = False,
                 on_done: Callable[[bytes, bool], None] | None = None) -> None:
        self._raw = raw
        self._on_done = on_done  # (the body as read, cut off?) once the body has been read to its end or the cap
        self._max = max_bytes
        self._keep = min(KEEP_WHEN_TRUNCATED, max_bytes)
        self._too_big = declared_too_big  # Content-Length already says it is over the cap
        self._reader: Iterator[bytes] | None = None
        self._buffer = b""
        self.truncated = False

    def stream(self, amt: int | None = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        seen = given = 0
        held: list[bytes] = []
        prefix: list[bytes] = []
        for chunk in self._raw.stream(amt, decode_content=decode_content):
            seen += len(chunk)
            if given < self._keep:
                part = chunk[:self._keep - given]
                given += len(part)
                chunk = chunk[len(part):]
                if part:
                    prefix.append(part)
                    yield part
            if seen > self._max or (self._too_big and given >= self._keep):
                self.truncated = True
                # Unread body is left on the connection: close it, so the pool never reuses it.
                self._raw.close()
                self._done(b"".join(prefix), True)
                return
            if chunk:
                held.append(chunk)
        yield from held
        self._done(b"".join(prefix + held), False)

    def _done(self, body: bytes, truncated: bool) -> None:
        callback, self._on_done = self._on_done, None  # once per answer
        if callback is not None:
            callback(body, truncated)

    def read(self, amt: int | None = None, decode_content: bool | None = None, **_: Any) -> bytes:
        if self._reader is None:
            self._reader = self.stream(2**16, decode_content)
        while amt is None or len(self._buffer) < amt:
            chunk = next(self._reader, None)
            if chunk is None:
                break
            self._buffer += chunk
        cut = len(self._buffer) if amt is None else amt
        data, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def declared_length(response: requests.Response) -> int | None:
    value = response.headers.get("content-length", "").strip()
    return int(value) if value.isdigit() else None


class CappedSession(requests.Session):
    """A Session that never follows redirects and passes on no body longer than `max_bytes` (see CappedRaw).

    `on_read(response, body, truncated)` is called once for every answer whose
    body has been read (to its end or to the cap), whoever sent the request and
    however it reads (schemathesis streams and reads the whole body; our client
    streams too): the suite's ledger of created runtimes sees every answer there.
    """

    def __init__(self, max_bytes: int, on_read: Callable[[requests.Response, bytes, bool], None] | None = None) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self.on_read = on_read

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["allow_redirects"] = False
        stream = kwargs.pop("stream", False)
        response = super().send(request, stream=True, **kwargs)
        declared = declared_length(response)
        on_read = self.on_read
        if getattr(response, "_bctrl_replayed", False):
            on_read = None  # a prefetched answer handed out again (harness/transport/replay.py): reported once
        done = (lambda body, truncated: on_read(response, body, truncated)) if on_read is not None else None
        response.raw = CappedRaw(response.raw, self.max_bytes,
                                 declared_too_big=declared is not None and declared > self.max_bytes, on_done=done)
        if not stream:
            response.content  # noqa: B018 - read now, through the cap, as a non-streaming caller expects
        return response
