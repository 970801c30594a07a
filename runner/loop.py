"""The runner loop: launch claimed jobs as resources free up, report them, until the workflow is done.

Claimed jobs wait in a local backlog and are launched the moment they fit; exited
jobs are reaped at once. Talking to the server happens beside this, one request in
flight at a time (`runner.exchange`): each request reports the jobs launched and
finished since the previous one and claims more, so a runner of short jobs batches
its reports by itself and a runner of long jobs reports each change right away. The
backlog holds about half a second of work at the recent pace (none for long jobs),
so the slots never wait for the network. Everything the runner knows about the
workflow it learns from the API; it can be killed at any moment, and the jobs it
held, running or waiting, go back to the queue when its lease expires.
"""

from __future__ import annotations

import os
import signal
import socket
import time
import uuid
from collections import deque
from pathlib import Path

from runner import hardware, launch
from runner.ending import OUT_OF_TIME, Ending
from runner.exchange import SERVER_WAIT_SECONDS, Exchange, patiently
from runner.guard import Guard
from runner.hpc import HpcDuties
from runner.monitor import ResourceMonitor
from runner.options import RunnerOptions, RunSummary
from runner.pace import Pace, exchange_due, heartbeat_seconds, wanted
from runner.process import Environment, JobProcess, job_directory, wait_for_exit
from runner.report import PlainReporter, Reporter, unfit_text
from runner.slots import Slots
from torc_client import contract as c
from torc_client.client import Client
from torc_client.core import errors, settings
from torc_client.core.resources import GIB, Capacity
from torc_client.core.units import count
from torc_client.hpc import slurm

#: Longest time between contacts with the server while every slot is busy (cancellations are seen this fast).
HEARTBEAT_SECONDS = 5.0


class JobRunner(Slots, Ending):
    """Runs one workflow's jobs on this machine until the workflow is done (its jobs' processes: `runner.slots`;
    how it stops: `runner.ending`)."""

    def __init__(self, client: Client, workflow_id: int, options: RunnerOptions | None = None,
                 reporter: Reporter | None = None, allocation: slurm.Allocation | None = None) -> None:  # fmt: skip
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
        self.backlog: deque[c.ClaimedJob] = deque()
        self.pace = Pace(self.opts.backlog_seconds)
        #: Reports not yet sent: jobs launched (by id) and jobs finished.
        self.starts: dict[int, c.JobStart] = {}
        self.outcomes: list[c.JobOutcome] = []
        self.given_back: list[c.JobStart] = []  # stopped at the time limit, to be returned
        self.stop_signal: int | None = None
        self._hurry = False  # a second interrupt: kill the jobs without a grace period
        self.end_time = time.monotonic() + self.opts.time_limit if self.opts.time_limit else None
        self.monitor: ResourceMonitor | None = None
        self._last_contact = time.monotonic()
        self._claim_after = 0.0  # no claim before this (the queue was found empty)
        self._asked = 0  # jobs the request in flight asks for
        self._sent: c.ClaimRequest | None = None  # the request in flight
        self._idle_answer: c.ClaimResponse | None = None  # an answer with no jobs, not yet acted on
        self._stuck_since: float | None = None
        self._env: Environment | None = None
        self.allocation = allocation
        self._idle_since: float | None = None
        self._come_back: float | None = None  # the server's pace: no request sooner than this after its last answer
        self._sent_at: float | None = None

    # --- lifecycle -------------------------------------------------------------------

    def run(self) -> RunSummary:
        workflow = self._call(self.client.get_workflow, self.workflow_id)
        self.cwd = job_directory(workflow.working_dir)
        self.idle_limit = workflow.compute_node_wait_for_new_jobs_seconds
        self.db_wait = workflow.compute_node_wait_for_healthy_database_minutes * 60
        self._choose_launcher(workflow)
        self.stdio = workflow.execution_config.stdio
        node = self._call(self.client.register_compute_node, self._node_record())
        self.summary = RunSummary(self.workflow_id, node.id)
        self.lease_seconds = settings.DEFAULT_LEASE_SECONDS
        self._announce(workflow)
        self.hpc = HpcDuties(self.client, self.workflow_id, self.opts.output_dir, self.reporter.message, self.allocation)
        self.hpc.started(node.id)
        self._start_monitor(workflow.resource_monitor)
        self.exchange = Exchange()
        self.guard = Guard()
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
            self.exchange.close()
            self.guard.close()
            self.hpc.finished()
            self._shutdown()
            self.launcher.close()
        return self.summary

    def _announce(self, workflow: c.Workflow) -> None:
        t = self.total
        mode = (f"up to {count(self.opts.max_parallel_jobs, 'job')} at a time" if self.opts.max_parallel_jobs
                else f"{count(t.cpus, 'CPU')}, {t.memory_bytes / GIB:.1f} GiB memory, {count(t.gpus, 'GPU')}")  # fmt: skip
        self.reporter.message(f"runner {self.summary.compute_node_id} for workflow {workflow.id} "
                              f"({workflow.name}): {mode}")  # fmt: skip
        for line in self.launcher.describe():
            self.reporter.message(line)
        for said in hardware.overstated(self.opts.num_cpus, self.opts.memory_gb, self.opts.num_gpus):
            self.reporter.message(f"warning: {said}; jobs sized to it will compete for what is really there")
        # With --max-parallel-jobs requirements are ignored, so every job can run here.
        self.summary.unfit = [] if self.opts.max_parallel_jobs else self._unfit()
        for group in self.summary.unfit:
            self.reporter.message(unfit_text(group))

    def _choose_launcher(self, workflow: c.Workflow) -> None:
        """Choose how jobs are launched and confined (`runner.launch`), once (`_announce` says which)."""
        self.launcher = launch.choose(workflow, self.total.gpus, self.opts.enforce_memory, self.opts.memory_limits,
                                      self.allocation, self.opts.max_parallel_jobs)  # fmt: skip
        # Where neither the kernel nor Slurm holds jobs to their memory requests, the monitor's samples do.
        self._sampler_limits = self.opts.enforce_memory and not self.launcher.enforces_memory

    def _start_monitor(self, config: c.ResourceMonitorConfig) -> None:
        """Sample the jobs' resources if the workflow asks for it, or to enforce memory requests by sampling."""
        self.measuring = config.enabled or self.opts.enforce_memory
        if not (config.enabled or self._sampler_limits) or not self.launcher.measures_job:
            return
        interval = config.sample_interval_seconds
        if self._sampler_limits:
            interval = min(interval, launch.ENFORCE_SAMPLE_SECONDS)
            if not config.enabled:
                self.reporter.message("the workflow's resource monitor is off: sampling only to enforce memory")
        series = config.sample_interval_seconds if config.enabled and config.granularity == "time_series" else None
        self.monitor = ResourceMonitor(interval, series)
        self.monitor.start()

    def _shutdown(self) -> None:
        if self.monitor:
            self.monitor.stop()
        try:
            self.client.deactivate_compute_node(self.summary.compute_node_id)
            self.summary.workflow_status = self.client.workflow_status(self.workflow_id)
            if self.summary.unfit:  # only the jobs still waiting now: another runner may have run the rest
                self.summary.unfit = self.client.unfit(self.workflow_id, *self._capacity_now())
        except errors.ApiError as error:
            self.reporter.message(f"could not sign off from the server: {error.message}")

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stop_signal is not None and signum == signal.SIGINT:
            self._hurry = True  # a second Ctrl-C: `_stop_all` kills the jobs without their grace period
        self.stop_signal = self.stop_signal or signum

    # --- the loop --------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            dead = self.guard.revive()
            if dead is not None:
                self.reporter.message(f"the job guard (pid {dead}) died: a new one (pid {self.guard.pid}) watches "
                                      f"{count(len(self.running), 'running job')}")  # fmt: skip
            self._collect()
            answer = self.exchange.answer()
            if answer is not None:
                self._receive(answer)
            reason = self._stop_reason(answer)
            if reason:
                # Out of time, or SIGTERM in an allocation (Slurm ending or cancelling it): the jobs did nothing
                # wrong, so they go back to the queue for the next allocation.
                ending = self.allocation is not None and self.stop_signal == signal.SIGTERM
                self.summary.allocation_ended = ending
                self._stop_all(reason, give_back=reason == OUT_OF_TIME or ending)
                return
            self._launch()
            if not self.exchange.busy:
                request = self._next_request()
                if request is not None:
                    self.exchange.send(self._call, self.client.claim, self.workflow_id, request)
                elif self._idle_answer is not None and not self.running and not self.backlog:
                    answer, self._idle_answer = self._idle_answer, None
                    if self._should_exit(answer):
                        return
            self._wait(self._next_wake())

    def _receive(self, answer: c.ClaimResponse) -> None:
        """Take in an answer: new jobs join the backlog; refused reports are told (and their jobs stopped)."""
        if self._sent_at is not None:
            self.pace.exchanged(time.monotonic() - self._sent_at)
        self._last_contact = time.monotonic()
        self._come_back = answer.next_exchange_seconds
        self.hpc.tick()
        if answer.jobs:
            self._idle_since = None
        self.backlog.extend(answer.jobs)
        for rejection in self._note_rejections(answer.report.rejected if answer.report else []):
            proc = self.running.get(rejection.job_id)
            if proc is not None:
                proc.stop("the server no longer assigns this job to this runner", self.opts.kill_grace)
        if self._asked and len(answer.jobs) < self._asked:
            # The queue ran dry: claim again after the poll interval, or with the next report.
            self._claim_after = time.monotonic() + self.opts.poll_interval
            if not answer.jobs:
                self._idle_answer = answer

    def _next_request(self) -> c.ClaimRequest | None:
        """What to tell the server now: reports, a claim, or a heartbeat; None when there is nothing to say."""
        now = time.monotonic()
        # Finished jobs may release others: a report always claims too, in the same request.
        want_now, want_later = (wanted(self.pace, self.opts.max_parallel_jobs, len(self.running), len(self.backlog),
                                       self.free, self._come_back)
                                if now >= self._claim_after or self.outcomes else (0, 0))  # fmt: skip
        heartbeat = now - self._last_contact >= self._heartbeat()
        news = self.starts or self.outcomes or self.given_back or want_now or want_later
        # The server's pace holds news back (the backlog covers the wait), not a heartbeat.
        if not ((news and exchange_due(self._last_contact, self._come_back, now)) or heartbeat):
            return None
        free = self.free
        request = c.ClaimRequest(
            compute_node_id=self.summary.compute_node_id, limit=want_now, backlog=want_later,
            num_cpus=max(free.cpus, 0), memory_gb=max(free.memory_bytes, 0) / GIB, num_gpus=max(free.gpus, 0),
            num_nodes=free.nodes, time_limit_seconds=self._time_left(),
            ignore_resources=bool(self.opts.max_parallel_jobs),
            starts=list(self.starts.values()), outcomes=self.outcomes, returned=self.given_back,
            request_id=uuid.uuid4().hex,
        )  # fmt: skip
        self.starts, self.outcomes, self.given_back = {}, [], []
        self._asked = want_now + want_later
        self._sent = request
        self._sent_at = now
        return request

    def _heartbeat(self) -> float:
        """Longest silence: the runner's own interval, or the server's pace when longer (it stays within the lease)."""
        return heartbeat_seconds(min(self.lease_seconds / 3, HEARTBEAT_SECONDS), self._come_back)

    def _note_rejections(self, rejections: list[c.Rejection]) -> list[c.Rejection]:
        for rejection in rejections:
            self.reporter.message(f"the server refused the report of job {rejection.job_id}: {rejection.reason}")
        return rejections

    def _next_wake(self) -> float:
        """How long the loop may sleep when no job exits and no answer comes."""
        now = time.monotonic()
        if self.exchange.busy:  # the answer wakes the loop; nothing else can be sent before it
            return min(self.opts.poll_interval, self.end_time - now) if self.end_time else self.opts.poll_interval
        if self.starts or self.outcomes:
            return max(self._last_contact + (self._come_back or 0.0) - now, 0.0)
        beat = self._last_contact + self._heartbeat() - now
        wake = min(self._claim_after - now if self._claim_after > now else self.opts.poll_interval, beat)
        if self.end_time is not None:
            wake = min(wake, self.end_time - now)
        return max(wake, 0.0)

    def _wait(self, timeout: float) -> None:
        """Sleep until a job exits, an answer comes, or `timeout` passes (pidfds make the wake-up immediate)."""
        exchange = getattr(self, "exchange", None)
        wait_for_exit(self.running.values(), timeout, exchange.fileno() if exchange and exchange.busy else None)

    def _call(self, method, *args):
        return patiently(method, *args, say=self.reporter.message, stopping=lambda: self.stop_signal is not None,
                         wait_seconds=getattr(self, "db_wait", SERVER_WAIT_SECONDS))  # fmt: skip

    def _node_record(self) -> c.ComputeNodeCreate:
        t = self.total
        return c.ComputeNodeCreate(workflow_id=self.workflow_id, hostname=socket.gethostname(), pid=os.getpid(),
                                   num_cpus=t.cpus, memory_gb=round(t.memory_bytes / GIB, 3), num_gpus=t.gpus,
                                   num_nodes=t.nodes,
                                   time_limit=f"PT{int(self.opts.time_limit)}S" if self.opts.time_limit else None,
                                   compute_node_type="slurm" if self.allocation else "local",
                                   scheduler_id=self.allocation.job_id if self.allocation else None,
                                   output_dir=str(Path(self.opts.output_dir).resolve()))  # fmt: skip

