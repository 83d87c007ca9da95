"""The HTML report in a real browser: the verdict is on the first screen, at desktop and phone widths.

Headless Chromium (Debian's `chromium`; .ci/run installs it) opens two
reports written by real suite runs: a passing one (the reference mock, the
deterministic modules) and a failing one (the whole suite against the server
that answers `stealth: "extreme"` for "ultra", shared with
test_reporting_defects.py). For each it takes screenshots at 1400x900 and
400x900 and finds the verdict banner's colour in them, whole, within the first
900 pixels; it reads the DOM after pytest-html's script ran (`--dump-dom`) for
the banner's text and order; and it measures the laid-out page (a copy of the
report with a one-line probe script) against the height it had before the
report led with distinct defects. Without Chromium the test is skipped, except
under CI (`CI` set), where it fails: a browser check that never runs is no check.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from tests.selftest.mutants.catalog import serve
from tests.selftest.shared import once
from tests.selftest.suite_runner import SuiteRun, run_suite
from tests.selftest.test_reporting_defects import ultra_run

pytestmark = pytest.mark.suite_run

KEY = "browser-selftest-key-93be1f"
PASSING_MODULES = tuple(f"tests/conformance/{name}.py" for name in
                        ("test_create_basics", "test_covering_set", "test_auth"))
SCREENS = {"desktop": (1400, 900), "narrow": (400, 900)}
BANNER = {"bad": (0xC6, 0x28, 0x28), "ok": (0x2E, 0x7D, 0x32)}  # html.py's .banner.bad / .banner.ok
# The ultra server's report before it led with distinct defects (pytest-html 4.2.0, whole suite, 1400 px wide):
# 35,323 px tall, the verdict 434 px down below pytest-html's environment box; 16,600 elements.
HEIGHT_BEFORE = 35323
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync")
# Written into a copy of the page: what the browser laid out once pytest-html's own script has run, posted to
# the page around it (an iframe as wide as the screen: `--dump-dom` lays a window out at least 500 px wide).
PROBE = """<script>window.addEventListener('load', function () { setTimeout(function () {
  function box(el) { if (!el) return null; var r = el.getBoundingClientRect();
    return [Math.round(r.top + window.scrollY), Math.round(r.bottom + window.scrollY)]; }
  var shown = 0, rows = document.querySelectorAll('#results-table tbody.passed');
  for (var i = 0; i < rows.length; i++) if (rows[i].offsetParent !== null) shown++;
  parent.postMessage(JSON.stringify({height: document.documentElement.scrollHeight,
    width: document.documentElement.scrollWidth, viewport: window.innerWidth,
    elements: document.getElementsByTagName('*').length,
    banner: box(document.getElementById('conformance-verdict')), defect: box(document.getElementById('defect-D1')),
    environment: box(document.getElementById('environment')), results: box(document.getElementById('results-table')),
    section: box(document.getElementById('conformance')), passed_rows: rows.length, passed_rows_shown: shown}), '*');
}, 200); });</script>"""
FRAME = """<!DOCTYPE html><html><body style="margin:0">
<iframe src="{page}" style="border:0;width:{width}px;height:{height}px"></iframe>
<script>window.addEventListener('message', function (e) {{ var out = document.createElement('pre');
out.id = 'browser-probe'; out.textContent = e.data; document.body.appendChild(out); }});</script></body></html>"""


def chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("headless Chromium is not installed: CI must run the browser selftest (.ci/run installs "
                    "Debian's chromium as root; install it with `apt-get install chromium`)")
    pytest.skip("headless Chromium not installed (Debian: apt-get install chromium); CI runs this test")


def browse(browser: str, page: Path, *args: str, width: int = 1400, height: int = 900) -> str:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                               *args, page.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_rows(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit, non-interlaced PNG (what Chromium writes): enough to find a colour."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        if kind == b"IHDR":
            header = data[pos + 8:pos + 8 + length]
        elif kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
    step = 3 if colour == 2 else 4
    stride, raw = width * step, zlib.decompress(idat)
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(step, stride):
                line[i] = (line[i] + line[i - step]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - step] if i >= step else 0) + previous[i]) // 2) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a, b, c = (line[i - step] if i >= step else 0), previous[i], (previous[i - step] if i >= step else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        previous = line
        rows.append(bytes(line) if step == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3))
    return width, height, rows


def banner_rows(rows: list[bytes], width: int, colour: tuple[int, int, int]) -> list[int]:
    """The first block of rows mostly of the banner's colour (text rows inside it may fall short: gaps allowed)."""
    pixel = bytes(colour)
    found = [y for y, row in enumerate(rows) if row.count(pixel) >= width // 2]
    block = found[:1]
    for y in found[1:]:
        if y - block[-1] > 24:
            break  # past the banner (green chips further down are not it)
        block.append(y)
    return block


def _passing_run(base: Path) -> SuiteRun:
    with serve("reference", KEY) as server:
        return run_suite(server.url, KEY, base / "passing", *PASSING_MODULES)


@pytest.fixture(scope="module")
def browser() -> str:
    return chromium()  # before the suite runs: a missing browser fails (CI) or skips at once


@pytest.fixture(scope="module")
def reports(browser: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, SuiteRun]:
    with ThreadPoolExecutor(2) as pool:
        failing = pool.submit(ultra_run, tmp_path_factory)
        passing = pool.submit(once, tmp_path_factory, "browser-passing-run", _passing_run)
        return {"passing": passing.result(), "failing": failing.result()}


@pytest.fixture(scope="module")
def seen(browser: str, reports: dict[str, SuiteRun], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every screenshot, dump and probe, taken once (two at a time), into a folder of this module's own."""
    jobs: dict[str, Any] = {}
    with ThreadPoolExecutor(2) as pool:
        for name, run in reports.items():
            page, folder = run.reports / "conformance.html", tmp_path_factory.mktemp(f"browser-{name}")
            probed = folder / "conformance-probed.html"
            probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
            for screen, (width, height) in SCREENS.items():
                shot = folder / f"screen-{screen}.png"
                jobs[f"{name}-shot-{screen}"] = (shot, pool.submit(browse, browser, page, f"--screenshot={shot}",
                                                                    width=width, height=height))
                frame = folder / f"frame-{screen}.html"
                frame.write_text(FRAME.format(page=probed.name, width=width, height=height), encoding="utf-8")
                jobs[f"{name}-probe-{screen}"] = pool.submit(browse, browser, frame, "--virtual-time-budget=8000",
                                                             "--dump-dom")
            jobs[f"{name}-dom"] = pool.submit(browse, browser, page, "--dump-dom")
        out: dict[str, Any] = {}
        for key, job in jobs.items():
            if "-shot-" in key:
                shot, done = job
                done.result()
                out[key] = shot
                continue
            value = job.result()
            if "-probe-" in key:
                found = re.search(r'<pre id="browser-probe">(.*?)</pre>', value, re.DOTALL)
                assert found, f"the probe did not run: {value[-500:]}"
                value = json.loads(unescape(found.group(1)))
            out[key] = value
    return out


@pytest.mark.parametrize("name", ["passing", "failing"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_whole_verdict_banner_is_on_the_first_screen(seen: dict[str, Any], name: str, screen: str) -> None:
    width, height, rows = png_rows(seen[f"{name}-shot-{screen}"].read_bytes())
    assert (width, height) == SCREENS[screen]
    colour = BANNER["ok" if name == "passing" else "bad"]
    found = banner_rows(rows, width, colour)
    assert len(found) >= 6, f"no {'green' if name == 'passing' else 'red'} banner in the first {height} px"
    top, bottom = found[0], found[-1]
    assert bottom - top >= 30 and bottom < height - 20, f"the banner (rows {top}-{bottom}) is cut off"
    assert top < 320, f"the banner starts {top} px down"
    probe = seen[f"{name}-probe-{screen}"]
    assert probe["viewport"] == width and probe["banner"][1] < height, probe
    assert probe["width"] <= width, f"the page is {probe['width']} px wide in a {width} px window"


@pytest.mark.parametrize("name, words", [("passing", "CONFORMS: no contract violation in "),
                                         ("failing", "NOT CONFORMING: 1 distinct defect in ")])
def test_the_banner_says_the_verdict_and_comes_before_pytest_html_s_tables(seen: dict[str, Any], name: str,
                                                                          words: str) -> None:
    dom = seen[f"{name}-dom"]
    banner = re.search(r'<div class="banner [a-z]+" id="conformance-verdict"[^>]*>(.*?)</div><div class="sub">', dom)
    assert banner and words in unescape(re.sub(r"<[^>]+>", " ", banner.group(1))), dom[:2000]
    at, table = dom.index('id="conformance-verdict"'), dom.index('id="results-table"')
    assert at < table, "the banner precedes pytest-html's test table in the document"
    assert dom.count('class="results-table-row', table) >= 3, "pytest-html's script rendered the test rows"
    assert 'id="coverage-matrix"' in dom and 'id="conformance-checks"' in dom
    probe = seen[f"{name}-probe-desktop"]
    for table in ("environment", "results"):
        assert probe["banner"][0] < probe[table][0], f"pytest-html's {table} box is laid out above the verdict"
    assert probe["passed_rows"] > 0 and probe["passed_rows_shown"] == 0, "passed rows collapse by default"


def test_the_failing_page_is_a_fraction_of_its_old_height(seen: dict[str, Any]) -> None:
    probe = seen["failing-probe-desktop"]
    assert probe["defect"][0] < SCREENS["desktop"][1], "the first defect starts on the first screen"
    assert probe["height"] < 0.4 * HEIGHT_BEFORE, f"{probe['height']} px tall, was {HEIGHT_BEFORE}"
    assert seen["passing-probe-desktop"]["height"] < 4000, seen["passing-probe-desktop"]
