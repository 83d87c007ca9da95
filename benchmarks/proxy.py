"""`python -m benchmarks.proxy`: what the validating proxy costs, and that it loses nothing.

Every server runs in its own process, so that the proxy's figures are its own:
the reference mock (`mock.create_app` in a `ServerThread`) and a tiny upstream
(50 MB answers, a sink for 50 MB uploads, a stalling route) in one child, each
proxy (`create_proxy_app` served by `run_until_signalled`) in another. The
client side is this process, with keep-alive `http.client` connections.

1. Added latency: valid creates sent one at a time, alternating direct to the
   mock and through the proxy; median and p99 of each and of the difference
   (goal: at most 2 ms added at the median). Three proxies: one whose judge only
   counts (the forwarding alone), one running the registry's checks in its
   worker thread (as a plain `on_exchange` would), one running them in a
   `JudgeProcess` (a child process, off the proxy's GIL).
2. 32 concurrent clients (through the JudgeProcess proxy), each on its own
   connection, each create named after its client and sequence number: every
   answer must carry its own request's name (nothing lost, nothing crossed), and
   the judge must have been handed every exchange.
3. 50 MB answered and 50 MB uploaded through the proxy: the proxy process's RSS
   sampled every 5 ms; growth must not follow the body size.
4. Target down: 502 with a JSON body, at once. Target stalling: 504 with a JSON
   body when the proxy's read timeout (2 s here) runs out.

Prints the figures and writes them to reports/benchmark/proxy.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from http.client import HTTPConnection
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from benchmarks import machine

KEY = "proxy-bench-key-4e1f"
MB = 1024 * 1024


# -- the child processes -----------------------------------------------------------------------------------

async def tiny_upstream(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    """/big?bytes=N answers N bytes, /sink reads a body and tells its size, /slow?seconds=S stalls."""
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
    if scope["path"] == "/big":
        left, chunk = int(query["bytes"]), b"x" * (256 * 1024)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(left).encode()), (b"content-type", b"application/octet-stream")]})
        while left > 0:
            await send({"type": "http.response.body", "body": chunk[:left], "more_body": True})
            left -= len(chunk)
        await send({"type": "http.response.body", "body": b""})
        return
    if scope["path"] == "/slow":
        await asyncio.sleep(float(query.get("seconds", "10")))
    body = json.dumps({"received": size}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def serve_upstreams() -> int:
    from mock import MockSettings, ServerThread, create_app

    with ServerThread(create_app(MockSettings(frozenset({KEY})))) as mock, ServerThread(tiny_upstream) as tiny:
        print(json.dumps({"mock": mock.url, "tiny": tiny.url}), flush=True)
        sys.stdin.read()  # until the parent closes our stdin
    return 0


_CONTRACT: Any = None


def judge_with_checks(request: Any, response: Any, meta: dict[str, Any]) -> int | None:
    """The registry's checks on one exchange: the number of findings (None: no answer to judge)."""
    global _CONTRACT
    from contracts import load_contract
    from contracts.checks import judge_exchange

    if _CONTRACT is None:
        _CONTRACT = load_contract()
    return None if response is None else len(judge_exchange(_CONTRACT, request, response).findings)


def serve_proxy(target: str, read_timeout: float, judging: str) -> int:
    """judging: "none" (count only), "thread" (checks in the proxy's worker thread), "process" (in a child)."""
    from harness.proxy import JudgeProcess, create_proxy_app, run_until_signalled

    counts = {"exchanges": 0, "no_answer": 0, "findings": 0}

    def count(findings: int | None) -> None:
        counts["exchanges"] += 1
        counts["no_answer"] += findings is None
        counts["findings"] += findings or 0

    offload = JudgeProcess("benchmarks.proxy:judge_with_checks", count) if judging == "process" else None
    if judging == "thread":
        judge_with_checks(None, None, {})  # load the contract before the first request

    def judge(request: Any, response: Any, meta: dict[str, Any]) -> None:
        if offload is not None:
            offload(request, response, meta)
        else:
            count(judge_with_checks(request, response, meta) if judging == "thread" else
                  (None if response is None else 0))

    app = create_proxy_app(target, judge, read_timeout=read_timeout)

    def shutdown() -> int:
        if offload is not None:
            offload.close(60)
        print(json.dumps({**counts, "judge_errors": app.judge_errors}), flush=True)
        return 0
    return run_until_signalled(app, port=0, on_ready=lambda url: print(url, flush=True), on_shutdown=shutdown)


class Child:
    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "benchmarks.proxy", *args], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.first_line = self.process.stdout.readline().strip()
        if not self.first_line:
            raise RuntimeError(f"the child {args} did not start")

    def rss_mib(self, field: str = "VmRSS") -> float:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=30)
        return out.strip()


# -- the measurements --------------------------------------------------------------------------------------

def _connection(url: str, timeout: float = 30) -> HTTPConnection:
    split = urlsplit(url)
    connection = HTTPConnection(split.hostname, split.port, timeout=timeout)
    connection.connect()
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def _create(connection: HTTPConnection, path: str, body: bytes) -> tuple[int, bytes]:
    connection.request("POST", path, body=body, headers={"Authorization": f"Bearer {KEY}",
                                                        "Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure_latency(mock: str, proxy: str, path: str, payload: dict[str, Any], rounds: int) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    direct, via = _connection(mock), _connection(proxy)
    for _ in range(50):  # warm up both paths (connections, code paths, the judge's validators)
        _create(direct, path, body)
        _create(via, path, body)
    times: dict[str, list[float]] = {"direct": [], "proxy": []}
    for n in range(rounds):
        for name, connection in (("direct", direct), ("proxy", via)) if n % 2 else (("proxy", via), ("direct", direct)):
            start = time.perf_counter()
            status, _ = _create(connection, path, body)
            times[name].append((time.perf_counter() - start) * 1000)
            if status != 200:
                raise RuntimeError(f"a valid create got {status} ({name})")
    direct.close()
    via.close()
    added = [p - d for p, d in zip(times["proxy"], times["direct"])]
    return {"rounds": rounds,
            "direct_ms": {"median": round(statistics.median(times["direct"]), 3),
                          "p99": round(_percentile(times["direct"], 0.99), 3)},
            "proxy_ms": {"median": round(statistics.median(times["proxy"]), 3),
                         "p99": round(_percentile(times["proxy"], 0.99), 3)},
            "added_ms": {"median": round(statistics.median(times["proxy"]) - statistics.median(times["direct"]), 3),
                         "p99": round(_percentile(times["proxy"], 0.99) - _percentile(times["direct"], 0.99), 3),
                         "median_of_pairs": round(statistics.median(added), 3)},
            "requests": 2 * (rounds + 50)}


def measure_concurrency(proxy: str, path: str, payload: dict[str, Any], clients: int, each: int) -> dict[str, Any]:
    def one_client(n: int) -> dict[str, Any]:
        connection = _connection(proxy)
        wrong: list[str] = []
        latencies = []
        for i in range(each):
            name = f"client-{n}-request-{i}"
            start = time.perf_counter()
            status, answer = _create(connection, path, json.dumps({**payload, "name": name}).encode())
            latencies.append((time.perf_counter() - start) * 1000)
            got = json.loads(answer).get("name") if status == 200 else f"status {status}"
            if got != name:
                wrong.append(f"{name} got {got}")
        connection.close()
        return {"wrong": wrong, "latencies": latencies}

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one_client, range(clients)))
    seconds = time.perf_counter() - start
    latencies = [x for r in results for x in r["latencies"]]
    wrong = [w for r in results for w in r["wrong"]]
    return {"clients": clients, "requests": clients * each, "answered_right": clients * each - len(wrong),
            "wrong": wrong[:10], "seconds": round(seconds, 2), "per_second": round(clients * each / seconds),
            "p50_ms": round(statistics.median(latencies), 2), "p99_ms": round(_percentile(latencies, 0.99), 2)}


class _Sampler:
    """Polls a process's RSS every 5 ms while a transfer runs."""

    def __init__(self, child: Child) -> None:
        self.child, self.peak, self._stop = child, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.child.rss_mib())
            time.sleep(0.005)

    def __enter__(self) -> "_Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def measure_big_bodies(child: Child, proxy: str, size: int) -> dict[str, Any]:
    # Warm up: the first requests load code paths and allocate the pools; not what a body costs.
    connection = _connection(proxy, timeout=60)
    for _ in range(3):
        connection.request("GET", f"/big?bytes={MB}")
        connection.getresponse().read()
    baseline = child.rss_mib()
    out: dict[str, Any] = {"bytes": size, "proxy_rss_before_mib": round(baseline, 1)}
    with _Sampler(child) as sampler:
        start = time.perf_counter()
        connection.request("GET", f"/big?bytes={size}")
        response = connection.getresponse()
        got = 0
        while chunk := response.read(MB):
            got += len(chunk)
        seconds = time.perf_counter() - start
    out["download"] = {"status": response.status, "received": got, "seconds": round(seconds, 2),
                       "mib_per_s": round(got / MB / seconds), "proxy_rss_peak_mib": round(sampler.peak, 1),
                       "proxy_rss_growth_mib": round(sampler.peak - baseline, 1)}
    baseline = child.rss_mib()
    with _Sampler(child) as sampler:
        start = time.perf_counter()
        piece = b"y" * MB
        connection.putrequest("POST", "/sink")
        connection.putheader("Content-Type", "application/octet-stream")
        connection.putheader("Content-Length", str(size))
        connection.endheaders()
        for _ in range(size // MB):
            connection.send(piece)
        answer = connection.getresponse()
        received = json.loads(answer.read())["received"]
        seconds = time.perf_counter() - start
    out["upload"] = {"status": answer.status, "target_received": received, "seconds": round(seconds, 2),
                     "mib_per_s": round(size / MB / seconds), "proxy_rss_peak_mib": round(sampler.peak, 1),
                     "proxy_rss_growth_mib": round(sampler.peak - baseline, 1)}
    out["proxy_rss_after_mib"] = round(child.rss_mib(), 1)
    connection.close()
    return out


def measure_failure(proxy: str, path: str, expect: int) -> dict[str, Any]:
    connection = _connection(proxy, timeout=60)
    start = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    seconds = time.perf_counter() - start
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        error = None
    return {"status": response.status, "expected": expect, "seconds": round(seconds, 3),
            "json_error_body": isinstance(error, dict), "code": error.get("code") if isinstance(error, dict) else None}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(rounds: int, clients: int, each: int, big: int) -> dict[str, Any]:
    from contracts import load_contract
    from strategies import minimal_payload

    contract = load_contract()
    payload = minimal_payload(contract.request_schema, spaceId=str(uuid.uuid4()))
    upstreams = Child("--serve-upstreams")
    urls = json.loads(upstreams.first_line)
    report: dict[str, Any] = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                              "machine": machine()}
    try:
        for judging in ("none", "thread"):
            proxy = Child("--serve-proxy", urls["mock"], "--judging", judging)
            try:
                report[f"latency_judging_{judging}"] = measure_latency(urls["mock"], proxy.first_line, contract.path,
                                                                       payload, rounds)
            finally:
                proxy.stop()
        proxy = Child("--serve-proxy", urls["mock"], "--judging", "process")
        try:
            report["latency_judging_process"] = measure_latency(
                urls["mock"], proxy.first_line, contract.path, payload, rounds)
            report["concurrency"] = measure_concurrency(proxy.first_line, contract.path, payload, clients, each)
        finally:
            judged = json.loads(proxy.stop().splitlines()[-1])
        sent = report["latency_judging_process"]["requests"] // 2 + report["concurrency"]["requests"]
        report["concurrency"]["judged"] = judged  # by the JudgeProcess
        report["concurrency"]["handed_to_judge"] = judged["exchanges"]
        report["concurrency"]["sent_through_proxy"] = sent

        proxy = Child("--serve-proxy", urls["tiny"], "--read-timeout", "2", "--judging", "none")
        try:
            report["big_bodies"] = measure_big_bodies(proxy, proxy.first_line, big)
            report["target_slow"] = measure_failure(proxy.first_line, "/slow?seconds=10", 504)
        finally:
            proxy.stop()
        proxy = Child("--serve-proxy", f"http://127.0.0.1:{_free_port()}", "--judging", "none")
        try:
            report["target_down"] = measure_failure(proxy.first_line, contract.path, 502)
        finally:
            proxy.stop()
    finally:
        assert upstreams.process.stdin is not None
        upstreams.process.stdin.close()
        upstreams.process.wait(10)
    return report


def summary(report: dict[str, Any]) -> list[str]:
    con, big = report["concurrency"], report["big_bodies"]
    lines = []
    for key, what in (("latency_judging_none", "forwarding only, the judge counts"),
                      ("latency_judging_thread", "the registry's checks in the proxy's worker thread"),
                      ("latency_judging_process", "the registry's checks in a JudgeProcess")):
        lat = report[key]
        lines.append(
            f"latency, {what} ({lat['rounds']} sequential valid creates each way, keep-alive): direct median "
            f"{lat['direct_ms']['median']} ms, p99 {lat['direct_ms']['p99']} ms; through the proxy median "
            f"{lat['proxy_ms']['median']} ms, p99 {lat['proxy_ms']['p99']} ms; added median "
            f"{lat['added_ms']['median']} ms (goal <= 2 ms: {'met' if lat['added_ms']['median'] <= 2 else 'NOT met'}), "
            f"added p99 {lat['added_ms']['p99']} ms")
    lines += [
        f"{con['clients']} concurrent clients x {con['requests'] // con['clients']} creates: {con['answered_right']}/"
        f"{con['requests']} answered with their own name, {con['per_second']}/s, p50 {con['p50_ms']} ms, p99 "
        f"{con['p99_ms']} ms; judge handed {con['handed_to_judge']} of {con['sent_through_proxy']} exchanges sent "
        f"through the proxy ({con['judged']['judge_errors']} judge errors, {con['judged']['findings']} findings)",
        f"{big['bytes'] // MB} MB answer: {big['download']['received'] // MB} MB received at "
        f"{big['download']['mib_per_s']} MiB/s, proxy RSS {big['proxy_rss_before_mib']} -> peak "
        f"{big['download']['proxy_rss_peak_mib']} MiB (+{big['download']['proxy_rss_growth_mib']}); "
        f"{big['bytes'] // MB} MB upload: target got {big['upload']['target_received'] // MB} MB at "
        f"{big['upload']['mib_per_s']} MiB/s, proxy RSS peak {big['upload']['proxy_rss_peak_mib']} MiB "
        f"(+{big['upload']['proxy_rss_growth_mib']})",
    ]
    for name in ("target_down", "target_slow"):
        f = report[name]
        lines.append(f"{name.replace('_', ' ')}: {f['status']} (expected {f['expected']}) in {f['seconds']} s, "
                     f"JSON error body: {f['json_error_body']} ({f['code']})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.proxy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=1000, help="sequential creates each way for latency")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--each", type=int, default=50, help="creates per concurrent client")
    parser.add_argument("--big-mb", type=int, default=50)
    parser.add_argument("--json", type=Path, default=Path("reports/benchmark/proxy.json"))
    parser.add_argument("--serve-upstreams", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-proxy", metavar="TARGET", help=argparse.SUPPRESS)
    parser.add_argument("--read-timeout", type=float, default=30.0, help=argparse.SUPPRESS)
    parser.add_argument("--judging", choices=("none", "thread", "process"), default="thread",
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_upstreams:
        return serve_upstreams()
    if args.serve_proxy:
        return serve_proxy(args.serve_proxy, args.read_timeout, args.judging)
    report = run(args.rounds, args.clients, args.each, args.big_mb * MB)
    for line in summary(report):
        print(line)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.json}")
    ok = (report["concurrency"]["answered_right"] == report["concurrency"]["requests"]
          and report["concurrency"]["handed_to_judge"] == report["concurrency"]["sent_through_proxy"]
          and report["target_down"]["status"] == 502 and report["target_slow"]["status"] == 504)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
