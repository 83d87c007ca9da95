"""The proxy's forwarding core: everything passes through unchanged, a copy is judged off the request path."""
from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs

import httpx
import pytest

from contracts.checks.model import MISSING, Received, SentRequest
from harness.proxy import JudgeFailure, JudgeProcess, ProxyServer, create_proxy_app, run_until_signalled
from mock import ServerThread

ROOT = Path(__file__).resolve().parents[2]


async def upstream(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    """A tiny target: echoes what it got, answers any status, streams, stalls, compresses."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}

    async def answer(status: int, content: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-length", str(len(content)).encode()), *(headers or [])]})
        await send({"type": "http.response.body", "body": content})

    if path.startswith("/status/"):
        code = int(path.rsplit("/", 1)[1])
        await answer(code, json.dumps({"status": code, "name": query.get("name")}).encode(),
                     [(b"content-type", b"application/json"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"),
                      (b"x-upstream", b"yes"), (b"date", b"Tue, 01 Dec 2026 10:00:00 GMT"), (b"server", b"tiny")])
    elif path == "/slow":
        await asyncio.sleep(float(query.get("seconds", "2")))
        await answer(200, b"late")
    elif path == "/big":
        size, chunk = int(query["bytes"]), b"x" * 65536
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(size).encode()), (b"content-type", b"application/octet-stream")]})
        while size > 0:
            await send({"type": "http.response.body", "body": chunk[:size], "more_body": True})
            size -= len(chunk)
        await send({"type": "http.response.body", "body": b""})
    elif path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for n in range(int(query.get("chunks", "3"))):
            await send({"type": "http.response.body", "body": f"chunk-{n};".encode(), "more_body": True})
            await asyncio.sleep(float(query.get("pause", "0.3")))
        await send({"type": "http.response.body", "body": b""})
    elif path == "/broken":  # promises 100000 bytes, sends 5, then its server drops the connection
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100000")]})
        await send({"type": "http.response.body", "body": b"12345", "more_body": True})
    elif path == "/gzip":
        await answer(200, gzip.compress(b'{"zipped": true}'),
                     [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")])
    else:  # echo
        await answer(200, json.dumps({
            "method": scope["method"], "raw_path": scope["raw_path"].decode("latin-1"),
            "query": scope["query_string"].decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "size": len(body), "sha256": hashlib.sha256(body).hexdigest(),
            "body": body.decode("latin-1") if len(body) < 1000 else None}).encode(),
            [(b"content-type", b"application/json")])


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    with ServerThread(upstream) as server:
        yield server.url


class Judge:
    """Collects what on_exchange gets, optionally slowly or badly."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.delay, self.fail = delay, fail
        self.seen: list[tuple[SentRequest, Received | None, dict[str, Any]]] = []
        self.threads: set[str] = set()

    def __call__(self, request: SentRequest, response: Received | None, meta: dict[str, Any]) -> None:
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        self.seen.append((request, response, meta))
        if self.fail:
            raise RuntimeError("the judge has a bug")


def proxied(target: str, judge: Judge, **kw: Any) -> ProxyServer:
    return ProxyServer(create_proxy_app(target, judge, **kw))


def client(**kw: Any) -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=10, **kw)


def test_a_request_and_its_answer_pass_through_unchanged(target: str) -> None:
    judge = Judge()
    with proxied(target, judge) as proxy, client() as http:
        response = http.post(proxy.url + "/echo/a%2Fb?q=1&q=2&sp=%20", content=b'{"spaceId": "s"}', headers={
            "Content-Type": "application/json", "Authorization": "Bearer k", "X-Dup": "one",
            "Connection": "keep-alive, x-private", "X-Private": "hop", "Keep-Alive": "timeout=5", "TE": "trailers",
            "User-Agent": "probe/1"})
        assert proxy.app.drain(5)
    seen = response.json()
    assert response.status_code == 200 and seen["method"] == "POST"
    assert seen["raw_path"] == "/echo/a%2Fb" and seen["query"] == "q=1&q=2&sp=%20"
    assert seen["size"] == 16 and seen["body"] == '{"spaceId": "s"}'
    headers = dict(seen["headers"])
    assert headers["host"] == target.removeprefix("http://")
    assert headers["authorization"] == "Bearer k" and headers["user-agent"] == "probe/1"
    assert headers["content-length"] == "16" and headers["content-type"] == "application/json"
    for hop in ("connection", "keep-alive", "te", "x-private", "transfer-encoding"):
        assert hop not in headers, hop
    # Nothing added on the way (httpx's default User-Agent, Accept, Accept-Encoding would be).
    assert [k for k, _ in seen["headers"]] == ["host", "accept", "accept-encoding", "content-type", "authorization",
                                              "x-dup", "user-agent", "content-length"]

    (request, received, meta), = judge.seen
    assert request.method == "POST" and request.url == target + "/echo/a%2Fb?q=1&q=2&sp=%20"
    assert request.body == b'{"spaceId": "s"}' and request.payload == {"spaceId": "s"}
    # The server hands the proxy header names lower-cased (h11); they are case-insensitive anyway.
    assert request.headers["authorization"] == "Bearer k" and "connection" not in request.headers
    assert received is not None and received.status == 200 and received.json == seen and not received.truncated
    assert meta["path"] == "/echo/a%2Fb?q=1&q=2&sp=%20" and meta["request_bytes"] == 16
    assert "error" not in meta and not meta["request_truncated"] and not meta["response_truncated"]


@pytest.mark.parametrize("code", [201, 404, 500])
def test_any_status_with_its_headers_and_body(target: str, code: int) -> None:
    judge = Judge()
    with proxied(target, judge) as proxy, client() as http:
        response = http.get(f"{proxy.url}/status/{code}?name=n")
        direct = http.get(f"{target}/status/{code}?name=n")
        assert proxy.app.drain(5)
    assert response.status_code == code and response.json() == {"status": code, "name": "n"}
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    # Exactly the target's headers, in its order, nothing added (the target's server adds a Date of its own).
    without_now = [(k, v) for k, v in response.headers.raw if not (k == b"date" and b"2026 10:00" not in v)]
    assert without_now == [(k, v) for k, v in direct.headers.raw if not (k == b"date" and b"2026 10:00" not in v)]
    assert len(response.headers.get_list("date")) == len(direct.headers.get_list("date")) == 2
    assert response.headers.get_list("server") == ["uvicorn", "tiny"]
    (request, received, meta), = judge.seen
    assert request.method == "GET" and request.body is None and request.payload is MISSING
    assert received is not None and received.status == code and received.headers["set-cookie"] == "a=1, b=2"
    assert received.json == {"status": code, "name": "n"}


def test_dot_segments_reach_the_target_byte_for_byte(target: str) -> None:
    with proxied(target, Judge()) as proxy, socket.create_connection((proxy.host, proxy.port), timeout=5) as sock:
        sock.sendall(b"GET /v2/x/../runtimes/%2e%2e/? HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert json.loads(data.split(b"\r\n\r\n", 1)[1])["raw_path"] == "/v2/x/../runtimes/%2e%2e/"


def test_answers_stream_back_as_they_arrive(target: str) -> None:
    with proxied(target, Judge()) as proxy, client() as http:
        start = time.perf_counter()
        with http.stream("GET", proxy.url + "/stream?chunks=3&pause=0.25") as response:
            chunks = response.iter_raw()
            first = next(chunks)
            first_at = time.perf_counter() - start
            rest = b"".join(chunks)
    assert first == b"chunk-0;" and first_at < 0.2
    assert first + rest == b"chunk-0;chunk-1;chunk-2;"


def test_request_bodies_stream_upstream(target: str) -> None:
    sent = hashlib.sha256()

    def chunked() -> Iterator[bytes]:
        for n in range(40):
            part = bytes([n]) * 50_000
            sent.update(part)
            yield part
    judge = Judge()
    with proxied(target, judge, body_cap=100_000, keep_prefix=1000) as proxy, client() as http:
        seen = http.post(proxy.url + "/echo", content=chunked()).json()  # chunked: no Content-Length
        assert proxy.app.drain(5)
    assert seen["size"] == 2_000_000 and seen["sha256"] == sent.hexdigest()
    assert dict(seen["headers"]).get("transfer-encoding") == "chunked"
    request, _, meta = judge.seen[0]
    assert meta["request_truncated"] and meta["request_bytes"] == 2_000_000
    assert request.body == bytes([0]) * 1000 and request.payload is MISSING


def test_a_body_over_the_cap_passes_whole_but_is_kept_truncated(target: str) -> None:
    judge = Judge()
    with proxied(target, judge, body_cap=100_000, keep_prefix=1000) as proxy, client() as http:
        response = http.get(proxy.url + "/big?bytes=300000")
        under = http.get(proxy.url + "/big?bytes=100000")
        assert proxy.app.drain(5)
    assert response.status_code == 200 and response.content == b"x" * 300_000
    assert under.content == b"x" * 100_000
    big, small = (received for _, received, _ in judge.seen)
    assert big is not None and big.truncated and big.body == b"x" * 1000 and big.json is MISSING
    assert judge.seen[0][2]["response_bytes"] == 300_000 and judge.seen[0][2]["response_truncated"]
    assert small is not None and not small.truncated and len(small.body) == 100_000


def test_compressed_answers_pass_unchanged_and_are_judged_decoded(target: str) -> None:
    judge = Judge()
    with proxied(target, judge) as proxy, client() as http:
        with http.stream("GET", proxy.url + "/gzip") as response:
            raw = b"".join(response.iter_raw())
        assert proxy.app.drain(5)
    assert response.headers["content-encoding"] == "gzip" and gzip.decompress(raw) == b'{"zipped": true}'
    _, received, _ = judge.seen[0]
    assert received is not None and received.json == {"zipped": True} and received.headers["content-encoding"] == "gzip"


def test_a_slow_judge_never_delays_an_answer(target: str) -> None:
    judge = Judge(delay=1.0)
    with proxied(target, judge) as proxy, client() as http:
        start = time.perf_counter()
        statuses = [http.get(f"{proxy.url}/status/201").status_code for _ in range(2)]
        answered = time.perf_counter() - start
        assert judge.seen == []  # still judging the first
        assert proxy.app.drain(10)
    assert statuses == [201] * 2 and answered < 0.5
    assert len(judge.seen) == 2 and judge.threads == {"proxy-judge"}


def test_a_failing_judge_is_logged_and_never_reaches_the_client(target: str, caplog: pytest.LogCaptureFixture) -> None:
    judge = Judge(fail=True)
    with proxied(target, judge) as proxy, client() as http:
        statuses = [http.get(f"{proxy.url}/status/404").status_code for _ in range(2)]
        assert proxy.app.drain(5)
        assert proxy.app.judge_errors == 2
    assert statuses == [404, 404] and len(judge.seen) == 2
    assert "on_exchange failed for GET" in caplog.text and "the judge has a bug" in caplog.text


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_target_gives_502_with_a_json_body() -> None:
    judge = Judge()
    down = f"http://127.0.0.1:{_closed_port()}"
    with proxied(down, judge) as proxy, client() as http:
        response = http.post(proxy.url + "/v2/runtimes", json={"a": 1})
        assert proxy.app.drain(5)
    assert response.status_code == 502 and response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "upstream_unreachable" and error["target"] == down and "ConnectError" in error["message"]
    (request, received, meta), = judge.seen
    assert received is None and request.payload == {"a": 1} and "ConnectError" in meta["error"]
    assert meta["proxy_status"] == 502


def test_a_slow_target_gives_504_within_the_timeout(target: str) -> None:
    judge = Judge()
    with proxied(target, judge, read_timeout=0.3) as proxy, client() as http:
        start = time.perf_counter()
        response = http.get(proxy.url + "/slow?seconds=3")
        took = time.perf_counter() - start
        assert proxy.app.drain(5)
    assert response.status_code == 504 and took < 1.5
    assert response.json()["error"]["code"] == "upstream_timeout"
    (_, received, meta), = judge.seen
    assert received is None and "did not answer in time" in meta["error"] and meta["proxy_status"] == 504


def test_32_concurrent_clients_lose_nothing(target: str) -> None:
    judge = Judge()
    per_client = 4

    def one_client(n: int) -> list[bool]:
        connection = HTTPConnection(proxy.host, proxy.port, timeout=10)  # one keep-alive connection
        try:
            answers = []
            for i in range(per_client):
                connection.request("GET", f"/status/201?name=c{n}-{i}")
                answers.append(json.loads(connection.getresponse().read())["name"] == f"c{n}-{i}")
            return answers
        finally:
            connection.close()
    with proxied(target, judge) as proxy:
        with ThreadPoolExecutor(32) as pool:
            results = list(pool.map(one_client, range(32)))
        assert proxy.app.drain(10)
    assert all(all(r) for r in results)
    names = sorted(received.json["name"] for _, received, _ in judge.seen if received is not None)
    assert names == sorted(f"c{n}-{i}" for n in range(32) for i in range(per_client))
    assert proxy.app.forwarded == 32 * per_client and proxy.app.failed == 0


def test_target_with_a_base_path(target: str) -> None:
    judge = Judge()
    with proxied(target + "/api/", judge) as proxy, client() as http:
        seen = http.get(proxy.url + "/v2/runtimes?x=1").json()
        assert proxy.app.drain(5)
    assert seen["raw_path"] == "/api/v2/runtimes" and judge.seen[0][0].url == target + "/api/v2/runtimes?x=1"
    assert judge.seen[0][2]["path"] == "/v2/runtimes?x=1"


def test_run_until_signalled_stops_in_order_and_returns_the_code(target: str) -> None:
    judge = Judge(delay=0.2)
    stop, events = threading.Event(), []
    app = create_proxy_app(target, judge)

    def ready(url: str) -> None:
        with client() as http:
            events.append(http.get(url + "/status/201").status_code)
        stop.set()

    def shutdown() -> int:
        events.append(len(judge.seen))  # every exchange handed over before the report is written
        return 1

    code = [None]
    runner = threading.Thread(target=lambda: code.__setitem__(0, run_until_signalled(
        app, port=0, on_ready=ready, on_shutdown=shutdown, stop=stop)))
    runner.start()
    runner.join(10)
    assert code == [1] and events == [201, 1]


def test_the_command_line_proxy_forwards_and_exits_0_on_sigterm(target: str) -> None:
    port = _closed_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "harness.proxy", "--target", target, "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith(f"proxy on http://127.0.0.1:{port} -> {target}")
        with client() as http:
            assert http.get(f"http://127.0.0.1:{port}/status/404").status_code == 404
        assert process.stdout.readline() == "GET /status/404 404\n"
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0 and "1 exchanges, 0 without an answer" in out


def test_a_client_leaving_mid_answer_stops_the_transfer(target: str) -> None:
    judge = Judge()
    with proxied(target, judge, body_cap=100_000, keep_prefix=1000) as proxy:
        with socket.create_connection((proxy.host, proxy.port), timeout=5) as sock:
            sock.sendall(b"GET /big?bytes=200000000 HTTP/1.1\r\nHost: h\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        assert proxy.app.drain(10)
    (_, received, meta), = judge.seen
    assert "the client left after" in meta["error"] and meta["response_bytes"] < 200_000_000
    assert received is not None and received.truncated and received.status == 200


def test_an_answer_breaking_off_is_cut_off_for_the_client_too(target: str) -> None:
    judge = Judge()
    with proxied(target, judge) as proxy, client() as http:
        with pytest.raises(httpx.RemoteProtocolError):  # not a shorter body passed off as complete
            http.get(proxy.url + "/broken")
        assert proxy.app.drain(5)
    (_, received, meta), = judge.seen
    assert "the target's answer broke off after 5 body bytes" in meta["error"]
    assert received is not None and received.status == 200 and received.truncated and received.body == b"12345"


def summarize(request: SentRequest, response: Received | None, meta: dict[str, Any]) -> tuple[Any, ...]:
    """A judge for JudgeProcess (runs in the child): what it was given, MISSING kept by identity."""
    if request.method == "DELETE":
        raise ValueError("a judge bug")
    return (meta["number"], request.method, request.payload is MISSING, response.status if response else None,
            response.json if response else None)


def test_a_judge_process_gets_every_exchange_and_sends_results_back(target: str) -> None:
    results: list[Any] = []
    judge = JudgeProcess(f"{__name__}:summarize", results.append)
    with proxied(target, judge) as proxy, client() as http:
        http.post(proxy.url + "/status/201?name=a", json={"k": 1})
        http.get(proxy.url + "/status/404?name=b")
        http.delete(proxy.url + "/status/500")
        assert proxy.app.drain(5)
    assert judge.close(30)
    failure = next(r for r in results if isinstance(r, JudgeFailure))
    assert failure.number == 3 and "a judge bug" in failure.error and judge.failed == 1
    assert sorted(r for r in results if not isinstance(r, JudgeFailure)) == [
        (1, "POST", False, 201, {"status": 201, "name": "a"}), (2, "GET", True, 404, {"status": 404, "name": "b"})]
