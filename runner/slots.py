"""The jobs on a runner's slots: backlog jobs launched, in order, as they fit; exited ones reaped, their resources
freed and their outcomes (or their return, at an allocation's end) queued for the next report.

`JobRunner` inherits these; they read and change its state (`backlog`, `running`, `free`, `starts`, `outcomes`,
`given_back`, `summary`, ...), and the loop runs them between its exchanges with the server.
"""

from __future__ import annotations

import resource
import signal
import time
from collections import deque
from typing import Any

from runner import attempt, memory, outputs, stdio
from runner.monitor import ResourceMonitor, Usage, figures
from runner.process import Environment, JobProcess, command_of, log_paths, shape_of
from torc_client import contract as c
from torc_client.core.resources import Capacity, how_many_fit, take


class Slots:
    """The job-process half of `JobRunner`: launching and reaping."""

    backlog: deque[c.ClaimedJob]
    running: dict[int, JobProcess]
    free: Capacity
    starts: dict[int, c.JobStart]
    outcomes: list[c.JobOutcome]
    given_back: list[c.JobStart]
    monitor: ResourceMonitor | None
    _env: Environment | None
    _sampler_limits: bool
    launcher: Any

    def _launch(self) -> None:
        """Start backlog jobs, in order, while they fit (the loop runs this after every exit: it stops early)."""
        if not self.backlog or not self._room():
            return
        launched, waiting = [], deque()
        while self.backlog and self._room():
            job = self.backlog.popleft()
            if self._outlasts(job):  # certain to be stopped at the end: another runner with more time takes it
                self.given_back.append(c.JobStart(job_id=job.id, claim_token=job.claim_token))
                continue
            if not self._fits(job):
                waiting.append(job)
                continue
            outputs.make_directories(job, self.cwd)
            argv, env = self.launcher.start(job, command_of(job), self._environment(job))
            try:
                proc = JobProcess.launch(job, argv, env, self.cwd, self.opts.output_dir, guard=self.guard,
                                         config=stdio.of(job, self.stdio))  # fmt: skip
            except (OSError, ValueError) as error:  # ValueError: an environment the system refuses (a NUL in it)
                self.launcher.end(job, attempt.NOT_STARTED_CODE, log_paths(self.opts.output_dir, job)[1])  # GPUs, cgroup
                self._not_started(job, error)
                continue
            proc.on_signal = lambda sig, job=job: self.launcher.signal(job, sig)
            self.running[job.id] = proc
            self.free = take(self.free, shape_of(job), 1)
            self.starts[job.id] = c.JobStart(job_id=job.id, claim_token=job.claim_token)
            if self.monitor:
                self.monitor.watch(job.id, proc.popen.pid, memory.limit_of(job) if self._sampler_limits else None)
            launched.append(job)
        waiting.extend(self.backlog)
        self.backlog = waiting
        if launched:
            self.pace.running(len(self.running))
            self.reporter.started(launched)

    def _room(self) -> bool:
        """Whether any job could start now."""
        if self.opts.max_parallel_jobs:
            return len(self.running) < self.opts.max_parallel_jobs
        return self.free.cpus > 0 or not self.running

    def _fits(self, job: c.ClaimedJob) -> bool:
        if self.opts.max_parallel_jobs:
            return True
        return how_many_fit(shape_of(job), self.free) > 0

    def _environment(self, job: c.ClaimedJob) -> dict[str, str]:
        if self._env is None:
            self._env = Environment(self.client.url, self.opts.output_dir, self.summary.compute_node_id)
        return self._env.for_job(job)

    def _collect(self) -> None:
        """Reap exited jobs: free their resources and queue their outcomes for the next report."""
        now = time.monotonic()
        for proc in list(self.running.values()):
            proc.enforce(now, self.opts.kill_grace)
            code = proc.poll()
            if code is None:
                continue
            seen = self.launcher.end(proc.job, code, proc.stderr_path)
            code = code if seen.code is None else seen.code
            usage = self.monitor.forget(proc.job.id) if self.monitor else Usage()
            # In an allocation, a SIGTERM the runner did not send is Slurm ending or cancelling it.
            ended = self.allocation is not None and code == -signal.SIGTERM and proc.stop_reason is None
            if proc.give_back or ended:  # no outcome: the job did nothing wrong, another runner starts it afresh
                self.starts.pop(proc.job.id, None)
                self.given_back.append(c.JobStart(job_id=proc.job.id, claim_token=proc.job.claim_token,
                                                  return_code=code,
                                                  exec_time_minutes=(time.monotonic() - proc.started) / 60.0))
                self._release(proc)
                continue
            oom = None if proc.stop_reason else memory.out_of_memory_text(proc.job, code, seen, usage.over_limit_bytes)
            if oom is not None:
                self.reporter.message(oom)
            measures = self._measures(proc, usage, seen.peak_bytes)
            outcome, note = attempt.outcome(proc, code, measures, self.cwd, self._environment, oom)
            self.pace.finished(time.monotonic() - proc.started)
            # A start not reported yet goes unsaid: the outcome moves the job on from pending.
            self.starts.pop(proc.job.id, None)
            self.outcomes.append(outcome)
            if outcome.status == "completed" and proc.streams is not None:
                stdio.after_success(proc.streams)
            self._release(proc)
            key = "retried" if outcome.retry else outcome.status
            self.summary.counts[key] = self.summary.counts.get(key, 0) + 1
            self.reporter.finished(proc.job, outcome, note)

    def _not_started(self, job: c.ClaimedJob, error: OSError | ValueError) -> None:
        """A job the system would not start fails with the reason; the others go on."""
        outcome, note = attempt.not_started(job, error, self.opts.output_dir)
        self.outcomes.append(outcome)
        self.summary.counts["failed"] = self.summary.counts.get("failed", 0) + 1
        self.reporter.finished(job, outcome, note)

    def _measures(self, proc: JobProcess, usage: Usage, peak_bytes: int | None) -> dict:
        """A finished job's peak and average CPU and memory (and its samples with `granularity: time_series`)."""
        if not self.measuring:
            return {}
        rusage = proc.rusage if self.launcher.measures_job else None
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # what every job's process starts as
        measures = figures(usage, time.monotonic() - proc.started, rusage, peak_bytes, own)
        if usage.series is not None and usage.series.points:
            measures["samples"] = usage.series.wire()
        return measures

    def _release(self, proc: JobProcess) -> None:
        proc.close()
        del self.running[proc.job.id]
        self.free = take(self.free, shape_of(proc.job), -1)
