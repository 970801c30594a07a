"""A real Slurm for these tests: `scripts/slurm.sh start` (idempotent) must bring its nodes up.

`make test` and `.ci/run` start it before the suite; the fixture starts it again (a no-op when
it is up) so that running this directory alone works too. There is no skip: a machine
without Slurm fails here, saying what to run.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runner.conftest import wait_until

SCRIPT = Path(__file__).parents[2] / "scripts" / "slurm.sh"


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[None]:
    started = subprocess.run(["bash", str(SCRIPT), "start"], capture_output=True, text=True, timeout=600)
    assert started.returncode == 0, f"could not start Slurm with `{SCRIPT} start`:\n{started.stdout}{started.stderr}"
    yield
    # An allocation a test left behind would hold its nodes (and retry a server that is gone) for minutes.
    leftover = _torc_jobs()
    if leftover:
        subprocess.run(["scancel", "--quiet", *leftover], check=False)


def _torc_jobs() -> list[str]:
    """The ids of the allocations Torc submitted (job names `torc_...`) that Slurm still has."""
    listed = subprocess.run(["squeue", "-h", "-o", "%i %j"], capture_output=True, text=True, check=False).stdout
    return [fields[0] for fields in map(str.split, listed.splitlines()) if len(fields) == 2 and
            fields[1].startswith("torc_")]  # fmt: skip


def squeue(job_ids: list[str] | list[int]) -> list[str]:
    """Those of `job_ids` that Slurm still has queued or running."""
    out = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True, check=True).stdout.split()
    return [str(job) for job in job_ids if str(job) in out]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.5):
    """`wait_until` at a pace that suits Slurm, saying what was awaited."""
    return wait_until(predicate, timeout, interval, what)
