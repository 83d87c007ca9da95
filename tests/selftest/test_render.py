"""The curl reproduction replays the exact Authorization header, with the key from the environment."""
from __future__ import annotations

import subprocess

import pytest

from contracts.checks.model import SentRequest
from harness.recording import text as render

KEY = "render-K3Y-4f2a9c"


@pytest.mark.parametrize("header", [f"Bearer {KEY}", KEY, f"Token  {KEY}", f'Bearer "x$y`z\\ {KEY}', f"Bearer {KEY}tail"],
                         ids=["bearer", "bare-key", "token-two-spaces", "shell-characters", "key-then-letters"])
def test_curl_line_replays_the_header_without_the_key(header: str) -> None:
    line = render.curl(SentRequest("POST", "http://127.0.0.1:1/v2/runtimes", {"Authorization": header}, b"{}", {}), KEY)
    assert KEY not in line
    argument = line.split(" -H ", 1)[1].split(" --data-raw ", 1)[0]
    replayed = subprocess.run(["bash", "-c", f"printf '%s' {argument}"], env={"BCTRL_API_KEY": KEY},
                              capture_output=True, text=True, check=True).stdout
    assert replayed == f"Authorization: {header}"
