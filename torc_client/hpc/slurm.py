"""Slurm: batch scripts (pure), and the one place that calls `sbatch`, `squeue`, `scancel` and `sacct`.

A batch script asks for one allocation of a scheduler's shape and starts `torc run` in it
(through `srun`, one runner per node, with `start_one_worker_per_node`). Inside an
allocation, `allocation()` tells the runner what it has and when it ends; Slurm 22.05
sets no end-time variable, so the end comes from `squeue -o %e`.
"""

from __future__ import annotations

import datetime
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torc_client.contract import SlurmScheduler
from torc_client.core.errors import TorcError
from torc_client.core.units import parse_walltime

#: Scheduler fields that become `#SBATCH --key=value` lines (besides account, time and the log files).
_OPTIONS = ("partition", "qos", "mem", "gres", "nodes", "tmp", "ntasks_per_node")
COMMAND_TIMEOUT_SECONDS = 60.0


class SlurmError(TorcError):
    """A Slurm command failed or is missing."""

    title = "Slurm error"


@dataclass(frozen=True)
class RunnerCommand:
    """How the runner inside an allocation is started."""

    api_url: str
    workflow_id: int
    output_dir: Path
    start_one_worker_per_node: bool = False
    max_parallel_jobs: int | None = None
    poll_interval: float = 5.0
    #: The runner kills jobs that use more memory than they requested (`torc run --enforce-memory`).
    enforce_memory: bool = False


def batch_script(scheduler: SlurmScheduler, defaults: dict[str, Any], runner: RunnerCommand) -> str:
    """The sbatch script of one allocation: directives from the scheduler and `slurm_defaults`, then the runner."""
    out = runner.output_dir
    stem = f"{out}/slurm_output_wf{runner.workflow_id}_sl%j"
    lines = ["#!/bin/bash", f"#SBATCH --account={scheduler.account}",
             f"#SBATCH --job-name=torc_wf{runner.workflow_id}_{scheduler.name}",
             f"#SBATCH --time={scheduler.walltime}", f"#SBATCH --output={stem}.o", f"#SBATCH --error={stem}.e"]  # fmt: skip
    options = {key: getattr(scheduler, key) for key in _OPTIONS if getattr(scheduler, key) is not None}
    options.update({key: value for key, value in defaults.items() if key not in options})
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            lines.append(f"#SBATCH {flag}")
        elif value is not False:
            lines.append(f"#SBATCH {flag}={value}")
    if scheduler.extra:
        lines.append(f"#SBATCH {scheduler.extra}")
    torc = shlex.quote(str(Path(sys.executable).parent / "torc"))
    command = [torc, "run", str(runner.workflow_id), "--output-dir", shlex.quote(str(out)),
               "--poll-interval", str(runner.poll_interval)]  # fmt: skip
    if runner.max_parallel_jobs:
        command += ["--max-parallel-jobs", str(runner.max_parallel_jobs)]
    if runner.enforce_memory:
        command.append("--enforce-memory")
    lines += ["", f"export TORC_API_URL={shlex.quote(runner.api_url)}"]
    if runner.start_one_worker_per_node:
        lines += ["unset SLURM_MEM_PER_CPU SLURM_MEM_PER_GPU",
                  "srun --ntasks-per-node=1 --nodes=$SLURM_JOB_NUM_NODES " + " ".join(command)]  # fmt: skip
    else:
        lines.append("exec " + " ".join(command))
    return "\n".join(lines) + "\n"


def submit(script: Path) -> str:
    """`sbatch` a script; returns the Slurm job id."""
    out = _run(["sbatch", "--parsable", str(script)])
    return out.strip().split(";")[0]


def cancel(job_ids: list[str]) -> None:
    if job_ids:
        _run(["scancel", *job_ids])


def signal_step(job_id: str, step_name: str, signal_name: str) -> bool:
    """Send a signal (`TERM`, `KILL`) to the tasks of the running steps named `step_name` of allocation `job_id`.

    A step's tasks are signalled by Slurm: `srun` aborts its whole step on SIGTERM, and a killed
    `srun` leaves its step running. Returns whether Slurm had such a step.
    """
    out = _run(["squeue", "-h", "-s", "-j", job_id, "-o", "%i %j"], check=False)
    steps = [fields[0] for fields in map(str.split, out.splitlines()) if len(fields) == 2 and fields[1] == step_name]
    if steps:
        _run(["scancel", "--quiet", f"--signal={signal_name}", *steps], check=False)
    return bool(steps)


def states(job_ids: list[str]) -> dict[str, str]:
    """Slurm job id -> state (PENDING, RUNNING, COMPLETED, ...) for the jobs Slurm still remembers."""
    if not job_ids:
        return {}
    out = _run(["squeue", "-h", "-t", "all", "-j", ",".join(job_ids), "-o", "%i %T"], check=False)
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2:
            found[parts[0]] = parts[1]
    return found


def partitions() -> list[dict[str, Any]]:
    """The cluster's partitions as `sinfo` reports them: name, CPUs and memory (MB) per node, GPUs, time limit."""
    rows = {}
    for line in _run(["sinfo", "-h", "-o", "%P|%c|%m|%l|%G"]).splitlines():
        name, cpus, memory, limit, gres = (line.split("|") + [""] * 5)[:5]
        name = name.rstrip("*")
        gpus = re.search(r"gpu(?::[^:,]+)?:(\d+)", gres)
        row = {"name": name, "cpus": int(cpus.rstrip("+") or 1), "memory_mb": int(memory.rstrip("+") or 0),
               "gpus": int(gpus.group(1)) if gpus else 0, "max_walltime_secs": _limit(limit)}  # fmt: skip
        rows.setdefault(name, row)
    return list(rows.values())


def _limit(text: str) -> int | None:
    try:
        return int(parse_walltime(text))
    except ValueError:  # infinite, or unknown
        return None


#: Slurm states of an allocation that still holds (or will hold) nodes.
LIVE_STATES = frozenset({"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"})
_SACCT_FIELDS = "JobID,JobName,State,ExitCode,Start,End,Elapsed"


def accounting(job_ids: list[str]) -> list[dict[str, str]]:
    """Slurm's accounting of allocations (`sacct`), or its job-completion log when accounting is disabled.

    Rows come in the order of `job_ids` (the log lists allocations in the order they ended).
    """
    if not job_ids:
        return []
    query = ["-P", "-n", "-j", ",".join(job_ids), f"--format={_SACCT_FIELDS}"]
    try:
        out = _run(["sacct", "-X", *query])
        disabled = "accounting storage is disabled" in out.lower()
    except SlurmError as error:
        disabled = "accounting storage is disabled" in error.message.lower()
        if not disabled:
            raise
    if disabled:  # no slurmdbd: the job-completion log still has every finished allocation
        out = _run(["sacct", "-c", *query])
    keys = _SACCT_FIELDS.split(",")
    rows = [dict(zip(keys, line.split("|"))) for line in out.splitlines() if line.count("|") == len(keys) - 1]
    asked = {job: i for i, job in enumerate(job_ids)}
    return sorted(rows, key=lambda row: asked.get(row["JobID"], len(asked)))


@dataclass(frozen=True)
class Allocation:
    """The Slurm allocation this process runs in."""

    job_id: str
    cpus: int | None
    memory_gb: float | None
    gpus: int | None
    end_epoch: float | None


def allocation(env: dict[str, str] | None = None) -> Allocation | None:
    """The allocation this process runs in (None outside Slurm)."""
    env = dict(os.environ if env is None else env)
    job_id = env.get("SLURM_JOB_ID")
    if not job_id:
        return None
    memory = env.get("SLURM_MEM_PER_NODE")
    return Allocation(job_id=job_id, cpus=_int(env.get("SLURM_CPUS_ON_NODE")),
                      memory_gb=int(memory) / 1024 if memory and memory.isdigit() else None,
                      gpus=_int(env.get("SLURM_GPUS_ON_NODE")), end_epoch=end_time(job_id))  # fmt: skip


def end_time(job_id: str) -> float | None:
    """When an allocation ends (epoch seconds), from `squeue -o %e`; None when it has no limit."""
    out = _run(["squeue", "-h", "-j", job_id, "-o", "%e"], check=False).strip()
    try:
        return datetime.datetime.fromisoformat(out).timestamp()  # local time, as squeue prints it
    except ValueError:
        return None


def available() -> bool:
    """Whether Slurm can be asked for allocations from here (`sbatch` on PATH)."""
    return shutil.which("sbatch") is not None


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _run(args: list[str], check: bool = True) -> str:
    if shutil.which(args[0]) is None:
        raise SlurmError(f"`{args[0]}` is not installed or not on PATH: Slurm commands need a Slurm client")
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise SlurmError(f"`{' '.join(args)}` did not answer within {COMMAND_TIMEOUT_SECONDS:.0f} s") from None
    if check and done.returncode != 0:
        raise SlurmError(f"`{' '.join(args)}` failed (exit {done.returncode}): {done.stderr.strip()}")
    return done.stdout
