"""Starting a local runner from a face: `torc run ID` in a child process, via the builder's helper."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torc_client.client import Client
from torc_client.operations.builder import run_workflow


def log_path(output_dir: Path, workflow_id: int) -> Path:
    """Where a runner started from a face writes its own messages."""
    return Path(output_dir) / f"runner_wf{workflow_id}.log"


def start_runner(client: Client, workflow_id: int, output_dir: Path, options: Mapping[str, Any]) -> subprocess.Popen:
    """Start `torc run` in the background; jobs' stdout and stderr go under `output_dir`."""
    output_dir.mkdir(parents=True, exist_ok=True)
    process = run_workflow(client, workflow_id, wait=False, log=log_path(output_dir, workflow_id),
                           output_dir=str(output_dir), **options)  # fmt: skip
    assert isinstance(process, subprocess.Popen)
    return process


def describe(process: subprocess.Popen | None) -> str | None:
    """`running (pid 123)`, `exited with code 1`, or None without a runner."""
    if process is None:
        return None
    code = process.poll()
    return f"running (pid {process.pid})" if code is None else f"exited with code {code}"
