"""Drive headless Chromium through a session of fetch() calls; Playwright writes the HAR.

Runs in the recorder venv (it imports only playwright and the standard library):

    python chromium_driver.py --origin URL --cross-origin URL --steps steps.json --har out.har

The page is opened on `--origin` (the server's own 404 page is enough for an
origin), and each step is a fetch() from it, so the requests carry a browser's
headers (Origin, Sec-Fetch-*, User-Agent). A step with `"cross_origin": true`
goes to `--cross-origin` (the same server under another host name), so Chromium
sends a CORS preflight first. A step with `"read": false` does not read its
answer's body, as a page that only looks at the status would not, and Playwright
then records no body for it. Prints the statuses (0 for a failed fetch) as JSON.
Chromium is Debian's (`/usr/bin/chromium`), or $CHROMIUM: `playwright install`
would download a browser build of its own.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

SCRIPT = """async ({steps, crossOrigin}) => {
  const statuses = [];
  for (const step of steps) {
    const init = {method: step.method, headers: step.headers};
    if (step.json_body !== null) init.body = JSON.stringify(step.json_body);
    else if (step.raw_body_hex !== null) init.body = new Uint8Array(step.raw_body_hex.match(/../g).map(h => parseInt(h, 16)));
    else if (step.form !== null) init.body = new URLSearchParams(step.form);
    const url = (step.cross_origin ? crossOrigin : '') + step.path;
    try {
      const response = await fetch(url, init);
      if (step.read) await response.arrayBuffer();
      statuses.push(response.status);
    } catch (error) {
      statuses.push(0);
    }
  }
  return statuses;
}"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--origin", required=True)
    parser.add_argument("--cross-origin", required=True)
    parser.add_argument("--steps", type=Path, required=True)
    parser.add_argument("--har", type=Path, required=True)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    steps = json.loads(args.steps.read_text())
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context(record_har_path=str(args.har), record_har_content="embed")
            page = context.new_page()
            page.goto(args.origin + "/")
            statuses = page.evaluate(SCRIPT, {"steps": steps, "crossOrigin": args.cross_origin})
            context.close()  # writes the HAR
            version = browser.version
        finally:
            browser.close()
    print(json.dumps({"statuses": statuses, "browser": version}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
