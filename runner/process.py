"""One job's process: the launcher's command line in its own process group, with logs, a deadline, and what it used.

The runner's guard (`runner.guard`) is told of every group, so no job outlives its runner.
"""

from __future__ import annotations

import os
import resource
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from runner import stdio
from runner.guard import Guard
from torc_client.contract import ClaimedJob, StdioConfig
from torc_client.core.resources import Shape
from torc_client.core.settings import job_log_stem


def log_paths(output_dir: Path, job: ClaimedJob) -> tuple[Path, Path]:
    """Where a job attempt's stdout and stderr go (Torc's names)."""
    stem = job_log_stem(output_dir, job.workflow_id, job.id, job.run_id, job.attempt_id)
    return stem.with_suffix(".o"), stem.with_suffix(".e")


@dataclass
class JobProcess:
    """A running job attempt."""

    job: ClaimedJob
    popen: subprocess.Popen
    started: float
    deadline: float | None
    stdout_path: Path
    stderr_path: Path
    stop_reason: str | None = None
    kill_at: float | None = None
    pidfd: int | None = field(default=None)
    guard: Guard | None = None
    #: Stopped because the runner ran out of time, not because of anything the job did: it goes back to the queue.
    give_back: bool = False
    #: What the process and the children it waited for used, once it has exited (`os.wait4`).
    rusage: resource.struct_rusage | None = None
    #: The launcher's way to signal the job (a job step is signalled by Slurm); True: the process group needs no signal.
    on_signal: Callable[[int], bool] | None = None
    #: Where its stdout and stderr went, and whether they are deleted when it completes.
    streams: stdio.Streams | None = None

    @classmethod
    def launch(cls, job: ClaimedJob, argv: list[str], env: dict[str, str], cwd: Path, output_dir: Path,
               enforce_runtime: bool = True, guard: Guard | None = None,
               config: StdioConfig | None = None) -> JobProcess:  # fmt: skip
        """Start `argv` (the launcher's command line for the job) with its stdout and stderr where `config` says."""
        streams = stdio.streams(output_dir, job, config or StdioConfig())
        with stdio.opened(streams) as (out, err):
            popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd, env=env,
                                     start_new_session=True)  # fmt: skip
        if guard is not None:
            guard.watch(popen.pid)
        now = time.monotonic()
        deadline = now + job.runtime_s if enforce_runtime and job.runtime_s > 0 else None
        return cls(job, popen, now, deadline, streams.stdout, streams.stderr, pidfd=_pidfd(popen.pid), guard=guard,
                   streams=streams)  # fmt: skip

    def poll(self) -> int | None:
        """The exit code once the process has exited (negative: the signal that killed it), else None.

        Reaped with `wait4`, so what the job used comes for free: its largest resident set and
        CPU time, exact however short the job was.
        """
        if self.popen.returncode is not None:
            return self.popen.returncode
        try:
            pid, status, usage = os.wait4(self.popen.pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere: Popen knows the code
            return self.popen.poll()
        if pid == 0:
            return None
        self.rusage = usage
        self.popen.returncode = os.waitstatus_to_exitcode(status)
        return self.popen.returncode

    def stop(self, reason: str, grace: float, give_back: bool = False, kill: bool = False) -> None:
        """Ask the job's whole process group to stop; it is killed if still alive after `grace` seconds.

        With `kill` it is killed at once (a job that does not support termination, at its allocation's end).
        """
        if self.stop_reason is None:
            self.stop_reason, self.give_back = reason, give_back
            if kill:
                self._kill()
                return
            self.kill_at = time.monotonic() + grace
            self._send(signal.SIGTERM)

    def kill_now(self) -> None:
        """Kill the job's whole process group at once (a second interrupt), reported as terminated."""
        if self.stop_reason is None:
            self.stop_reason = "the runner was interrupted twice"
        self._kill()

    def enforce(self, now: float, grace: float) -> None:
        """Stop a job past its run time; kill one that outlived its grace period."""
        if self.deadline is not None and now > self.deadline and self.stop_reason is None:
            self.stop(f"exceeded its run time of {self.job.runtime_s:.0f} s", grace)
        if self.kill_at is not None and now > self.kill_at:
            self._kill()

    def _kill(self) -> None:
        self.kill_at = None
        self._send(signal.SIGKILL)

    def _send(self, sig: int) -> None:
        """A stop signal: through the launcher when it has a way of its own, else to the whole process group."""
        if self.on_signal is not None and self.popen.returncode is None and self.on_signal(sig):
            return
        self._signal(sig)

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        # The group may outlive bash (a background child): make sure nothing is left behind.
        self._signal(signal.SIGKILL)
        if self.guard is not None:
            self.guard.forget(self.popen.pid)


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


class Environment:
    """The environment jobs run with: this runner's part built once, each job's variables added per launch."""

    def __init__(self, api_url: str, output_dir: Path, compute_node_id: int) -> None:
        # Jobs call `torc`: the one installed next to this runner comes first on PATH.
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        self.base = {**os.environ, "PATH": path, "TORC_API_URL": api_url, "TORC_OUTPUT_DIR": str(output_dir.resolve()),
                     "TORC_COMPUTE_NODE_ID": str(compute_node_id)}  # fmt: skip

    def for_job(self, job: ClaimedJob) -> dict[str, str]:
        """The runner's environment, the job's `env` over it, then the variables that say which job this is."""
        return {**self.base, **job.env, "TORC_WORKFLOW_ID": str(job.workflow_id), "TORC_JOB_ID": str(job.id),
                "TORC_JOB_NAME": job.name, "TORC_RUN_ID": str(job.run_id), "TORC_ATTEMPT_ID": str(job.attempt_id)}


def wait_for_exit(procs: Iterable[JobProcess], timeout: float, also: int | None = None) -> None:
    """Sleep until one of `procs` exits, `also` turns readable, a deadline of theirs comes, or `timeout` passes."""
    procs = list(procs)
    if timeout <= 0:
        return
    fds = [p.pidfd for p in procs if p.pidfd is not None]
    if len(fds) < len(procs):
        time.sleep(min(timeout, 0.01))
        return
    deadlines = [d for p in procs for d in (p.deadline, p.kill_at) if d is not None]
    if deadlines:
        timeout = min(timeout, max(0.0, min(deadlines) - time.monotonic()))
    with selectors.DefaultSelector() as selector:
        for fd in fds + ([also] if also is not None else []):
            selector.register(fd, selectors.EVENT_READ)
        selector.select(timeout)


def shape_of(job: ClaimedJob) -> Shape:
    """What a claimed job takes from its runner's resources while it runs."""
    return Shape(job.resource_requirements_id, job.num_cpus, job.memory_bytes, job.num_gpus, job.num_nodes,
                 job.runtime_s)  # fmt: skip


def command_of(job: ClaimedJob) -> str:
    """The shell command a job runs: its invocation script, if any, then its command."""
    return f"{job.invocation_script} {job.command}" if job.invocation_script else job.command


def job_directory(working_dir: str | None) -> Path:
    """Jobs run in the workflow's working directory when this machine has it, else here."""
    if working_dir and Path(working_dir).is_dir():
        return Path(working_dir)
    return Path.cwd()
