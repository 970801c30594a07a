"""What one finished attempt amounts to: its outcome, after output checks and recovery."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Callable

from runner import memory, outputs
from runner.process import JobProcess, log_paths
from torc_client import contract as c
from torc_client.core import failure
from torc_client.core.units import iso_now

#: Longest a failure handler's recovery command may run.
RECOVERY_TIMEOUT_SECONDS = 600.0
#: The return code of a job that could not be started (bash's own for a command that cannot run).
NOT_STARTED_CODE = 126


def outcome(proc: JobProcess, code: int, measures: dict, cwd: Path,
            environment: Callable[[c.ClaimedJob], dict[str, str]],
            out_of_memory: str | None = None) -> tuple[c.JobOutcome, str]:  # fmt: skip
    """The report of an attempt that exited with `code`, and a note for the person watching.

    `environment` gives the job's environment, for a recovery command. `out_of_memory` says
    how the job was killed for its memory, when it was (`runner.memory`).
    """
    status, note, mtimes = "completed" if code == 0 else "failed", "", {}
    if proc.stop_reason:
        status, note = "terminated", proc.stop_reason
    elif out_of_memory is not None:
        status, code, note = "failed", memory.OUT_OF_MEMORY_CODE, "out of memory"
        outputs.append(proc.stderr_path, f"torc: {out_of_memory}\n")
    elif code == 0:
        missing, mtimes = outputs.check(proc.job, cwd)
        if missing:
            status, code, note = "failed", 1, f"exited 0 but did not write {', '.join(missing)}"
            outputs.append(proc.stderr_path, f"torc: job failed: {note}\n")
    retry = False
    if status == "failed" and failure.may_retry(proc.job.failure_rules, code, proc.job.attempt_id):
        retry, note = recover(proc, code, cwd, environment(proc.job))
    elapsed = (time.monotonic() - proc.started) / 60.0
    report = c.JobOutcome(job_id=proc.job.id, claim_token=proc.job.claim_token, status=status, return_code=code,
                          exec_time_minutes=elapsed, completion_time=iso_now(), output_file_mtimes=mtimes,
                          retry=retry, **measures)  # fmt: skip
    return report, note


def not_started(job: c.ClaimedJob, error: OSError | ValueError, output_dir: Path) -> tuple[c.JobOutcome, str]:
    """The report of an attempt the operating system refused to start (an argument list too long, say).

    The reason goes to the job's stderr log, where its output would have been; the job fails
    with `NOT_STARTED_CODE` and the runner goes on with the others.
    """
    note = f"could not start: {getattr(error, 'strerror', None) or error}"
    _, err_path = log_paths(output_dir, job)
    err_path.parent.mkdir(parents=True, exist_ok=True)
    outputs.append(err_path, f"torc: job {note}\n")
    report = c.JobOutcome(job_id=job.id, claim_token=job.claim_token, status="failed", return_code=NOT_STARTED_CODE,
                          exec_time_minutes=0.0, completion_time=iso_now())  # fmt: skip
    return report, note


def recover(proc: JobProcess, code: int, cwd: Path, env: dict[str, str]) -> tuple[bool, str]:
    """Run the failure handler's recovery command (if any); a retry follows only when it succeeds."""
    rule = failure.match_rule(proc.job.failure_rules, code) or {}
    script = rule.get("recovery_script")
    retry_note = f"attempt {proc.job.attempt_id} failed with {code}; retrying"
    if not script:
        return True, retry_note
    env = {**env, "TORC_RETURN_CODE": str(code)}
    try:
        with open(proc.stderr_path, "ab") as err, open(proc.stdout_path, "ab") as out:
            returncode = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, stdout=out, stderr=err,
                                        timeout=RECOVERY_TIMEOUT_SECONDS, check=False).returncode  # fmt: skip
    except subprocess.TimeoutExpired:
        returncode = -1
    if returncode != 0:
        return False, f"recovery command exited {returncode}, so the job is not retried"
    return True, retry_note + " after its recovery command"
