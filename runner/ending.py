"""How a runner stops: why it stops, stopping its jobs, its last report, and when an idle runner leaves.

`JobRunner` inherits these; they read and change its state (`running`, `backlog`, `summary`, ...).
"""

from __future__ import annotations

import signal
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from runner.report import unfit_text
from torc_client import contract as c
from torc_client.core import allocations, errors
from torc_client.core.resources import GIB
from torc_client.core.units import count

if TYPE_CHECKING:
    from runner.process import JobProcess

#: Why a runner stops at its time limit (or its allocation's end): its running jobs go back to the queue.
OUT_OF_TIME = "the runner's time limit was reached"
#: Seconds the "nothing can progress" condition must hold before the runner gives up.
STUCK_CONFIRM_SECONDS = 2.0


class Ending:
    """The stopping half of `JobRunner`."""

    running: dict[int, JobProcess]
    _hurry: bool
    _sent: Any

    def _stop_reason(self, answer: c.ClaimResponse | None) -> str | None:
        if self.stop_signal is not None:
            self.summary.interrupted = True
            return f"the runner received {signal.Signals(self.stop_signal).name}"
        if self.end_time is not None and time.monotonic() >= self.end_time:
            return OUT_OF_TIME
        if answer is not None and answer.is_canceled:
            self.summary.canceled = True
            return "the workflow was canceled"
        return None

    def _stop_all(self, reason: str, report: bool = True, give_back: bool = False) -> None:
        """Stop every running job (SIGTERM, grace period, SIGKILL) and report them terminated, or with
        `give_back` (the allocation ends) return them to the queue: then a job that supports termination gets
        SIGTERM and the grace period to save its work, and the others SIGKILL; give the backlog back."""
        if self.running:
            verb = "stopping and returning" if give_back else "terminating"
            self.reporter.message(f"{verb} {count(len(self.running), 'running job')}: {reason}")
        for proc in self.running.values():
            proc.stop(reason, self.opts.kill_grace, give_back, kill=give_back and not proc.job.supports_termination)
        self._settle_in_flight()
        hurried = False
        while self.running:
            self._collect()
            if self._hurry and not hurried and self.running:
                hurried = True
                self.reporter.message(f"interrupted again: killing {count(len(self.running), 'running job')} now")
                for proc in self.running.values():
                    proc.kill_now()
            for proc in self.running.values():
                proc.enforce(time.monotonic(), self.opts.kill_grace)
            self._wait(0.05)
        if report:
            self._report_final()

    def _settle_in_flight(self) -> None:
        """Take the answer of the request in flight; if it failed, its reports go out again with the last one."""
        if not self.exchange.busy:
            return
        sent = self._sent
        try:
            answer = self.exchange.answer(wait=True)
        except errors.ApiError as error:
            self.reporter.message(f"the last request failed: {error.message}")
            finished = {o.job_id for o in self.outcomes}
            self.outcomes = sent.outcomes + self.outcomes
            self.given_back = sent.returned + self.given_back
            self.starts = {**{j.job_id: j for j in sent.starts if j.job_id not in finished}, **self.starts}
            return
        self.backlog.extend(answer.jobs)

    def _report_final(self) -> None:
        """Report what finished and return the backlog unstarted, so other runners can take it at once."""
        returned = self.given_back + [c.JobStart(job_id=j.id, claim_token=j.claim_token) for j in self.backlog]
        if not (self.outcomes or self.starts or returned):
            return
        report = c.CompleteReport(compute_node_id=self.summary.compute_node_id, outcomes=self.outcomes,
                                  starts=list(self.starts.values()), returned=returned)  # fmt: skip
        answer = self._call(self.client.report_complete, self.workflow_id, report)
        self.outcomes, self.starts, self.backlog, self.given_back = [], {}, deque(), []
        self._note_rejections(answer.rejected)
        if returned:
            self.reporter.message(f"returned {len(returned)} claimed jobs to the queue")

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
            return self._waited_out()
        now = time.monotonic()
        self._stuck_since = self._stuck_since or now
        if now - self._stuck_since < STUCK_CONFIRM_SECONDS:
            return False
        if self._another_allocation_coming():
            return self._waited_out()
        self.summary.unfit = self._unfit()
        self.reporter.message("no job can run: nothing is running anywhere and no ready job fits this runner")
        for group in self.summary.unfit:
            self.reporter.message(unfit_text(group))
        return True

    def _waited_out(self) -> bool:
        """In an allocation, an idle runner leaves after the workflow's `compute_node_wait_for_new_jobs_seconds`."""
        if self.allocation is None:
            return False
        now = time.monotonic()
        self._idle_since = self._idle_since or now
        if now - self._idle_since < self.idle_limit:
            return False
        self.reporter.message(f"no new job for {self.idle_limit:.0f} s while others work: giving the allocation back")
        self.summary.handed_over = True
        return True

    def _another_allocation_coming(self) -> bool:
        """In an allocation: is another allocation of this workflow queued or running, to take what this one can't?

        A staged workflow asks for the next stage's allocation when that stage's jobs become
        ready, and those jobs may not fit this one (another shape, or more time than it has
        left). This runner then waits as an idle one does and leaves with exit code 0: the
        work is not abandoned (exit 2), another allocation has it.
        """
        if self.allocation is None:
            return False
        others = self._call(self.client.list_scheduled_compute_nodes, self.workflow_id)
        return any(n.status in allocations.LIVE and n.scheduler_id != self.allocation.job_id for n in others)

    def _unfit(self) -> list[c.UnfitGroup]:
        return self._call(self.client.unfit, self.workflow_id, *self._capacity_now())

    def _time_left(self) -> float | None:
        """Seconds until this runner must stop (its allocation's end minus the end buffer); None without a limit."""
        return None if self.end_time is None else max(self.end_time - time.monotonic(), 0.0)

    def _outlasts(self, job: c.ClaimedJob) -> bool:
        """A job whose declared runtime no longer fits the time left (it waited in the backlog meanwhile)."""
        left = self._time_left()
        return left is not None and job.runtime_s > left

    def _capacity_now(self) -> tuple[int, float, int, int, float | None]:
        t = self.total
        return t.cpus, t.memory_bytes / GIB, t.gpus, t.nodes, self._time_left()
