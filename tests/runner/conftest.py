"""Helpers for tests that run real runner processes (`torc run`)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import BIN


class RunnerProcess:
    """A `torc run` process started in the background."""

    def __init__(self, url: str, cwd: Path, workflow_id: int, *args: str) -> None:
        env = {**os.environ, "TORC_API_URL": url, "PATH": f"{BIN}:{os.environ['PATH']}"}
        self.log = cwd / f"runner-{time.monotonic_ns()}.log"
        with open(self.log, "wb") as out:
            self.popen = subprocess.Popen([str(BIN / "torc"), "run", str(workflow_id), "--poll-interval", "0.2", *args],
                                          cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip

    def wait(self, timeout: float = 120) -> int:
        return self.popen.wait(timeout)

    def signal(self, sig: int) -> None:
        self.popen.send_signal(sig)

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture()
def start_runner(tmp_path: Path):
    started: list[RunnerProcess] = []

    def start(url: str, workflow_id: int, *args: str) -> RunnerProcess:
        runner = RunnerProcess(url, tmp_path, workflow_id, *args)
        started.append(runner)
        return runner

    yield start
    for runner in started:
        if runner.popen.poll() is None:
            runner.kill()


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.1, what: str = "the condition"):
    """Poll `predicate` until it returns something truthy (and return that); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
