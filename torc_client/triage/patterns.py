"""What a log line says went wrong: the known causes, as ordered pattern tables (pure, no I/O).

Two tables: one for jobs' own stdout and stderr (`JOB_CAUSES`), one for Slurm's logs of an
allocation (`SLURM_CAUSES`: out of memory, time limit, node failure, CUDA, srun and
slurmstepd errors). Order is priority: a line (or a job's logs) is given the first cause
whose pattern matches, so a specific cause ("CUDA error") wins over a generic one
("error"). The names follow Torc's `logs analyze` and `slurm parse-logs` where it has them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    """A kind of failure and the text that gives it away."""

    name: str
    pattern: re.Pattern[str]
    #: "error" or "warning" (a generic word that may be harmless).
    severity: str = "error"


def _cause(name: str, regex: str, severity: str = "error", flags: int = re.IGNORECASE) -> Cause:
    return Cause(name, re.compile(regex, flags), severity)


CUDA = _cause("CUDA error", r"CUDA (error|out of memory|driver)|cudaError|CUBLAS_STATUS|cuDNN error|NCCL error|"
                            r"GPU memory.*exceeded")  # fmt: skip
OOM = _cause("out of memory", r"out of memory|oom[-_ ]?kill|OUT_OF_MEMORY|cannot allocate memory|MemoryError|"
                              r"std::bad_alloc|Exceeded job memory limit|memory cgroup out of memory")  # fmt: skip
TIME = _cause("time limit", r"DUE TO TIME LIMIT|time limit|timed out|walltime|\bTIMEOUT\b")
NODE = _cause("node failure", r"NODE_FAIL|node fail(ure|ed)|DUE TO NODE FAILURE|Node .* not responding")
SEGFAULT = _cause("segmentation fault", r"segmentation fault|segfault|SIGSEGV|bus error|SIGBUS|core dumped")
DISK = _cause("disk full", r"no space left|disk full|quota exceeded|ENOSPC|read-only file system")
PERMISSION = _cause("permission denied", r"permission denied|access denied|EACCES")
NOT_FOUND = _cause("file not found", r"no such file|file not found|ENOENT|ModuleNotFoundError|ImportError|"
                                     r"command not found")  # fmt: skip
NETWORK = _cause("connection error", r"connection (refused|reset|timed out)|network is unreachable|ECONNREFUSED")
MISSING_OUTPUT = _cause("missing output", r"expected output files are missing|output file validation failed")
PREEMPTED = _cause("preempted", r"DUE TO PREEMPTION|\bPREEMPTED\b")
SRUN = _cause("srun error", r"srun: error:")
STEPD = _cause("slurmstepd error", r"slurmstepd: error:")
CANCELLED = _cause("cancelled", r"\bCANCELLED\b", "warning", 0)
#: The line a Python traceback ends with: `ValueError: ...`, `pkg.module.CustomError: ...`.
PYTHON = _cause("python exception", r"^\s*([A-Za-z_][\w.]*)?(Error|Exception|Interrupt|Exit)\b:?", flags=0)
TRACEBACK = _cause("python exception", r"Traceback \(most recent call last\)", flags=0)
PANIC = _cause("rust panic", r"thread .* panicked at", flags=0)
GENERIC = _cause("error", r"\b(error|failed|failure|fatal|exception)\b", "warning")

#: Causes in a job's own stdout and stderr, most specific first.
JOB_CAUSES: tuple[Cause, ...] = (CUDA, OOM, TIME, NODE, SEGFAULT, DISK, PERMISSION, MISSING_OUTPUT, NOT_FOUND,
                                 NETWORK, PYTHON, PANIC, TRACEBACK, GENERIC)  # fmt: skip
#: Causes in Slurm's logs of an allocation (its `--output`/`--error` files), most specific first.
SLURM_CAUSES: tuple[Cause, ...] = (OOM, TIME, NODE, PREEMPTED, CUDA, SEGFAULT, DISK, NETWORK, SRUN, STEPD, CANCELLED)


def cause_of(line: str, causes: tuple[Cause, ...]) -> tuple[int, Cause] | None:
    """The first cause in `causes` that `line` shows, with its rank (None if none does)."""
    for rank, cause in enumerate(causes):
        if cause.pattern.search(line):
            return rank, cause
    return None


_NUMBER = re.compile(r"(?<![A-Za-z])\d+(\.\d+)?")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_SPACES = re.compile(r"\s+")


def signature(line: str, limit: int = 160) -> str:
    """`line` with what differs between jobs of one family (numbers, addresses, quoted values) blanked out.

    `ValueError: bad value '17' in inputs/17.csv` and `... '40' in inputs/40.csv` both give
    `ValueError: bad value '…' in inputs/N.csv`, so jobs that failed the same way group together.
    """
    text = _HEX.sub("ADDR", line.strip())
    text = _QUOTED.sub(lambda m: m.group(0)[0] + "…" + m.group(0)[0], text)
    text = _NUMBER.sub("N", text)
    text = _SPACES.sub(" ", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
