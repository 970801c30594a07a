"""Memory requests enforced (`torc run --enforce-memory`): a job that uses more than it asked for is killed.

Under Slurm, a job that outgrows its cgroup is killed by the kernel with SIGKILL and ends
with 137. With `--enforce-memory` a runner does the same on any machine, per job: where the
node has a writable memory cgroup, each job runs in one of its own limited to its request
(`runner.launch.cgroups`) and the kernel kills it at once; elsewhere the resource monitor
compares a sample of the job's process tree (resident memory, summed) with the request
every `runner.launch.ENFORCE_SAMPLE_SECONDS` and kills the whole tree the moment one
exceeds it. Either way the job is reported `failed` with return code 137, the cause is
written to its stderr, and its peak is at least its request, so an out-of-memory failure
on a workstation looks like one on a cluster, and `torc recover` tells it apart the same way.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

import psutil

from torc_client.contract import ClaimedJob
from torc_client.core.units import parse_memory
from torc_client.spec.plan import DEFAULT_MEMORY

if TYPE_CHECKING:
    from runner.launch.plain import Ended

#: The return code of a job killed for using too much memory: 128 + SIGKILL, as Slurm and Torc report it.
OUT_OF_MEMORY_CODE = 128 + signal.SIGKILL
#: The memory request Torc gives a job that states none (`1m`): such jobs are not limited.
UNSTATED_BYTES = parse_memory(DEFAULT_MEMORY)


def limit_of(job: ClaimedJob) -> int | None:
    """The most memory `job` may use, in bytes; None when it stated no memory request."""
    return job.memory_bytes if job.memory_bytes > UNSTATED_BYTES else None


def kill_tree(root: psutil.Process) -> None:
    """SIGKILL a job's process group and every process under its root, even those that left the group."""
    try:
        tree = [root, *root.children(recursive=True)]  # before the root dies and its children are reparented
    except psutil.Error:
        tree = [root]
    if root.is_running():  # the same process, not a reused pid: its group is the job's
        try:
            os.killpg(root.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for proc in tree:
        try:
            proc.kill()  # psutil checks the pid still names the same process
        except psutil.Error:
            pass


def out_of_memory_text(job: ClaimedJob, code: int, seen: Ended, over_limit_bytes: int | None) -> str | None:
    """What the runner says of a job killed for its memory, by the kernel or Slurm (`seen`) or by the sampler
    (`over_limit_bytes`, when the job then died of SIGKILL); None when it was not."""
    if seen.out_of_memory:
        return f"job {job.name} ({job.id}) reached its {size_text(job.memory_bytes)} memory request: {seen.cause}"
    if over_limit_bytes is not None and code == -signal.SIGKILL:
        return killed_text(job, over_limit_bytes)
    return None


def killed_text(job: ClaimedJob, used_bytes: int) -> str:
    """What the runner says of a job it killed: `job NAME (ID) used 1.2 GiB, more than its 512 MiB request: ...`."""
    return (f"job {job.name} ({job.id}) used {size_text(used_bytes)}, more than its {size_text(job.memory_bytes)} "
            "request: killed (out of memory)")  # fmt: skip


def size_text(num_bytes: int) -> str:
    """Bytes in binary units, one decimal when it is not whole: `512 MiB`, `1.2 GiB`."""
    size = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            break
        size /= 1024
    else:
        unit = "TiB"
    text = f"{size:.1f}"
    return f"{text[:-2] if text.endswith('.0') else text} {unit}"
