"""`python -m benchmarks.traffic`: how fast and how lean the HAR reader is on 10,000 exchanges.

Generates one HAR file of N entries (default 10,000, shaped like real traffic on
the operation: creates answered 200 with the mock's runtime body, 422s, 401s, a
GET answered 405, some base64 bodies, some unrecorded bodies, plus asset
entries on other paths) and the same entries split into a folder of 10 files.
Each load runs in a fresh process, so its peak RSS (ru_maxrss) is the reader's
alone; the figure after imports is printed beside it. `--judge` also runs
`pytest --traffic` on the one file, timed as a whole process. Results go to
reports/benchmark/traffic.json (`--json`; the README quotes
benchmarks/results-traffic.json).
"""
from __future__ import annotations

import argparse
import base64
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from unittest.mock import patch

from benchmarks import machine

PATH = "/v2/runtimes"
HOST = "https://staging.example.com"
STAMP = "@@recorded-at@@"  # stands for every timestamp of the answer; replaced by the entry's own time


def _rss_mib() -> float:
    """Peak RSS of this process image. Not ru_maxrss: Linux carries that over fork + exec from the parent."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def _entry(i: int, payload: dict[str, Any], runtime: dict[str, Any]) -> dict[str, Any]:
    kind = i % 20
    method, url, status = "POST", HOST + PATH, 200
    started = f"2026-12-01T10:{i // 600 % 60:02d}:{i // 10 % 60:02d}.{i % 10}00Z"
    request_body = json.dumps({**payload, "name": f"bench-{i}"})
    # Every timestamp of the answer is the moment the request was recorded: conforming traffic, so
    # the figure is the time to judge (and pass) it, not to render thousands of failures.
    response_body = json.dumps({**runtime, "id": str(uuid.UUID(int=i)), "name": f"bench-{i}"})
    response_body = response_body.replace(STAMP, started)
    headers = [{"name": "Authorization", "value": "Bearer [redacted]"},
               {"name": "Content-Type", "value": "application/json"}]
    content: dict[str, Any] = {"size": len(response_body), "mimeType": "application/json", "text": response_body}
    answer_headers = [{"name": "Content-Type", "value": "application/json"},
                      {"name": "Date", "value": "Tue, 01 Dec 2026 10:00:00 GMT"}]
    if kind in (1, 2):
        status, response_body = 422, json.dumps({"error": {"code": "validation_failed", "message": "no",
                                                           "details": [{"pointer": "/spaceId", "message": "x"}]}})
        content = {"size": len(response_body), "mimeType": "application/json", "text": response_body}
    elif kind == 3:
        status, headers = 401, headers[1:]
        content = {"size": 80, "mimeType": "application/json"}  # body not recorded
    elif kind == 4:
        method, status, request_body = "GET", 405, ""
        content = {"size": 0, "mimeType": "application/json", "text": ""}
        answer_headers.append({"name": "Allow", "value": "POST"})
    elif kind == 5:
        content = {"size": len(response_body), "mimeType": "application/json", "encoding": "base64",
                   "text": base64.b64encode(response_body.encode()).decode()}
    elif kind == 6:
        method, url, request_body = "GET", f"{HOST}/static/chunk-{i}.js", ""
        content = {"size": 4096, "mimeType": "text/javascript"}
    request: dict[str, Any] = {"method": method, "url": url, "httpVersion": "HTTP/1.1", "cookies": [],
                               "headers": headers, "queryString": [], "headersSize": -1,
                               "bodySize": len(request_body)}
    if request_body:
        request["postData"] = {"mimeType": "application/json", "text": request_body}
    return {"startedDateTime": started, "time": 8.5,
            "request": request,
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
                         "headers": answer_headers,
                         "content": content, "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 0.1, "wait": 8, "receive": 0.4}}


def generate(folder: Path, entries: int, files: int) -> tuple[Path, Path]:
    """One HAR of `entries` entries, and a folder of `files` HARs holding the same entries."""
    from contracts import load_contract
    from mock.runtime import build_runtime
    from strategies import full_payload

    contract = load_contract()
    payload = full_payload(contract.request_schema, spaceId=str(uuid.uuid4()))
    with patch("mock.runtime.now_iso", lambda: STAMP):
        runtime = build_runtime(payload)
    all_entries = [_entry(i, payload, runtime) for i in range(entries)]
    single = folder / "traffic.har"
    creator = {"name": "benchmarks.traffic", "version": "1"}
    single.write_text(json.dumps({"log": {"version": "1.2", "creator": creator, "entries": all_entries}}))
    split = folder / "split"
    split.mkdir()
    per_file = -(-entries // files)
    for n in range(files):
        chunk = all_entries[n * per_file:(n + 1) * per_file]
        (split / f"part-{n:03d}.har").write_text(json.dumps({"log": {"version": "1.2", "creator": creator,
                                                                     "entries": chunk}}))
    return single, split


def measure(path: Path, streamed: bool) -> dict[str, Any]:
    """Load `path` in this process and report time and memory (run in a fresh process).

    `streamed`: iterate with iter_traffic and keep nothing (a consumer that judges each
    exchange and drops it), instead of load_traffic holding every exchange.
    """
    from harness.traffic import RecordedExchange, iter_traffic, load_traffic

    before = _current_rss_mib()
    start = time.perf_counter()
    if streamed:
        exchanges = other = not_judged = 0
        for item in iter_traffic(path, path_template=PATH):
            if isinstance(item, RecordedExchange):
                exchanges += 1
                not_judged += not item.body_recorded
            else:
                other += 1
    else:
        traffic = load_traffic(path, method="POST", path_template=PATH)
        exchanges, other, not_judged = len(traffic.exchanges), len(traffic.other), len(traffic.not_judged())
    seconds = time.perf_counter() - start
    return {"path": path.name, "mode": "iter_traffic, nothing kept" if streamed else "load_traffic, all kept",
            "seconds": round(seconds, 3), "exchanges": exchanges, "other": other, "not_judged": not_judged,
            "rss_after_imports_mib": round(before, 1), "rss_held_after_mib": round(_current_rss_mib(), 1),
            "peak_rss_mib": round(_rss_mib(), 1)}


def judge(path: Path, reports: Path) -> dict[str, Any]:
    """`pytest --traffic=path` as a user runs it, timed as a whole process; the outcome counts from summary.json."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--traffic={path}",
                           f"--reports-dir={reports}", f"--html={reports / 'conformance.html'}",
                           f"--junitxml={reports / 'junit.xml'}"], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    summary = json.loads((reports / "summary.json").read_text())
    return {"seconds": round(seconds, 1), "exit": done.returncode, "tests": summary["tests"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.traffic", description=__doc__)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=10, help="files in the folder variant")
    parser.add_argument("--json", type=Path, default=Path("reports/benchmark/traffic.json"))
    parser.add_argument("--judge", action="store_true",
                        help="also judge the one-file HAR with `pytest --traffic` (about 75 s for 10,000 entries)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process's job
    parser.add_argument("--streamed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.streamed)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-traffic-") as tmp:
        single, split = generate(Path(tmp), args.entries, args.files)
        size_mib = single.stat().st_size / 2**20
        results = []
        for target, streamed in ((single, False), (split, False), (single, True), (split, True)):
            out = subprocess.run([sys.executable, "-m", "benchmarks.traffic", "--measure", str(target)]
                                 + ["--streamed"] * streamed, capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout))
        judged = judge(single, Path(tmp) / "reports") if args.judge else None
    report = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(),
              "entries": args.entries, "har_mib": round(size_mib, 1), "files_in_folder": args.files,
              "runs": results, "judged": judged}
    for r in results:
        label = f"{'one file' if r['path'].endswith('.har') else str(args.files) + ' files'}, {r['mode']}"
        print(f"{label}: {args.entries} entries ({size_mib:.1f} MiB of HAR) -> {r['exchanges']} exchanges, "
              f"{r['other']} other, {r['not_judged']} not judged, in {r['seconds']:.2f} s; RSS after imports "
              f"{r['rss_after_imports_mib']} MiB, peak {r['peak_rss_mib']} MiB, held after {r['rss_held_after_mib']} MiB")
    if judged is not None:
        counts = ", ".join(f"{n} {k}" for k, n in judged["tests"].items() if n)
        print(f"pytest --traffic on the one file: {counts}, exit {judged['exit']}, in {judged['seconds']} s "
              f"({judged['seconds'] * 1000 / args.entries:.1f} ms an entry, start-up included)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
