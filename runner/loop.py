"""The runner loop: reap, report, claim, start, wait; until the workflow is done.

Each turn reaps finished jobs and reports them in one request (which releases their
dependents on the server at once), then claims as many ready jobs as fit the free
resources, reports their start in one request and launches them, then sleeps until a
job exits or the poll interval passes. Everything the runner knows about the
workflow it learns from the API; it can be killed at any moment and its jobs go back
to the queue when its lease expires.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from runner import hardware, outputs
from runner.monitor import ResourceMonitor
from runner.process import JobProcess
from runner.report import PlainReporter, Reporter, unfit_text
from torc_client import contract as c
from torc_client import errors, failure, settings
from torc_client.client import Client
from torc_client.resources import GIB, Capacity, Shape, take
from torc_client.units import iso_now

#: Seconds the "nothing can progress" condition must hold before the runner gives up.
STUCK_CONFIRM_SECONDS = 2.0
#: Longest time between contacts with the server while every slot is busy (cancellations are seen this fast).
HEARTBEAT_SECONDS = 5.0
#: Longest a failure handler's recovery command may run.
RECOVERY_TIMEOUT_SECONDS = 600.0
#: How long the runner keeps retrying while the server does not answer.
SERVER_WAIT_SECONDS = 20 * 60.0


@dataclass
class RunSummary:
    """What one runner did."""

    workflow_id: int
    compute_node_id: int
    counts: dict[str, int] = field(default_factory=dict)
    workflow_status: c.WorkflowStatus | None = None
    unfit: list[c.UnfitGroup] = field(default_factory=list)
    canceled: bool = False
    interrupted: bool = False
    lease_lost: bool = False

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0) + self.counts.get("terminated", 0)

    @property
    def exit_code(self) -> int:
        if self.lease_lost:
            return 3
        if self.interrupted:
            return 130
        if self.failed or self.canceled:
            return 1
        done = self.workflow_status is not None and self.workflow_status.is_complete
        return 0 if done else 2


@dataclass
class RunnerOptions:
    num_cpus: int | None = None
    memory_gb: float | None = None
    num_gpus: int | None = None
    num_nodes: int = 1
    max_parallel_jobs: int | None = None
    poll_interval: float = settings.DEFAULT_POLL_INTERVAL
    output_dir: Path = Path(settings.DEFAULT_OUTPUT_DIR)
    time_limit: float | None = None
    kill_grace: float = settings.DEFAULT_KILL_GRACE_SECONDS


class JobRunner:
    """Runs one workflow's jobs on this machine until the workflow is done."""

    def __init__(self, client: Client, workflow_id: int, options: RunnerOptions | None = None,
                 reporter: Reporter | None = None) -> None:  # fmt: skip
        self.client = client
        self.workflow_id = workflow_id
        self.opts = options or RunnerOptions()
        self.reporter = reporter or PlainReporter()
        self.total = Capacity.from_gb(
            self.opts.num_cpus or hardware.detect_cpus(),
            self.opts.memory_gb if self.opts.memory_gb is not None else hardware.detect_memory_gb(),
            self.opts.num_gpus if self.opts.num_gpus is not None else hardware.detect_gpus(),
            self.opts.num_nodes,
        )  # fmt: skip
        self.free = self.total
        self.running: dict[int, JobProcess] = {}
        self.stop_signal: int | None = None
        self.end_time = time.monotonic() + self.opts.time_limit if self.opts.time_limit else None
        self.monitor: ResourceMonitor | None = None
        self._last_contact = time.monotonic()
        self._stuck_since: float | None = None

    # --- lifecycle -------------------------------------------------------------------

    def run(self) -> RunSummary:
        workflow = self._call(self.client.get_workflow, self.workflow_id)
        self.cwd = _job_directory(workflow.working_dir)
        node = self._call(self.client.register_compute_node, self._node_record())
        self.summary = RunSummary(self.workflow_id, node.id)
        self.lease_seconds = settings.DEFAULT_LEASE_SECONDS
        self._announce(workflow)
        if workflow.resource_monitor.enabled:
            self.monitor = ResourceMonitor(workflow.resource_monitor.sample_interval_seconds)
            self.monitor.start()
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._loop()
        except errors.LeaseExpiredError as error:
            self.summary.lease_lost = True
            self.reporter.message(f"stopping: {error.message}")
            self._stop_all("this runner lost its lease", report=False)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._shutdown()
        return self.summary

    def _announce(self, workflow: c.Workflow) -> None:
        t = self.total
        mode = (f"up to {self.opts.max_parallel_jobs} jobs at a time" if self.opts.max_parallel_jobs
                else f"{t.cpus} CPUs, {t.memory_bytes / GIB:.1f} GiB memory, {t.gpus} GPUs")  # fmt: skip
        self.reporter.message(f"runner {self.summary.compute_node_id} for workflow {workflow.id} "
                              f"({workflow.name}): {mode}")  # fmt: skip
        self.summary.unfit = self._unfit()
        for group in self.summary.unfit:
            self.reporter.message(unfit_text(group))

    def _shutdown(self) -> None:
        if self.monitor:
            self.monitor.stop()
        try:
            self.client.deactivate_compute_node(self.summary.compute_node_id)
            self.summary.workflow_status = self.client.workflow_status(self.workflow_id)
        except errors.ApiError as error:
            self.reporter.message(f"could not sign off from the server: {error.message}")

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stop_signal = signum

    # --- the loop --------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            finished = self._collect()
            if self.stop_signal is not None or (self.end_time is not None and time.monotonic() >= self.end_time):
                self._report(finished)
            if self.stop_signal is not None:
                self.summary.interrupted = True
                self._stop_all(f"the runner received {signal.Signals(self.stop_signal).name}")
                return
            if self.end_time is not None and time.monotonic() >= self.end_time:
                self._stop_all("the runner's time limit was reached")
                return
            answer = self._claim(finished)
            if answer.is_canceled:
                self.summary.canceled = True
                self._stop_all("the workflow was canceled")
                return
            if answer.jobs:
                self._start(answer.jobs, answer.started)
            elif not self.running and self._should_exit(answer):
                return
            self._wait(0 if finished or answer.jobs else self.opts.poll_interval)

    def _claim(self, finished: list[c.JobOutcome]) -> c.ClaimResponse:
        """Report what finished and claim what fits, in one request when there is room.

        With no room, finished jobs are reported alone and the lease renewed; either
        answer says whether the workflow was canceled.
        """
        request = self._claim_request()
        if request is None:
            self._report(finished)
            canceled = self._keep_lease()
            return c.ClaimResponse(jobs=[], run_id=0, is_canceled=canceled, is_complete=False)
        request.outcomes = finished
        answer = self._call(self.client.claim, self.workflow_id, request)
        self._last_contact = time.monotonic()
        self._note_rejections(answer.report)
        return answer

    def _claim_request(self) -> c.ClaimRequest | None:
        base = {"compute_node_id": self.summary.compute_node_id, "num_cpus": max(self.free.cpus, 0),
                "memory_gb": max(self.free.memory_bytes, 0) / GIB, "num_gpus": max(self.free.gpus, 0),
                "num_nodes": self.free.nodes, "time_limit_seconds": self._time_left()}  # fmt: skip
        if self.opts.max_parallel_jobs:
            room = self.opts.max_parallel_jobs - len(self.running)
            return c.ClaimRequest(limit=room, ignore_resources=True, start=True, **base) if room > 0 else None
        if self.free.cpus <= 0 or self.free.memory_bytes < 0.1 * GIB:
            return None
        return c.ClaimRequest(limit=self.free.cpus, start=True, **base)

    def _time_left(self) -> float | None:
        return None if self.end_time is None else max(self.end_time - time.monotonic(), 60.0)

    def _start(self, jobs: list[c.ClaimedJob], already_started: bool) -> None:
        accepted = {j.id for j in jobs}
        if not already_started:
            report = c.StartReport(compute_node_id=self.summary.compute_node_id,
                                   jobs=[c.JobStart(job_id=j.id, claim_token=j.claim_token) for j in jobs])  # fmt: skip
            accepted = set(self._call(self.client.report_start, self.workflow_id, report).accepted)
        launched = []
        for job in jobs:
            if job.id not in accepted:
                continue
            outputs.make_directories(job, self.cwd)
            proc = JobProcess.launch(job, self._environment(job), self.cwd, self.opts.output_dir)
            self.running[job.id] = proc
            self.free = take(self.free, _shape(job), 1)
            if self.monitor:
                self.monitor.watch(job.id, proc.popen.pid)
            launched.append(job)
        self.reporter.started(launched)

    def _environment(self, job: c.ClaimedJob) -> dict[str, str]:
        # Jobs call `torc`: the one installed next to this runner comes first on PATH.
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, "PATH": path, "TORC_API_URL": self.client.url, "TORC_WORKFLOW_ID": str(job.workflow_id),
                "TORC_JOB_ID": str(job.id), "TORC_JOB_NAME": job.name, "TORC_RUN_ID": str(job.run_id),
                "TORC_ATTEMPT_ID": str(job.attempt_id), "TORC_OUTPUT_DIR": str(self.opts.output_dir.resolve()),
                "TORC_COMPUTE_NODE_ID": str(self.summary.compute_node_id)}  # fmt: skip

    def _collect(self) -> list[c.JobOutcome]:
        """Exited jobs: free their resources here and return their outcomes, to report next."""
        now = time.monotonic()
        outcomes = []
        for proc in list(self.running.values()):
            proc.enforce(now, self.opts.kill_grace)
            code = proc.poll()
            if code is None:
                continue
            outcome, note = self._outcome(proc, code)
            outcomes.append(outcome)
            self._release(proc)
            key = "retried" if outcome.retry else outcome.status
            self.summary.counts[key] = self.summary.counts.get(key, 0) + 1
            self.reporter.finished(proc.job, outcome, note)
        return outcomes

    def _report(self, outcomes: list[c.JobOutcome]) -> None:
        """Report finished jobs on their own (when no claim goes with them)."""
        if not outcomes:
            return
        answer = self._call(self.client.report_complete, self.workflow_id,
                            c.CompleteReport(compute_node_id=self.summary.compute_node_id, outcomes=outcomes))  # fmt: skip
        self._last_contact = time.monotonic()
        self._note_rejections(answer)

    def _note_rejections(self, answer: c.ReportResponse | None) -> None:
        for rejection in answer.rejected if answer else []:
            self.reporter.message(f"the server refused the report of job {rejection.job_id}: {rejection.reason}")

    def _release(self, proc: JobProcess) -> None:
        proc.close()
        del self.running[proc.job.id]
        self.free = take(self.free, _shape(proc.job), -1)

    def _outcome(self, proc: JobProcess, code: int) -> tuple[c.JobOutcome, str]:
        measures = self.monitor.forget(proc.job.id) if self.monitor else {}
        status, note, mtimes = "completed" if code == 0 else "failed", "", {}
        if proc.stop_reason:
            status, note = "terminated", proc.stop_reason
        elif code == 0:
            missing, mtimes = outputs.check(proc.job, self.cwd)
            if missing:
                status, code, note = "failed", 1, f"exited 0 but did not write {', '.join(missing)}"
                outputs.append(proc.stderr_path, f"torc: job failed: {note}\n")
        retry = False
        if status == "failed" and failure.may_retry(proc.job.failure_rules, code, proc.job.attempt_id):
            retry, note = self._recover(proc, code)
        elapsed = (time.monotonic() - proc.started) / 60.0
        outcome = c.JobOutcome(job_id=proc.job.id, claim_token=proc.job.claim_token, status=status, return_code=code,
                               exec_time_minutes=elapsed, completion_time=iso_now(), output_file_mtimes=mtimes,
                               retry=retry, **measures)  # fmt: skip
        return outcome, note

    def _recover(self, proc: JobProcess, code: int) -> tuple[bool, str]:
        """Run the failure handler's recovery command (if any); a retry follows only when it succeeds."""
        rule = failure.match_rule(proc.job.failure_rules, code) or {}
        script = rule.get("recovery_script")
        retry_note = f"attempt {proc.job.attempt_id} failed with {code}; retrying"
        if not script:
            return True, retry_note
        env = {**self._environment(proc.job), "TORC_RETURN_CODE": str(code)}
        try:
            with open(proc.stderr_path, "ab") as err, open(proc.stdout_path, "ab") as out:
                returncode = subprocess.run(["bash", "-c", script], cwd=self.cwd, env=env, stdout=out, stderr=err,
                                            timeout=RECOVERY_TIMEOUT_SECONDS, check=False).returncode  # fmt: skip
        except subprocess.TimeoutExpired:
            returncode = -1
        if returncode != 0:
            return False, f"recovery command exited {returncode}, so the job is not retried"
        return True, retry_note + " after its recovery command"

    def _stop_all(self, reason: str, report: bool = True) -> None:
        """Terminate every running job (SIGTERM, grace period, SIGKILL) and report them terminated."""
        if self.running:
            self.reporter.message(f"terminating {len(self.running)} running jobs: {reason}")
        for proc in self.running.values():
            proc.stop(reason, self.opts.kill_grace)
        while self.running:
            finished = self._collect()
            if report:
                self._report(finished)
            for proc in self.running.values():
                proc.enforce(time.monotonic(), self.opts.kill_grace)
            self._wait(0.05)

    def _should_exit(self, answer: c.ClaimResponse) -> bool:
        """Nothing runs here and nothing was claimable: stop when the workflow is done or nothing can progress."""
        if answer.is_complete:
            return True
        status = self._call(self.client.workflow_status, self.workflow_id)
        self.reporter.progress(status)
        if status.is_complete:
            return True
        active = sum(status.job_counts.get(s, 0) for s in ("pending", "running"))
        if active:
            self._stuck_since = None
            return False
        now = time.monotonic()
        self._stuck_since = self._stuck_since or now
        if now - self._stuck_since < STUCK_CONFIRM_SECONDS:
            return False
        self.summary.unfit = self._unfit()
        self.reporter.message("no job can run: nothing is running anywhere and no ready job fits this runner")
        for group in self.summary.unfit:
            self.reporter.message(unfit_text(group))
        return True

    def _unfit(self) -> list[c.UnfitGroup]:
        t = self.total
        return self._call(self.client.unfit, self.workflow_id, t.cpus, t.memory_bytes / GIB, t.gpus, t.nodes,
                          self._time_left())  # fmt: skip

    def _keep_lease(self) -> bool:
        """Heartbeat when due; returns whether the server says the workflow was canceled."""
        if time.monotonic() - self._last_contact < min(self.lease_seconds / 3, HEARTBEAT_SECONDS):
            return False
        beat = self._call(self.client.heartbeat, self.summary.compute_node_id)
        self.lease_seconds = beat.lease_seconds
        self._last_contact = time.monotonic()
        return beat.is_canceled

    def _wait(self, timeout: float) -> None:
        """Sleep until a job exits or `timeout` passes (pidfds make the wake-up immediate)."""
        if timeout <= 0:
            return
        fds = [p.pidfd for p in self.running.values() if p.pidfd is not None]
        if not fds or len(fds) < len(self.running):
            time.sleep(min(timeout, 0.05) if self.running else timeout)
            return
        with selectors.DefaultSelector() as selector:
            for fd in fds:
                selector.register(fd, selectors.EVENT_READ)
            selector.select(min(timeout, self._next_deadline()))

    def _next_deadline(self) -> float:
        deadlines = [d for p in self.running.values() for d in (p.deadline, p.kill_at) if d is not None]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else 3600.0

    def _call(self, method, *args):
        """Call the API, waiting out a server that does not answer (reports are safe to repeat)."""
        deadline = time.monotonic() + SERVER_WAIT_SECONDS
        while True:
            try:
                return method(*args)
            except errors.ServerUnavailable as error:
                if time.monotonic() > deadline or self.stop_signal is not None:
                    raise
                self.reporter.message(f"{error.message}; retrying in 5 s")
                time.sleep(5)

    def _node_record(self) -> c.ComputeNodeCreate:
        t = self.total
        return c.ComputeNodeCreate(workflow_id=self.workflow_id, hostname=socket.gethostname(), pid=os.getpid(),
                                   num_cpus=t.cpus, memory_gb=round(t.memory_bytes / GIB, 3), num_gpus=t.gpus,
                                   num_nodes=t.nodes,
                                   time_limit=f"PT{int(self.opts.time_limit)}S" if self.opts.time_limit else None)  # fmt: skip


def _shape(job: c.ClaimedJob) -> Shape:
    return Shape(job.resource_requirements_id, job.num_cpus, job.memory_bytes, job.num_gpus, job.num_nodes,
                 job.runtime_s)  # fmt: skip


def _job_directory(working_dir: str | None) -> Path:
    """Jobs run in the workflow's working directory when this machine has it, else here."""
    if working_dir and Path(working_dir).is_dir():
        return Path(working_dir)
    return Path.cwd()
