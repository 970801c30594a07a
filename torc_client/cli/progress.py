"""What `torc run` shows while it runs, and the lines it ends with (all on stderr).

On a terminal: a live progress bar with this runner's counts, failures printed as they
happen. Otherwise: the runner's plain timestamped lines (`runner.loop.PlainReporter`).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from runner.loop import PlainReporter, Reporter, RunSummary
from torc_client import contract as c
from torc_client.cli import render
from torc_client.core import states
from torc_client.core.units import count

_FLAG_RE = re.compile(r"\((--[a-z-]+) ([^()\s]+)\)")


def _done(job_counts: dict[str, int]) -> int:
    return sum(n for status, n in job_counts.items() if status in states.DONE)


class LiveReporter:
    """A rich progress bar for one workflow; failures and runner messages print above it."""

    def __init__(self, status: c.WorkflowStatus) -> None:
        self.workflow_id = status.workflow_id
        self.total = status.num_jobs
        self.base_done = _done(status.job_counts)
        self.here: Counter[str] = Counter()  # what this runner finished, by status
        self.since = 0  # jobs finished here since the last status from the server
        self.running = 0
        self.bar = Progress(SpinnerColumn(), TextColumn("workflow {task.fields[wid]}"), BarColumn(),
                            MofNCompleteColumn(), TextColumn("{task.fields[counts]}"), TimeElapsedColumn(),
                            console=render.console(stderr=True))  # fmt: skip
        self.task = self.bar.add_task("run", total=self.total, completed=self.base_done, wid=self.workflow_id,
                                      counts="")  # fmt: skip

    def __enter__(self) -> LiveReporter:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._refresh()
        self.bar.stop()

    def message(self, text: str) -> None:
        self.bar.console.print(Text(f"{datetime.now():%H:%M:%S} {text}"))

    def started(self, jobs: list[c.ClaimedJob]) -> None:
        self.running += len(jobs)
        self._refresh()

    def finished(self, job: c.ClaimedJob, outcome: c.JobOutcome, note: str) -> None:
        self.running -= 1
        self.here[outcome.status] += 1
        self.since += 1
        if outcome.status != states.S.COMPLETED:
            detail = f": {note}" if note else ""
            self.bar.console.print(Text(f"{datetime.now():%H:%M:%S} {outcome.status} {job.name} (job {job.id}) "
                                        f"return code {outcome.return_code}{detail}", style="red"))  # fmt: skip
        self._refresh()

    def progress(self, status: c.WorkflowStatus) -> None:
        """A fresh status from the server: the bar restarts from its count of finished jobs."""
        self.total = status.num_jobs
        self.base_done = _done(status.job_counts)
        self.since = 0
        self._refresh()

    def _refresh(self) -> None:
        counts = [f"{self.running} running"] + [f"{n} {s}" for s, n in sorted(self.here.items())]
        done = min(self.base_done + self.since, self.total)
        self.bar.update(self.task, total=self.total, completed=done, counts=" · ".join(counts))


@contextmanager
def reporter_for(status: c.WorkflowStatus) -> Iterator[Reporter]:
    """The live reporter when stderr is a terminal, else plain timestamped lines."""
    if not render.console(stderr=True).is_terminal:
        yield PlainReporter()
        return
    with LiveReporter(status) as reporter:
        yield reporter


def summary_line(summary: RunSummary, elapsed: float) -> str:
    """`workflow 3: 3 completed, 0 failed, 0 canceled in 4.2 s`, from the workflow's final job counts.

    Jobs stopped by a signal or their time limit are `terminated`, not failed: they are counted apart.
    """
    status = summary.workflow_status
    counts = status.job_counts if status else summary.counts
    failed = counts.get("failed", 0) + counts.get("pending_failed", 0)
    terminated = f"{counts['terminated']} terminated, " if counts.get("terminated") else ""
    text = (f"workflow {summary.workflow_id}: {counts.get('completed', 0)} completed, {failed} failed, "
            f"{terminated}{counts.get('canceled', 0)} canceled")  # fmt: skip
    unfinished = sum(n for s, n in counts.items() if s not in states.DONE and s != "pending_failed")
    if status and unfinished:
        text += f", {unfinished} not finished"
    if summary.interrupted:
        text += " (interrupted)"
    elif summary.handed_over and unfinished:
        text += " (left to other runners)"
    elif summary.canceled:
        text += " (workflow canceled)"
    return f"{text} in {elapsed:.1f} s"


def rerun_flags(groups: list[c.UnfitGroup]) -> str:
    """The flags that would let every unfit job run, e.g. `--num-cpus 8 --num-gpus 2`."""
    flags: dict[str, str] = {}
    for group in groups:
        for shortfall in group.shortfalls:
            for flag, value in _FLAG_RE.findall(shortfall):
                flags[flag] = _larger(flags.get(flag), value)
    return " ".join(f"{flag} {value}" for flag, value in flags.items())


def _larger(old: str | None, new: str) -> str:
    try:
        return new if old is None or float(new) > float(old) else old
    except ValueError:
        return old or new


def print_summary(summary: RunSummary, elapsed: float) -> None:
    """The closing lines of `torc run` on stderr: the summary, then how to run the jobs still waiting for a bigger runner.

    The runner named those jobs when it started; `summary.unfit` holds only those still unfinished at the end
    (another runner may have run them), so nothing is said when nothing is left.
    """
    render.message(summary_line(summary, elapsed))
    flags = rerun_flags(summary.unfit)
    if flags:
        waiting = sum(group.num_jobs for group in summary.unfit)
        render.message(f"{count(waiting, 'job')} could not run on this runner; to run {'it' if waiting == 1 else 'them'}, "
                       f"start a runner with: torc run {summary.workflow_id} {flags}")  # fmt: skip


@contextmanager
def creation_progress(spec_file: str) -> Iterator[Callable[[c.Creation], None]]:
    """A progress callback for creating a workflow: a bar on a terminal, else a line every 10 s once it takes a while.

    Nothing is shown for a creation that is over within a second or two.
    """
    console = render.console(stderr=True)
    if not console.is_terminal:
        last = [time.monotonic()]

        def line(creation: c.Creation) -> None:
            if time.monotonic() - last[0] >= PLAIN_PROGRESS_SECONDS:
                last[0] = time.monotonic()
                render.message(f"creating from {spec_file}: {_creation_text(creation)}")

        yield line
        return
    bar = Progress(SpinnerColumn(), TextColumn("creating from {task.fields[spec]}: {task.fields[stage]}"), BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True)  # fmt: skip
    task = bar.add_task("create", total=None, spec=spec_file, stage="checking the spec")
    started = False

    def show(creation: c.Creation) -> None:
        nonlocal started
        if not started:
            bar.start()
            started = True
        stage = "storing jobs" if creation.stage == "inserting" else "checking the spec"
        bar.update(task, total=creation.total or None, completed=creation.done, stage=stage)

    try:
        yield show
    finally:
        if started:
            bar.stop()


#: Without a terminal, how often a long creation says how far it is.
PLAIN_PROGRESS_SECONDS = 10.0


def _creation_text(creation: c.Creation) -> str:
    if creation.stage == "inserting":
        return f"{creation.done:,} of {count(creation.total, 'job')} stored"
    return "checking the spec"
