"""What each `torc remote` subcommand does on every host: in parallel, one result per host, never all or nothing.

A runner is started detached (`nohup … &`), so it outlives the SSH session. Its PID and its
own log go to `OUTPUT_DIR/torc_worker_{W}_{HOST}.pid` and `.log` on the host (OUTPUT_DIR
relative to the remote home unless absolute); HOST is the address as a file name, so two
addresses of one shared file system (or of one machine) never overwrite each other's files.
"""

from __future__ import annotations

import io
import shlex
import shutil
import tarfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from torc_client.remote import ssh
from torc_client.remote.hosts import Host

DEFAULT_OUTPUT_DIR = "torc_output"
DEFAULT_MAX_PARALLEL_SSH = 10


@dataclass(frozen=True)
class HostResult:
    """One host's outcome: `state` is what it is now (`running`, `stopped`, `not started`, `unreachable`, ...)."""

    address: str
    ok: bool
    state: str
    message: str = ""
    pid: int | None = None


@dataclass(frozen=True)
class RunnerOptions:
    """How each remote runner is started (`torc run`'s options)."""

    api_url: str
    output_dir: str = DEFAULT_OUTPUT_DIR
    poll_interval: float = 5.0
    max_parallel_jobs: int | None = None
    num_cpus: int | None = None
    memory_gb: float | None = None
    num_gpus: int | None = None
    torc: str = "torc"


def each(hosts: Sequence[Host], work: Callable[[Host], HostResult], max_parallel: int) -> list[HostResult]:
    """`work` on every host, at most `max_parallel` SSH sessions at a time; results in the hosts' order."""
    with ThreadPoolExecutor(max_workers=max(1, min(max_parallel, len(hosts) or 1))) as pool:
        return list(pool.map(work, hosts))


def files(workflow_id: int, host: Host, output_dir: str) -> tuple[str, str]:
    """The runner's PID file and log file on `host`, quoted for its shell."""
    stem = f"{output_dir.rstrip('/')}/torc_worker_{workflow_id}_{host.slug}"
    return shlex.quote(f"{stem}.pid"), shlex.quote(f"{stem}.log")


def start(host: Host, workflow_id: int, opts: RunnerOptions) -> HostResult:
    """Start a detached runner for the workflow on `host` and say whether it is running."""
    pid_file, log_file = files(workflow_id, host, opts.output_dir)
    command = [opts.torc, "--url", opts.api_url, "run", str(workflow_id), "--output-dir", opts.output_dir,
               "--poll-interval", f"{opts.poll_interval:g}"]  # fmt: skip
    for flag, value in (("--max-parallel-jobs", opts.max_parallel_jobs), ("--num-cpus", opts.num_cpus),
                        ("--memory-gb", opts.memory_gb), ("--num-gpus", opts.num_gpus)):  # fmt: skip
        if value is not None:
            command += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    line = (f"mkdir -p {shlex.quote(opts.output_dir)} && "
            f"{{ nohup {shlex.join(command)} > {log_file} 2>&1 < /dev/null & echo $! > {pid_file}; }} && "
            f"sleep 1 && {_probe(pid_file)}")  # fmt: skip
    return _state_of(host, ssh.run(host, line), started=True)


def status(host: Host, workflow_id: int, output_dir: str) -> HostResult:
    """Whether the workflow's runner on `host` is running (from its PID file)."""
    pid_file, _ = files(workflow_id, host, output_dir)
    return _state_of(host, ssh.run(host, _probe(pid_file), timeout=ssh.CONNECT_TIMEOUT + 30))


def stop(host: Host, workflow_id: int, output_dir: str, force: bool = False) -> HostResult:
    """Send the runner SIGTERM (it stops its running jobs, which end terminated) or, with `force`, SIGKILL."""
    pid_file, _ = files(workflow_id, host, output_dir)
    signal = "KILL" if force else "TERM"
    line = (f"if [ -f {pid_file} ]; then p=$(cat {pid_file}); "
            f"if kill -{signal} \"$p\" 2>/dev/null; then echo \"stopped $p\"; else echo \"gone $p\"; fi; "
            "else echo none; fi")  # fmt: skip
    answer = ssh.run(host, line)
    if answer.code != 0:
        return HostResult(host.address, False, "unreachable", answer.why())
    word, _, pid = answer.text.partition(" ")
    if word == "stopped":
        return HostResult(host.address, True, "stopped", f"sent SIG{signal} to the runner", int(pid))
    if word == "gone":
        return HostResult(host.address, True, "stopped", "the runner had already exited", int(pid))
    return HostResult(host.address, False, "not started", "no runner of this workflow was started there")


def collect_logs(host: Host, output_dir: str, local_dir: Path, delete: bool = False) -> HostResult:
    """Copy the host's output directory (runner logs, job logs) to `local_dir/HOST/`; optionally delete it there."""
    answer = ssh.run(host, f"tar -C {shlex.quote(output_dir)} -czf - .")
    if answer.code != 0:
        return HostResult(host.address, False, "not collected", answer.why())
    target = local_dir / host.slug
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(answer.stdout), mode="r:gz") as archive:
        archive.extractall(target, filter="data")
    count = sum(1 for path in target.rglob("*") if path.is_file())
    message = f"{count} file(s) in {target}"
    if delete:
        removed = delete_logs(host, output_dir)
        if not removed.ok:
            return HostResult(host.address, False, "collected", f"{message}; not deleted there: {removed.message}")
        message += "; deleted there"
    return HostResult(host.address, True, "collected", message)


def delete_logs(host: Host, output_dir: str) -> HostResult:
    """Remove the output directory on `host`."""
    answer = ssh.run(host, f"rm -rf -- {shlex.quote(output_dir)}")
    if answer.code != 0:
        return HostResult(host.address, False, "not deleted", answer.why())
    return HostResult(host.address, True, "deleted", f"removed {output_dir}")


def _probe(pid_file: str) -> str:
    return (f"if [ -f {pid_file} ]; then p=$(cat {pid_file}); "
            "if kill -0 \"$p\" 2>/dev/null; then echo \"running $p\"; else echo \"stopped $p\"; fi; "
            "else echo none; fi")  # fmt: skip


def _state_of(host: Host, answer: ssh.Answer, started: bool = False) -> HostResult:
    if answer.code != 0:
        return HostResult(host.address, False, "unreachable" if answer.code == 255 else "failed", answer.why())
    word, _, pid = answer.text.partition(" ")
    if word == "running":
        return HostResult(host.address, True, "running", "started" if started else "", int(pid))
    if word == "stopped":
        note = "the runner exited at once: read its log (torc remote collect-logs)" if started else "exited"
        return HostResult(host.address, not started, "stopped", note, int(pid))
    return HostResult(host.address, False, "not started", "no runner of this workflow was started there")
