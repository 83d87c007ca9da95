"""`python -m benchmarks.load`: N creates at C concurrent clients against the reference mock.

The mock runs in this process (so its store can be counted afterwards); the
load runs in a separate process (spawned, so it does not share the GIL with
the server): C asyncio tasks, each with its own keep-alive HTTP/1.1
connection on 127.0.0.1, sending one valid create after another until N are
sent. Nothing is retried: any non-200 or transport error counts as an error.

Verdict: 0 errors, store count == creates sent (nothing lost), 0 duplicate ids,
and the store holds exactly the ids the clients were given. Prints throughput
and p50/p99 latency; `--json PATH` writes the figures too.

This module imports only the standard library at the top: the spawned load
process imports it again and must start fast.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

API_KEY = "load-key-5d1c0b7e"
MAX_SECONDS = 300.0  # a load run that takes longer than this is stopped, not waited for


@dataclass(frozen=True)
class LoadResult:
    creates: int
    concurrency: int
    seconds: float
    ok: int
    errors: int
    error_samples: list[str]
    stored: int
    lost: int  # 200s the store does not hold
    duplicate_ids: int
    unknown_stored: int  # ids in the store no client was given
    throughput: float  # creates per second
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def clean(self) -> bool:
        return (self.errors == 0 and self.lost == 0 and self.duplicate_ids == 0 and self.unknown_stored == 0
                and self.ok == self.creates == self.stored)

    def summary(self) -> str:
        return (f"{self.creates} creates at {self.concurrency} clients in {self.seconds:.2f} s: "
                f"{self.throughput:.0f}/s, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, "
                f"max {self.max_ms:.1f} ms; "
                f"200s {self.ok}, errors {self.errors}, stored {self.stored}, lost {self.lost}, "
                f"duplicate ids {self.duplicate_ids}, unknown stored {self.unknown_stored}")


def _request(host: str, port: int, path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {API_KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length)


async def _drive(host: str, port: int, path: str, payload: dict[str, Any], total: int,
                 concurrency: int) -> tuple[list[float], list[str], list[str]]:
    latencies: list[float] = []
    ids: list[str] = []
    errors: list[str] = []
    next_index = iter(range(total))

    async def client(number: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for index in next_index:
                body = json.dumps({**payload, "name": f"load-{number}-{index}"}).encode()
                started = time.perf_counter()
                try:
                    writer.write(_request(host, port, path, body))
                    await writer.drain()
                    status, answer = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    errors.append(f"request {index}: {type(exc).__name__}: {exc}"[:200])
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(f"request {index}: HTTP {status} {answer[:120]!r}")
                    continue
                ids.append(json.loads(answer)["id"])
        finally:
            writer.close()

    await asyncio.wait_for(asyncio.gather(*(client(n) for n in range(concurrency))), MAX_SECONDS)
    return latencies, ids, errors


def _load_process(url: str, path: str, payload: dict[str, Any], total: int, concurrency: int,
                  out: Any) -> None:
    host, port = url.removeprefix("http://").split(":")
    started = time.perf_counter()
    latencies, ids, errors = asyncio.run(_drive(host, int(port), path, payload, total, concurrency))
    out.send({"seconds": time.perf_counter() - started, "latencies": latencies, "ids": ids, "errors": errors})
    out.close()


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def run(total: int = 10_000, concurrency: int = 32, *, tamper: Callable[[Any], None] | None = None) -> LoadResult:
    """Start the mock here, drive `total` creates from a spawned process, then count the store.

    `tamper(app)` may break the app before the run (the selftest proves the verdict can fail).
    """
    from contracts import load_contract
    from mock import MockSettings, ServerThread, create_app
    from strategies import minimal_payload

    contract = load_contract()
    app = create_app(MockSettings(frozenset({API_KEY})), contract)
    if tamper is not None:
        tamper(app)
    payload = minimal_payload(contract.request_schema, spaceId=str(uuid.uuid4()))
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    with ServerThread(app) as server:
        process = context.Process(target=_load_process, name="load",
                                  args=(server.url, contract.path, payload, total, concurrency, send))
        process.start()
        send.close()
        if not receive.poll(MAX_SECONDS + 30):
            process.kill()
            raise RuntimeError(f"the load process did not finish within {MAX_SECONDS:g} s")
        data = receive.recv()
        process.join(10)
        stored_ids = set(app.state.store.ids())
    ids, latencies, errors = data["ids"], data["latencies"], data["errors"]
    unique = set(ids)
    ms = [s * 1000 for s in latencies]
    return LoadResult(
        creates=total, concurrency=concurrency, seconds=round(data["seconds"], 3), ok=len(ids), errors=len(errors),
        error_samples=errors[:5], stored=len(stored_ids), lost=len(unique - stored_ids),
        duplicate_ids=len(ids) - len(unique), unknown_stored=len(stored_ids - unique),
        throughput=round(total / data["seconds"], 1), p50_ms=round(_percentile(ms, 0.50), 2),
        p99_ms=round(_percentile(ms, 0.99), 2), max_ms=round(max(ms, default=0.0), 2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--creates", type=int, default=10_000, help="how many creates (default 10000)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.creates < 1 or not 1 <= args.concurrency <= 256:
        parser.error("--creates must be >= 1 and --concurrency between 1 and 256")
    result = run(args.creates, args.concurrency)
    print(result.summary())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {**asdict(result), "clean": result.clean,
                   "latency": "client side, per request, keep-alive connections"}
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if result.clean else 1


if __name__ == "__main__":
    sys.exit(main())
