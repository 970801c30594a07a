"""Where a job's stdout and stderr go, and whether they are kept (Torc's `StdioConfig`).

A job's own `stdio` wins over the workflow's `execution_config.stdio`; without either, each
attempt writes stdout to `….o` and stderr to `….e` under `job_stdio/`. `combined` writes
both, interleaved as written, to `….log`; `no_stdout`, `no_stderr` and `none` send that
stream to /dev/null (the runner's own notes about the job then go there too). With
`delete_on_success`, an attempt's files are deleted once it completed with return code 0;
a failed attempt's are always kept.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from torc_client.contract import ClaimedJob, StdioConfig
from torc_client.core.settings import job_log_stem

MODES = ("separate", "combined", "no_stdout", "no_stderr", "none")
DEVNULL = Path(os.devnull)


def of(job: ClaimedJob, default: StdioConfig | None) -> StdioConfig:
    """The settings that apply to `job`: its own, else the workflow's, else Torc's default (`separate`)."""
    return job.stdio or default or StdioConfig()


@dataclass(frozen=True)
class Streams:
    """An attempt's stdout and stderr files (/dev/null for a discarded stream) and the settings that chose them."""

    stdout: Path
    stderr: Path
    config: StdioConfig

    @property
    def files(self) -> list[Path]:
        """The files this attempt writes (each once)."""
        return sorted({p for p in (self.stdout, self.stderr) if p != DEVNULL})

    @property
    def combined(self) -> bool:
        return self.stdout == self.stderr and self.stdout != DEVNULL


def streams(output_dir: Path, job: ClaimedJob, config: StdioConfig) -> Streams:
    """Where this attempt of `job` writes, under `config`."""
    if config.mode not in MODES:
        raise ValueError(f"job {job.id}: unknown stdio mode {config.mode!r}; valid: {', '.join(MODES)}")
    stem = job_log_stem(output_dir, job.workflow_id, job.id, job.run_id, job.attempt_id)
    if config.mode == "combined":
        return Streams(stem.with_suffix(".log"), stem.with_suffix(".log"), config)
    out = DEVNULL if config.mode in ("no_stdout", "none") else stem.with_suffix(".o")
    err = DEVNULL if config.mode in ("no_stderr", "none") else stem.with_suffix(".e")
    return Streams(out, err, config)


@contextmanager
def opened(found: Streams) -> Iterator[tuple[IO[bytes], IO[bytes] | int]]:
    """The open stdout and stderr for `Popen` (stderr is `subprocess.STDOUT` when combined)."""
    for path in found.files:
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(found.stdout, "wb") as out:
        if found.combined:
            yield out, subprocess.STDOUT
            return
        with open(found.stderr, "wb") as err:
            yield out, err


def after_success(found: Streams) -> None:
    """Delete the attempt's files if its settings say so (called only for an attempt that completed)."""
    if not found.config.delete_on_success:
        return
    for path in found.files:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
