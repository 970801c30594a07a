"""A real Slurm for these tests: `scripts/slurm.sh start` (idempotent) must bring its nodes up.

`make test` and `.ci/run` start it before the suite; the fixture starts it again (a no-op when
it is up) so that running this directory alone works too. There is no skip: a machine
without Slurm fails here, saying what to run.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "slurm.sh"


@pytest.fixture(scope="session")
def slurm_cluster() -> None:
    started = subprocess.run(["bash", str(SCRIPT), "start"], capture_output=True, text=True, timeout=600)
    assert started.returncode == 0, f"could not start Slurm with `{SCRIPT} start`:\n{started.stdout}{started.stderr}"


def squeue(job_ids: list[str]) -> list[str]:
    """Those of `job_ids` that Slurm still has queued or running."""
    out = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True, check=True).stdout.split()
    return [job for job in job_ids if job in out]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
