"""`torc tui --serve` in headless Chromium: the job table a browser shows is the server's.

Needs Debian's `chromium` and Playwright for Python, as the notebook's browser test does
(tests/notebook/test_browser.py says how; it is skipped, saying why, when they are missing,
and required under `make test` and CI). The console draws on a canvas, so the test reads what
it sent to the browser: the terminal stream on the page's websocket.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.console.test_console import finished, sweep
from tests.notebook.test_browser import CHROMIUM_ARGS, _missing_browser, free_port

if (_reason := _missing_browser()) is not None:
    if os.environ.get("CI") or os.environ.get("TORC_REQUIRE_BROWSER"):
        pytest.fail(f"the browser test must run here but cannot: {_reason}", pytrace=False)
    pytest.skip(_reason, allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

BIN = Path(sys.executable).parent
VIEWPORT = {"width": 1100, "height": 700}
JOBS = 80
WAIT = 90.0
DOCS = Path(__file__).parents[2] / "docs" / "guides" / "console"
#: Terminal control sequences (cursor moves, colours), dropped to leave the text drawn.
CONTROL = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\x1b\][^\x07]*\x07")


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert process.poll() is None, f"torc tui --serve exited:\n{log.read_text()}"
        time.sleep(0.1)
    raise AssertionError(f"torc tui --serve never listened:\n{log.read_text()}")


def stop_group(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            process.wait(10)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def test_served_console_shows_the_servers_first_page_of_jobs(client, server, tmp_path) -> None:
    workflow_id = finished(client, sweep(JOBS), tmp_path)
    order = [j.name for j in client.list_jobs(workflow_id)]
    port, log = free_port(), tmp_path / "serve.log"
    env = {**os.environ, "TORC_API_URL": server.url, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    with open(log, "wb") as out:
        process = subprocess.Popen([str(BIN / "torc"), "tui", str(workflow_id), "--serve", "--port", str(port),
                                    "--output-dir", str(tmp_path / "output")], cwd=tmp_path, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        wait_for_port(port, process, log)
        drawn = browse(f"http://127.0.0.1:{port}/", tmp_path)
    finally:
        stop_group(process)
    shown = {name for name in order if re.search(rf"\b{name}\b", drawn)}
    rows = len(shown)
    # The page holds as many rows as the browser's terminal has lines for; whatever that is, they are the
    # server's first jobs in id order, and the label counts the pages from the server's total.
    assert 5 <= rows < JOBS, drawn
    assert shown == set(order[:rows]), f"drawn {sorted(shown)}, the server's first {rows}: {order[:rows]}"
    assert f"page 1 of {-(-JOBS // rows)} · {JOBS} jobs" in drawn


def browse(url: str, tmp_path: Path) -> str:
    """Open the console in Chromium until it drew the job table's label and first row; the text it drew."""
    received: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda route: route.abort())
            page.on("websocket", lambda ws: ws.on("framereceived", lambda data: received.append(
                data.decode("utf-8", "replace") if isinstance(data, bytes) else data)))  # fmt: skip
            page.goto(url)
            deadline = time.monotonic() + WAIT
            while not re.search(rf"{JOBS} jobs.*work_1\b", CONTROL.sub("\n", "".join(received)), re.S):
                assert time.monotonic() < deadline, "the browser never showed the first page of jobs"
                page.wait_for_timeout(100)
            page.wait_for_timeout(300)
            page.screenshot(path=str(tmp_path / "console-browser.png"))
            if os.environ.get("TORC_SAVE_SCREENSHOTS"):
                DOCS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(DOCS / "browser.png"))
        finally:
            browser.close()
    assert not errors, errors
    return CONTROL.sub("\n", "".join(received))
