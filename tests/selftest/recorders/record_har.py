"""Record HAR files with real recorders, in front of the reference mock (or a mutant).

The HAR is written by a real tool, not by this repository, so the fixtures carry
that tool's habits, which the HAR reader must read as they are:

- mitmproxy (`record`, the default and the one for CI): `mitmdump` runs as an
  HTTP proxy on 127.0.0.1 with `--set hardump=FILE`; SESSION goes through it and
  mitmproxy writes the file when stopped. Its habits: the wire size in
  `content.size` with `compression` as decoded minus wire, base64 for binary
  bodies, `postData.text` beside `params`, non-UTF-8 request bytes kept as lone
  surrogates (surrogateescape), `_error` on failed flows.
- Chromium (`record_with_chromium`): headless Debian Chromium driven by
  Playwright, BROWSER_SESSION as fetch() calls from a page; Playwright writes the
  HAR. Its habits: a browser's headers, `_resourceType`, status -1 with
  `_failureText` for a request that got no answer, `size: -1` and no text for an
  answer the page did not read, non-UTF-8 request bodies replaced by U+FFFD.

Both live in a venv of their own (requirements-recorders.txt beside this file:
mitmproxy pins h11 and Flask below this repo's lock). mitmdump is found at
$MITMDUMP, on PATH or in `.venv-recorder/bin/`; the Python with playwright at
$RECORDER_PYTHON or `.venv-recorder/bin/python`; Chromium at $CHROMIUM or
/usr/bin/chromium.

    python -m tests.selftest.recorders.record_har --out tests/selftest/data/har/mitmproxy-reference.har
    python -m tests.selftest.recorders.record_har --recorder chromium --out tests/selftest/data/har/chromium-reference.har
    python -m tests.selftest.recorders.record_har --mutant ignored-auth --out /tmp/ignored-auth.har

The key the server accepts is a fixed placeholder (KEY), not a secret, so the
recordings need no redaction.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
KEY = "har-fixture-key-not-a-secret"
SPACE_ID = "6f1c2a8e-4b7d-4c3e-9a51-2d8e7f0b1c94"
PATH = "/v2/runtimes"


@dataclass(frozen=True)
class Step:
    """One request of the recorded session, and what the reference mock answers to it."""

    name: str
    method: str
    path: str
    status: int  # the reference mock's answer
    headers: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    raw_body: bytes | None = None
    form: dict[str, str] | None = None
    exchange: bool = True  # an exchange of the operation (else: listed as other traffic)
    cross_origin: bool = False  # browser session only: sent from another origin (a CORS preflight first)
    read: bool = True  # browser session only: the page reads the answer's body


AUTH = {"Authorization": f"Bearer {KEY}"}
JSON = {"Content-Type": "application/json"}

SESSION: tuple[Step, ...] = (
    Step("minimal create", "POST", PATH, 200, {**AUTH, **JSON},
         json_body={"spaceId": SPACE_ID, "type": "browser"}),
    Step("create with a config and a non-ASCII name", "POST", PATH, 200, {**AUTH, **JSON},
         json_body={"spaceId": SPACE_ID, "type": "browser", "name": "récolte-ünïcode ✓",
                    "config": {"stealth": "high", "fingerprint": {"locale": "nb-NO"}}}),
    Step("schema violation", "POST", PATH, 422, {**AUTH, **JSON},
         json_body={"spaceId": "not-a-uuid", "type": "browser", "config": {"stealth": "extreme"}}),
    Step("malformed JSON", "POST", PATH, 400, {**AUTH, **JSON}, raw_body=b'{"spaceId": '),
    Step("body not UTF-8", "POST", PATH, 400, {**AUTH, **JSON}, raw_body=b'{"name": "\xff\xfe"}'),
    Step("no Authorization", "POST", PATH, 401, JSON, json_body={"spaceId": SPACE_ID, "type": "browser"}),
    Step("form body", "POST", PATH, 415, AUTH, form={"spaceId": SPACE_ID, "type": "browser & more"}),
    Step("GET on the path", "GET", PATH, 405, AUTH),
    Step("DELETE on the path", "DELETE", PATH, 405, AUTH),
    Step("CORS preflight", "OPTIONS", PATH, 405,
         {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "authorization, content-type"}, exchange=False),
    Step("another path", "GET", "/v2/health", 404, {}, exchange=False),
    Step("query string on the path", "POST", PATH + "?dryRun=true", 200, {**AUTH, **JSON},
         json_body={"spaceId": SPACE_ID, "type": "browser", "name": "with-query"}),
)


# The same session as a page's fetch() calls. A page cannot send its own CORS preflight
# (Access-Control-Request-* are forbidden headers): a cross-origin create makes Chromium send one,
# which the reference mock refuses (405), so the create itself is never sent (status 0 to the page;
# Playwright records it with status -1 and `_failureText`, and leaves the preflight out).
BROWSER_SESSION: tuple[Step, ...] = (
    *(step for step in SESSION if step.method != "OPTIONS"),
    Step("cross-origin create", "POST", PATH, 0, {**AUTH, **JSON},
         json_body={"spaceId": SPACE_ID, "type": "browser"}, cross_origin=True),
    Step("answer not read by the page", "GET", PATH, 405, AUTH, read=False),
)


def find_mitmdump() -> str | None:
    candidates = [os.environ.get("MITMDUMP"), shutil.which("mitmdump"), str(ROOT / ".venv-recorder/bin/mitmdump")]
    return next((c for c in candidates if c and Path(c).is_file() and os.access(c, os.X_OK)), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mitmdump exited at start with code {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"mitmdump did not listen on 127.0.0.1:{port} within {timeout} s")


def drive(proxy: str, server: str, steps: tuple[Step, ...] = SESSION) -> list[int]:
    """Send `steps` (default SESSION) to `server` through the HTTP proxy `proxy`; the statuses received."""
    import httpx

    statuses = []
    with httpx.Client(proxy=proxy, trust_env=False, timeout=10) as client:
        for step in steps:
            kwargs: dict[str, Any] = {"headers": step.headers}
            if step.json_body is not None:
                kwargs["content"] = json.dumps(step.json_body, ensure_ascii=False).encode()
            elif step.raw_body is not None:
                kwargs["content"] = step.raw_body
            elif step.form is not None:
                kwargs["data"] = step.form
            statuses.append(client.request(step.method, server + step.path, **kwargs).status_code)
    return statuses


def record(out: Path, app: Any = None, *, mitmdump: str | None = None, timeout: float = 30.0,
           steps: tuple[Step, ...] = SESSION, server_url: str | None = None) -> Path:
    """Serve `app` (default: the reference mock accepting KEY), drive `steps` through mitmdump, write the HAR.

    `server_url`: record in front of a server already running there instead (no app is served).
    """
    from mock import MockSettings, ServerThread, create_app

    command = mitmdump or find_mitmdump()
    if command is None:
        raise RuntimeError("mitmdump not found: set $MITMDUMP, put it on PATH, or install "
                           "tests/selftest/recorders/requirements-recorders.txt into .venv-recorder")
    reference = app is None and server_url is None
    app = app or create_app(MockSettings(frozenset({KEY})))
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    serving = ServerThread(app) if server_url is None else contextlib.nullcontext(SimpleNamespace(url=server_url))
    with serving as server, tempfile.TemporaryDirectory(prefix="mitm-conf-") as confdir:
        port = _free_port()
        # confdir keeps mitmproxy's CA files out of $HOME; no upstream TLS is involved.
        process = subprocess.Popen([command, "--listen-host", "127.0.0.1", "--listen-port", str(port),
                                    "--set", f"confdir={confdir}", "--set", f"hardump={out}",
                                    "--set", "flow_detail=0", "--set", "termlog_verbosity=warn"],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            _wait_listening(port, process, timeout)
            statuses = drive(f"http://127.0.0.1:{port}", server.url, steps)
        finally:
            process.send_signal(signal.SIGINT)  # mitmdump writes the HAR as it shuts down
            try:
                output, _ = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
    if not out.is_file():
        raise RuntimeError(f"mitmdump wrote no HAR (exit {process.returncode}): {output.decode(errors='replace')[-2000:]}")
    expected = [step.status for step in steps]
    if reference and statuses != expected:
        raise RuntimeError(f"the reference mock answered {statuses}, not {expected}")
    return out


def find_recorder_python() -> str | None:
    """A Python that has playwright: $RECORDER_PYTHON, .venv-recorder, or this one."""
    import importlib.util

    for candidate in (os.environ.get("RECORDER_PYTHON"), str(ROOT / ".venv-recorder/bin/python")):
        if candidate and Path(candidate).is_file():
            return candidate
    return sys.executable if importlib.util.find_spec("playwright") else None


def record_with_chromium(out: Path, app: Any = None, *, python: str | None = None, timeout: float = 90.0) -> Path:
    """Serve `app` (default: the reference mock), run BROWSER_SESSION as fetch() calls in headless Chromium.

    Playwright writes the HAR (`record_har_path`); Chromium is Debian's /usr/bin/chromium (or $CHROMIUM).
    """
    from mock import MockSettings, ServerThread, create_app

    python = python or find_recorder_python()
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if python is None or not Path(chromium).is_file():
        raise RuntimeError("recording with Chromium needs playwright (tests/selftest/recorders/"
                           "requirements-recorders.txt) and Debian's chromium package")
    reference = app is None
    app = app or create_app(MockSettings(frozenset({KEY})))
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    steps = [{"method": s.method, "path": s.path, "headers": s.headers, "json_body": s.json_body,
              "raw_body_hex": s.raw_body.hex() if s.raw_body is not None else None, "form": s.form,
              "cross_origin": s.cross_origin, "read": s.read} for s in BROWSER_SESSION]
    with ServerThread(app) as server, tempfile.TemporaryDirectory(prefix="chromium-har-") as tmp:
        steps_file = Path(tmp) / "steps.json"
        steps_file.write_text(json.dumps(steps))
        done = subprocess.run([python, str(Path(__file__).with_name("chromium_driver.py")),
                               "--origin", server.url, "--cross-origin", f"http://localhost:{server.port}",
                               "--steps", str(steps_file), "--har", str(out)],
                              capture_output=True, text=True, timeout=timeout, env={**os.environ, "CHROMIUM": chromium})
    if done.returncode != 0 or not out.is_file():
        raise RuntimeError(f"the Chromium recording failed (exit {done.returncode}): {done.stderr[-2000:]}")
    statuses = json.loads(done.stdout.strip().splitlines()[-1])["statuses"]
    expected = [step.status for step in BROWSER_SESSION]
    if reference and statuses != expected:
        raise RuntimeError(f"the reference mock answered {statuses}, not {expected}")
    return out


def check_recording(traffic: Any, session: tuple[Step, ...] = SESSION, *, reference: bool = True,
                    browser: bool = False) -> None:
    """Assert that `traffic` (harness.traffic.load_traffic of a recording) holds `session` as it was sent.

    `reference`: the server was the reference mock, so the statuses are known too. `browser`: the
    recording is Chromium's (BROWSER_SESSION): the page's own load is one more entry on another path,
    and Playwright keeps non-UTF-8 request bodies only lossily, so those are not recorded.
    """
    from urllib.parse import parse_qsl

    from contracts.checks.model import MISSING

    steps = [s for s in session if s.exchange]
    others = [s for s in session if not s.exchange]
    assert len(traffic.exchanges) == len(steps), [x.request.url for x in traffic.exchanges]
    for step, x in zip(steps, traffic.exchanges):
        where = f"{step.name} ({x.request.label})"
        assert x.request.method == step.method, where
        assert x.request.url.endswith(step.path), (where, x.request.url)
        sent = {k.lower(): v for k, v in step.headers.items()}
        got = {k.lower(): v for k, v in x.request.headers.items()}
        assert all(got.get(k) == v for k, v in sent.items()), (where, got)
        binary = step.raw_body is not None and not _is_utf8(step.raw_body)
        if browser and binary:
            assert not x.request_body_recorded and "lossily" in x.not_judged_reason, where
        else:
            assert x.request_body_recorded, (where, x.not_judged_reason)
            if step.json_body is not None:
                assert x.request.payload == step.json_body, where
            elif step.raw_body is not None:
                assert x.request.body == step.raw_body and x.request.payload is MISSING, where
            elif step.form is not None:
                assert dict(parse_qsl((x.request.body or b"").decode())) == step.form, where
            else:
                assert not x.request.body, where
        if step.status == 0:  # no answer reached the page
            assert x.response is None and x.error, where
            continue
        assert x.response is not None and x.error is None, where
        if reference:
            assert x.response.status == step.status, (where, x.response.status)
        if not step.read and not x.response_body_recorded:
            # Playwright keeps no body the page did not read (mostly: on a busy machine the body may
            # have arrived before the page moved on, and is then recorded and judged as usual).
            assert x.response.truncated, where
            continue
        assert x.response_body_recorded, (where, x.not_judged_reason)
        assert x.response.json is not MISSING, (where, x.response.body[:200])  # every answer is JSON
        if reference and step.status == 200 and "name" in step.json_body:
            assert x.response.json["name"] == step.json_body["name"], where  # the mock echoes the name
    expected = [("GET", "/", "another path")] if browser else []
    expected += [(s.method, s.path, "CORS preflight" if s.method == "OPTIONS" else "another path") for s in others]
    got_other = [(o.method, o.url, o.reason) for o in traffic.other]
    assert len(got_other) == len(expected), got_other
    for (method, path, reason), (o_method, o_url, o_reason) in zip(expected, got_other):
        assert (o_method, o_reason) == (method, reason) and o_url.endswith(path), (o_method, o_url, o_reason)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.selftest.recorders.record_har", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="the HAR file to write")
    parser.add_argument("--mutant", help="record against this selftest mutant instead of the reference mock")
    parser.add_argument("--recorder", choices=("mitmproxy", "chromium"), default="mitmproxy",
                        help="mitmproxy's hardump (default), or Playwright's HAR of headless Chromium")
    parser.add_argument("--mitmdump", help="the mitmdump command (default: $MITMDUMP, PATH, .venv-recorder)")
    args = parser.parse_args(argv)
    app = None
    if args.mutant:
        from tests.selftest.mutants import build_app
        app = build_app(args.mutant, KEY)
    start = time.monotonic()
    if args.recorder == "chromium":
        out = record_with_chromium(args.out, app)
    else:
        out = record(args.out, app, mitmdump=args.mitmdump)
    log = json.loads(out.read_text())["log"]
    print(f"{out}: {len(log['entries'])} entries recorded by {log['creator']['name']} {log['creator']['version']} "
          f"in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
