"""The HAR reader: recorded entries become exchanges, whatever the recorder's habits."""
from __future__ import annotations

import base64
import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from contracts.checks.model import MISSING
from harness.traffic import OtherEntry, RecordedExchange, Traffic, TrafficError, iter_traffic, load_traffic

PATH = "/v2/runtimes"
URL = "https://staging.example.com" + PATH
DATA = Path(__file__).parent / "data" / "har"


def entry(method: str = "POST", url: str = URL, *, status: int = 200, request: dict[str, Any] | None = None,
          response: dict[str, Any] | None = None, content: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """One HAR 1.2 entry, with what a recorder always writes; `request`/`response`/`content` override fields."""
    return {
        "startedDateTime": "2026-12-01T10:00:00.000Z",
        "time": 12.5,
        "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1", "cookies": [],
                    "headers": [{"name": "Authorization", "value": "Bearer k"},
                                {"name": "Content-Type", "value": "application/json"}],
                    "queryString": [], "headersSize": -1, "bodySize": 2,
                    "postData": {"mimeType": "application/json", "text": "{}"}, **(request or {})},
        "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
                     "headers": [{"name": "Content-Type", "value": "application/json"}],
                     "content": {"size": 11, "mimeType": "application/json", "text": '{"id":"r1"}',
                                 **(content or {})},
                     "redirectURL": "", "headersSize": -1, "bodySize": -1, **(response or {})},
        "cache": {}, "timings": {"send": 0, "wait": 12, "receive": 0.5},
        **extra,
    }


def har(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": "hand", "version": "1"}, "entries": list(entries)}}


def write(tmp_path: Path, document: Any, name: str = "t.har") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return path


def load(path: Path, base_url: str | None = None) -> Traffic:
    return load_traffic(path, method="POST", path_template=PATH, base_url=base_url)


def one(tmp_path: Path, *entries: dict[str, Any]) -> RecordedExchange:
    traffic = load(write(tmp_path, har(*entries)))
    assert len(traffic.exchanges) == 1, traffic.other
    return traffic.exchanges[0]


# -- the plain case --------------------------------------------------------------------------------------------

def test_a_recorded_create_becomes_a_judgeable_exchange(tmp_path: Path) -> None:
    x = one(tmp_path, entry(request={"postData": {"mimeType": "application/json", "text": '{"spaceId": "s"}'}}))
    assert x.request.method == "POST" and x.request.url == URL
    assert x.request.headers == {"Authorization": "Bearer k", "Content-Type": "application/json"}
    assert x.request.body == b'{"spaceId": "s"}' and x.request.payload == {"spaceId": "s"}
    assert x.request.intent == "unknown" and x.request.label == "t.har#0"
    assert x.response is not None and x.response.status == 200
    assert x.response.headers == {"content-type": "application/json"}
    assert x.response.json == {"id": "r1"} and not x.response.truncated
    assert x.response.elapsed == pytest.approx(0.0125)
    assert x.body_recorded and x.not_judged_reason == "" and x.error is None
    assert (x.source, x.index, x.started) == (str(tmp_path / "t.har"), 0, "2026-12-01T10:00:00.000Z")
    assert x.as_exchange().status == 200


# -- matching ------------------------------------------------------------------------------------------------

def test_any_host_matches_the_path_and_other_paths_are_listed(tmp_path: Path) -> None:
    traffic = load(write(tmp_path, har(
        entry(url="http://localhost:8787/v2/runtimes"),
        entry(url="https://prod.example.com/v2/runtimes?dryRun=1"),
        entry("GET", "https://staging.example.com/static/app.js"),
        entry(url="https://staging.example.com/v2/runtimes/abc"),
        entry("GET", "data:image/png;base64,AAAA"),
    )))
    assert [x.request.url for x in traffic.exchanges] == ["http://localhost:8787/v2/runtimes",
                                                         "https://prod.example.com/v2/runtimes?dryRun=1"]
    assert [(o.method, o.url, o.reason, o.index) for o in traffic.other] == [
        ("GET", "https://staging.example.com/static/app.js", "another path", 2),
        ("POST", "https://staging.example.com/v2/runtimes/abc", "another path", 3),
        ("GET", "data:image/png;base64,AAAA", "not an HTTP URL (data)", 4)]
    assert traffic.entries == 5 and "2 exchanges" in traffic.summary()


def test_base_url_narrows_and_strips_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, har(entry(url="https://staging.example.com/api/v2/runtimes"),
                               entry(url="https://prod.example.com/api/v2/runtimes"),
                               entry(url="https://staging.example.com/apiv2/v2/runtimes"),
                               entry(url="https://staging.example.com/v2/runtimes")))
    traffic = load(path, base_url="https://staging.example.com/api/")
    assert [x.index for x in traffic.exchanges] == [0]
    assert [(o.index, o.reason) for o in traffic.other] == [
        (1, "outside the base URL https://staging.example.com/api"),
        (2, "outside the base URL https://staging.example.com/api"),
        (3, "outside the base URL https://staging.example.com/api")]
    # Without base_url the path must equal the template: /api/v2/runtimes does not.
    assert [x.index for x in load(path).exchanges] == [3]


def test_other_methods_on_the_path_are_exchanges_but_cors_preflights_are_not(tmp_path: Path) -> None:
    preflight = entry("OPTIONS", request={"headers": [{"name": "Origin", "value": "https://app.example.com"},
                                                      {"name": "access-control-request-method", "value": "POST"}],
                                          "postData": None, "bodySize": 0}, status=204, content={"size": 0, "text": ""})
    traffic = load(write(tmp_path, har(
        entry("GET", request={"postData": None, "bodySize": 0}, status=405),
        entry("OPTIONS", request={"postData": None, "bodySize": 0}, status=405),
        preflight,
        entry("OPTIONS", request={"postData": None, "bodySize": 0}, _resourceType="preflight"),
        entry(),
    )))
    assert [x.request.method for x in traffic.exchanges] == ["GET", "OPTIONS", "POST"]
    assert [x.request.method for x in traffic.on_operation()] == ["POST"]
    assert [(o.method, o.reason) for o in traffic.other] == [("OPTIONS", "CORS preflight")] * 2
    get = traffic.exchanges[0]
    assert get.request.body is None and get.request.payload is MISSING and get.request_body_recorded


def test_path_templates_match_one_segment(tmp_path: Path) -> None:
    path = write(tmp_path, har(entry(url="https://x.test/v2/runtimes/r-1"), entry(url="https://x.test/v2/runtimes/a/b")))
    traffic = load_traffic(path, method="GET", path_template="/v2/runtimes/{id}")
    assert [x.index for x in traffic.exchanges] == [0] and [o.index for o in traffic.other] == [1]


# -- bodies --------------------------------------------------------------------------------------------------

def test_base64_response_body(tmp_path: Path) -> None:
    body = b'{"id":"r2","name":"caf\xc3\xa9"}'
    x = one(tmp_path, entry(content={"size": len(body), "text": base64.b64encode(body).decode(), "encoding": "base64"}))
    assert x.response is not None and x.response.body == body and x.response.json["name"] == "café"


def test_non_utf8_response_body_keeps_its_bytes(tmp_path: Path) -> None:
    body = b"\xff\xfe\x00 not json"
    x = one(tmp_path, entry(content={"size": len(body), "text": base64.b64encode(body).decode(),
                                     "encoding": "base64", "mimeType": "application/octet-stream"}))
    assert x.response is not None and x.response.body == body and x.response.json is MISSING
    assert x.response_body_recorded and not x.response.truncated


def test_text_decoded_with_a_declared_charset_is_encoded_back_with_it(tmp_path: Path) -> None:
    x = one(tmp_path, entry(content={"size": 5, "text": "caf\u00e9!", "mimeType": "text/plain; charset=ISO-8859-1"}))
    assert x.response is not None and x.response.body == b"caf\xe9!" and x.response_body_recorded


def test_missing_text_means_not_recorded_never_a_failure(tmp_path: Path) -> None:
    x = one(tmp_path, entry(content={"size": 120, "text": None}))
    assert x.response is not None and x.response.status == 200
    assert x.response.truncated and x.response.body == b"" and x.response.json is MISSING
    assert not x.response_body_recorded and not x.body_recorded and x.request_body_recorded
    assert x.not_judged_reason == "the response body is not recorded (120 bytes)"


def test_text_shorter_than_size_means_truncated(tmp_path: Path) -> None:
    x = one(tmp_path, entry(content={"size": 5000, "text": '{"id":"r1", "pad": "xxxx'}))
    assert x.response is not None and x.response.truncated and x.response.json is MISSING
    assert x.response.body == b'{"id":"r1", "pad": "xxxx'
    assert x.not_judged_reason == "the response body is not recorded whole (24 of 5000 bytes)"


def test_empty_bodies_are_recorded_when_their_size_says_so(tmp_path: Path) -> None:
    traffic = load(write(tmp_path, har(
        entry(status=204, content={"size": 0, "text": None}),
        entry(status=204, content={"size": -1, "text": None}),
        entry("HEAD", request={"postData": None, "bodySize": 0}, content={"size": -1, "text": None}),
        entry(response={"bodySize": -1, "headersSize": -1}, content={"size": -1, "text": '{"id":"r1"}'}),
    )))
    assert all(x.response_body_recorded for x in traffic.exchanges), [x.not_judged_reason for x in traffic.exchanges]
    assert [x.response.body for x in traffic.exchanges if x.response] == [b"", b"", b"", b'{"id":"r1"}']


def test_compression_in_both_conventions(tmp_path: Path) -> None:
    text = '{"id":"r1"}'
    traffic = load(write(tmp_path, har(
        # HAR 1.2: size is the decoded size, compression the bytes saved on the wire.
        entry(content={"size": len(text), "compression": 4, "text": text}),
        # mitmproxy: size is the wire size (gzip made it larger), compression = decoded - wire.
        entry(content={"size": len(gzip.compress(text.encode())), "compression": len(text) - len(gzip.compress(text.encode())),
                       "text": text}),
    )))
    assert [x.response_body_recorded for x in traffic.exchanges] == [True, True]


def test_post_data_text_and_form_params(tmp_path: Path) -> None:
    form = entry(request={"headers": [{"name": "Content-Type", "value": "application/x-www-form-urlencoded"}],
                          "bodySize": 21,  # sent as spaceId=a%20b&x=1%262: a rebuilt body is not held to it
                          "postData": {"mimeType": "application/x-www-form-urlencoded",
                                       "params": [{"name": "spaceId", "value": "a b"}, {"name": "x", "value": "1&2"}]}},
                 status=415)
    traffic = load(write(tmp_path, har(form, entry(request={"postData": {"mimeType": "application/json",
                                                                         "text": "{not json"}, "bodySize": 9}))))
    form_x, text_x = traffic.exchanges
    assert form_x.request.body == b"spaceId=a+b&x=1%262" and form_x.request.payload is MISSING
    assert form_x.request_body_recorded
    assert text_x.request.body == b"{not json" and text_x.request.payload is MISSING and text_x.request_body_recorded


def test_request_body_not_recorded(tmp_path: Path) -> None:
    traffic = load(write(tmp_path, har(
        entry(request={"postData": None, "bodySize": 340}),
        entry(request={"postData": None, "bodySize": -1}),
        entry(request={"postData": {"mimeType": "application/json", "text": '{"a"'}, "bodySize": 900}),
        entry(request={"postData": {"mimeType": "multipart/form-data; boundary=x",
                                    "params": [{"name": "f", "fileName": "a.json", "value": ""}]}}),
    )))
    assert [x.request_body_recorded for x in traffic.exchanges] == [False] * 4
    assert all(x.request.payload is MISSING and x.response_body_recorded for x in traffic.exchanges)
    assert [x.not_judged_reason for x in traffic.exchanges] == [
        "the request body (340 bytes) is not recorded",
        "the request body is not recorded (no postData, size unknown)",
        "the request body is not recorded whole (4 of 900 bytes)",
        "the request body is recorded as multipart form fields, which cannot be rebuilt byte for byte"]


def test_bodies_a_recorder_decoded_with_replacements_are_not_recorded(tmp_path: Path) -> None:
    traffic = load(write(tmp_path, har(
        # Playwright: the request bytes b'{"name": "\xff\xfe"}' (14) written as text with two U+FFFD (18 bytes).
        entry(request={"postData": {"mimeType": "application/json", "text": '{"name": "\ufffd\ufffd"}'},
                       "bodySize": 14}),
        entry(content={"size": 4, "text": "\ufffd\ufffd", "mimeType": "text/plain"}),
        # A U+FFFD that was sent as such (3 bytes in UTF-8, counted in the size) is text like any other.
        entry(request={"postData": {"mimeType": "application/json", "text": '"\ufffd"'}, "bodySize": 5}),
    )))
    lossy_request, lossy_response, genuine = traffic.exchanges
    assert not lossy_request.request_body_recorded and lossy_request.request.body is None
    assert lossy_request.not_judged_reason == ("the request body is recorded lossily (18 bytes with U+FFFD "
                                               "replacement characters for 14 bytes sent)")
    assert not lossy_response.response_body_recorded and lossy_response.response is not None
    assert lossy_response.response.truncated and lossy_response.response.body == b""
    assert genuine.request_body_recorded and genuine.request.payload == "\ufffd"


def test_mitmproxy_keeps_non_utf8_bytes_as_surrogates(tmp_path: Path) -> None:
    x = one(tmp_path, entry(request={"postData": {"mimeType": "application/json", "text": '{"a": "\udcff\udcfe"}'},
                                     "bodySize": 11}))
    assert x.request.body == b'{"a": "\xff\xfe"}' and x.request.payload is MISSING and x.request_body_recorded


def test_non_utf8_request_body(tmp_path: Path) -> None:
    raw = b"\xff\xfe{}"
    x = one(tmp_path, entry(request={"postData": {"mimeType": "application/json", "encoding": "base64",
                                                  "text": base64.b64encode(raw).decode()}, "bodySize": 4}))
    assert x.request.body == raw and x.request.payload is MISSING and x.request_body_recorded


# -- headers -------------------------------------------------------------------------------------------------

def test_headers_case_pseudo_headers_and_duplicates(tmp_path: Path) -> None:
    x = one(tmp_path, entry(
        request={"httpVersion": "h2", "headers": [
            {"name": ":method", "value": "POST"}, {"name": ":path", "value": PATH},
            {"name": ":authority", "value": "staging.example.com"}, {"name": ":scheme", "value": "https"},
            {"name": "authorization", "value": "Bearer k"}, {"name": "Accept", "value": "application/json"},
            {"name": "accept", "value": "*/*"}, {"name": "cookie", "value": "a=1"}, {"name": "Cookie", "value": "b=2"}]},
        response={"headers": [{"name": ":status", "value": "200"}, {"name": "Content-Type", "value": "application/json"},
                              {"name": "X-Trace", "value": "1"}, {"name": "x-trace", "value": "2"},
                              {"name": "VARY", "value": "Origin"}]}))
    assert x.request.headers == {"authorization": "Bearer k", "Accept": "application/json, */*", "cookie": "a=1; b=2"}
    assert x.response is not None
    assert x.response.headers == {"content-type": "application/json", "x-trace": "1, 2", "vary": "Origin"}


# -- no answer, errors -----------------------------------------------------------------------------------------

def test_status_zero_is_no_answer(tmp_path: Path) -> None:
    traffic = load(write(tmp_path, har(
        entry(status=0, content={"size": 0, "text": None}, response={"_error": "net::ERR_CONNECTION_REFUSED"}),
        entry(status=0, content={"size": 0}, _error="net::ERR_TIMED_OUT"),
        entry(status=-1, response={"_failureText": "net::ERR_ABORTED"}),
        entry(status=0),
    )))
    assert [x.response for x in traffic.exchanges] == [None] * 4
    assert [x.error for x in traffic.exchanges] == [
        "no answer: net::ERR_CONNECTION_REFUSED", "no answer: net::ERR_TIMED_OUT", "no answer: net::ERR_ABORTED",
        "no answer: the recording has no response status"]
    assert traffic.exchanges[0].as_exchange().status is None


def test_an_error_noted_after_the_answer_marks_the_body_unrecorded(tmp_path: Path) -> None:
    x = one(tmp_path, entry(_error="net::ERR_ABORTED"))
    assert x.response is not None and x.response.status == 200 and x.response.truncated
    assert "net::ERR_ABORTED" in x.not_judged_reason


def test_missing_optional_fields_and_malformed_entries(tmp_path: Path) -> None:
    bare = {"request": {"method": "POST", "url": URL}, "response": {"status": 401}}
    traffic = load(write(tmp_path, har(bare, "junk", {"request": {"method": "POST"}}, {"response": {}})))
    x, = traffic.exchanges
    assert x.response is not None and x.response.status == 401 and x.response.elapsed == 0.0
    assert x.started == "" and not x.request_body_recorded  # a POST with no postData and no size
    assert [o.reason for o in traffic.other] == ["malformed entry: no request object",
                                                 "malformed entry: no request method or URL",
                                                 "malformed entry: no request object"]


@pytest.mark.parametrize(("content", "message"), [
    ("", "is not HAR: it is not JSON (Expecting value at line 1, column 1)"),
    ("{\"log\": ", "is not HAR: it is not JSON"),
    ("[1, 2]", "is not HAR: it has no top-level \"log\" object"),
    ("{\"log\": {\"version\": \"1.2\"}}", "is not HAR: its \"log\" has no \"entries\" list"),
    ("{\"log\": {\"entries\": {}}}", "is not HAR: its \"log\" has no \"entries\" list"),
])
def test_not_har_is_one_readable_sentence(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(TrafficError, match="^" + str(path).replace(".", r"\.")) as caught:
        load(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_unreadable_paths(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "binary.har").write_bytes(b"\x89PNG\r\n\x1a\n\xff")
    with pytest.raises(TrafficError, match="is a folder with no \\*.har files in it"):
        load(tmp_path / "empty")
    with pytest.raises(TrafficError, match="does not exist"):
        load(tmp_path / "nope.har")
    with pytest.raises(TrafficError, match="it is not UTF-8 text"):
        load(tmp_path / "binary.har")
    if os.geteuid() != 0:  # root reads a file whatever its mode says
        locked = write(tmp_path, har(), "locked.har")
        locked.chmod(0)
        with pytest.raises(TrafficError, match="cannot be read"):
            load(locked)


def test_a_bom_and_an_empty_log_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.har"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(har()).encode())
    traffic = load(path)
    assert traffic.exchanges == [] and traffic.other == [] and traffic.files == [str(path)]


def test_a_folder_is_read_file_by_file_in_name_order(tmp_path: Path) -> None:
    write(tmp_path, har(entry(), entry("GET", "https://x.test/favicon.ico")), "b.har")
    write(tmp_path, har(entry(status=422)), "a.har")
    write(tmp_path, "not read: not a .har file", "notes.txt")
    traffic = load(tmp_path)
    assert [Path(f).name for f in traffic.files] == ["a.har", "b.har"]
    assert [(Path(x.source).name, x.index) for x in traffic.exchanges] == [("a.har", 0), ("b.har", 0)]
    assert [(Path(o.source).name, o.index) for o in traffic.other] == [("b.har", 1)]


def test_iteration_is_lazy_per_file(tmp_path: Path) -> None:
    write(tmp_path, har(entry()), "a.har")
    write(tmp_path, "{broken", "b.har")
    items = iter_traffic(tmp_path, path_template=PATH)
    assert isinstance(next(items), RecordedExchange)
    with pytest.raises(TrafficError, match="b.har is not HAR"):
        next(items)


# -- a HAR written by a real recorder ------------------------------------------------------------------------

def test_a_har_recorded_by_mitmproxy_in_front_of_the_reference_mock() -> None:
    from tests.selftest.recorders.record_har import SESSION, check_recording

    path = DATA / "mitmproxy-reference.har"
    assert json.loads(path.read_text())["log"]["creator"]["name"] == "mitmproxy"  # written by the tool, not by us
    traffic = load(path)
    check_recording(traffic, SESSION)
    assert "12 entries in 1 file(s): 10 exchanges" in traffic.summary()
    assert all(isinstance(o, OtherEntry) for o in traffic.other)


def test_a_har_recorded_by_chromium_through_playwright() -> None:
    from tests.selftest.recorders.record_har import BROWSER_SESSION, check_recording

    path = DATA / "chromium-reference.har"
    assert json.loads(path.read_text())["log"]["creator"]["name"] == "Playwright"
    traffic = load(path)
    check_recording(traffic, BROWSER_SESSION, browser=True)
    unread = traffic.exchanges[-1]
    assert unread.response is not None and unread.response.status == 405 and not unread.response_body_recorded
    assert unread.not_judged_reason == "the response body is not recorded"
    no_answer = traffic.exchanges[-2]
    assert no_answer.response is None and no_answer.error == "no answer: net::ERR_FAILED"


def _require(tool: str, found: bool) -> None:
    if not found:
        if os.environ.get("REQUIRE_HAR_RECORDERS"):
            pytest.fail(f"REQUIRE_HAR_RECORDERS is set but {tool} was not found")
        pytest.skip(f"{tool} not installed (tests/selftest/recorders/requirements-recorders.txt)")


def test_recording_afresh_with_mitmproxy(tmp_path: Path) -> None:
    from tests.selftest.recorders.record_har import SESSION, check_recording, find_mitmdump, record

    _require("mitmdump", find_mitmdump() is not None)
    check_recording(load(record(tmp_path / "fresh.har")), SESSION)


def test_recording_afresh_with_chromium(tmp_path: Path) -> None:
    from tests.selftest.recorders.record_har import (BROWSER_SESSION, check_recording, find_recorder_python,
                                                     record_with_chromium)

    _require("playwright and chromium", find_recorder_python() is not None
             and Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).is_file())
    check_recording(load(record_with_chromium(tmp_path / "fresh.har")), BROWSER_SESSION, browser=True)
