"""Notebook 2 in JupyterLab, in headless Chromium: what a person sees matches the server.

Needs Debian's `chromium` (scripts/install-system.sh, run by `make test`) and Playwright for Python pointed at
it; Playwright's own browser download is never used. `make test` installs chromium and
requires the test to run (`TORC_REQUIRE_BROWSER=1`, as does `CI=true`): a missing browser fails
the suite. A bare `pytest` without chromium skips it, saying why.

Screenshots go to the test's temporary directory; with TORC_SAVE_SCREENSHOTS=1 they are
also copied to docs/ (docs/notebook-dashboard.png, docs/notebook-resources.png).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from torc_client import Client

ROOT = Path(__file__).parents[2]
NOTEBOOK = ROOT / "notebooks" / "02_parameter_sweep.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
BIN = str(Path(sys.executable).parent)
TIMEOUT_MS = 90_000
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]  # fmt: skip
#: Lab settings: no news toast over the screenshot; every cell kept in the DOM (no windowing).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (`make system` or scripts/install-system.sh installs it)"
    return None


if (_reason := _missing_browser()) is not None:
    if os.environ.get("CI") or os.environ.get("TORC_REQUIRE_BROWSER"):
        pytest.fail(f"the browser test must run here but cannot: {_reason}", pytrace=False)
    pytest.skip(_reason, allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=TIMEOUT_MS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab_env(base: Path, url: str) -> dict[str, str]:
    env = {**os.environ, "TORC_API_URL": url, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "JUPYTER_PLATFORM_DIRS": "1", "MPLBACKEND": "Agg"}  # fmt: skip
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR",
                "IPYTHONDIR"):  # fmt: skip
        env[var] = str(base / var.lower())
        os.makedirs(env[var])
    for name, value in LAB_SETTINGS.items():
        path = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    return env


@pytest.fixture()
def lab(server, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """JupyterLab on loopback, every state directory under tmp_path, its kernels pointed at the test server."""
    root = tmp_path / "root"
    root.mkdir()
    port, token = free_port(), secrets.token_hex(16)
    with open(tmp_path / "lab.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
             "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            env=lab_env(tmp_path, server.url), cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_lab(url, token, process, tmp_path / "lab.log")
        yield url, token, root
    finally:
        _stop_group(process)


def _wait_for_lab(url: str, token: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                return
        except OSError:
            assert process.poll() is None, f"jupyter lab exited:\n{log.read_text()}"
            time.sleep(0.2)
    raise AssertionError(f"jupyter lab did not answer:\n{log.read_text()}")


def _stop_group(process: subprocess.Popen) -> None:
    """Stop the Lab server and its kernels (and the runners the kernels started): one process group."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
            process.wait(wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def run_all(page: Page) -> None:
    """Run > Run All Cells, as a person would."""
    expect(page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first).to_be_visible()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()


def shown_counts(page: Page) -> dict[str, int]:
    rows = page.locator(".jp-OutputArea-output .torc-counts tr[data-status]")
    return {row.get_attribute("data-status") or "": int(row.locator("td.num").inner_text()) for row in rows.all()}


def save_screenshots(page: Page, tmp_path: Path) -> list[Path]:
    shots = []
    for name, selector in (("notebook-dashboard.png", ".torc-overview"), ("notebook-resources.png", ".torc-sizing")):
        page.locator(f".jp-OutputArea-output {selector} >> visible=true").first.evaluate(
            "element => element.scrollIntoView({block: 'start'})")
        path = tmp_path / name
        page.screenshot(path=str(path))
        shots.append(path)
        if os.environ.get("TORC_SAVE_SCREENSHOTS") == "1":
            shutil.copy(path, ROOT / "docs" / name)
    return shots


@pytest.mark.timeout(300)
def test_sweep_notebook_in_jupyterlab_shows_the_servers_jobs_and_counts(lab, server, tmp_path: Path) -> None:
    url, token, root = lab
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)  # Lab autosaves what it opens: never the repository's copy
    page_errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda route: route.abort())
            page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?reset&token={token}")
            run_all(page)
            overview = page.locator(".jp-OutputArea-output .torc-overview").first
            expect(overview).to_have_attribute("data-state", "complete", timeout=240_000)
            expect(page.locator(".jp-OutputArea-output .torc-sizing >> visible=true").first).to_be_visible()
            expect(page.locator(".jp-InputArea-prompt", has_text="*")).to_have_count(0)
            workflow_id = int(overview.get_attribute("data-workflow-id") or "0")
            with Client(server.url) as client:
                status = client.workflow_status(workflow_id)
                first_page = client.jobs_page(workflow_id, offset=0, limit=50)
            assert shown_counts(page) == {s: n for s, n in status.job_counts.items() if n}
            rows = page.locator(".jp-OutputArea-output .torc-jobs tbody tr")
            expect(rows).to_have_count(50)
            expect(rows.locator("td.torc-name")).to_have_text([job.name for job in first_page.items])
            expect(rows.locator("td.torc-job-status")).to_have_text([job.status for job in first_page.items])
            assert status.num_jobs == 301 and status.is_complete
            shots = save_screenshots(page, tmp_path)
            # A click in the page goes to the kernel; the page read in a background thread comes back to the page.
            page.locator(".jp-OutputArea-output .widget-button", has_text="▶").first.click()
            label = page.locator(".jp-OutputArea-output", has_text="page 2 of 7 · 51–100 of 301 jobs").first
            expect(label).to_be_visible()
            expect(rows.first.locator("td.torc-name")).to_have_text("work_51")
        finally:
            browser.close()
    assert all(shot.stat().st_size > 10_000 for shot in shots)
    assert page_errors == []
