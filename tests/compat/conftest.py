"""Torc's published Python client in a virtualenv of its own, and a way to drive the test server with it."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("driver.py")
#: Made by `make torc-client` (or here, once, when it is missing): kept apart from .venv and this project.
TORC_VENV = ROOT / ".venv-torc-client"


@pytest.fixture(scope="session")
def torc_python() -> Path:
    """The interpreter of the virtualenv that holds `torc-client` 0.35.0 from PyPI (installed if missing)."""
    subprocess.run(["bash", str(ROOT / "scripts" / "torc-client-venv.sh"), str(TORC_VENV)], check=True, timeout=900)
    return TORC_VENV / "bin" / "python"


@pytest.fixture()
def drive(server: Any, torc_python: Path, tmp_path: Path) -> Callable[..., Any]:
    """Run one scenario of `driver.py` against the test server; returns what Torc's client returned."""

    def run(scenario: str, *args: str) -> Any:
        done = subprocess.run([str(torc_python), str(DRIVER), server.url, scenario, *args], capture_output=True,
                              text=True, timeout=300, cwd=tmp_path, env=torc_env(server.url))  # fmt: skip
        assert done.returncode == 0, f"scenario {scenario} failed:\n{done.stderr[-4000:]}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run


def torc_env(url: str) -> dict[str, str]:
    """The environment of a Torc user's script: this project's packages out of sight, the server's URL set."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["TORC_API_URL"] = url
    return env
