"""What the console's actions change, said before they change it, then done through the client.

Each action has a preview, read from the server and changing nothing, that says exactly what
will change; the console shows it for confirmation and only then calls `carry_out`. Both run
in a worker thread, never on the console's event loop.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from torc_client.client import Client
from torc_client.contract import JobsResetResult
from torc_client.core import states
from torc_client.core.units import count
from torc_client.hpc import submission
from torc_client.operations import recovery
from torc_client.watching import launch

#: Job statuses that `reset` puts back (the server's failed-only reset), with everything downstream of them.
RESET_STATUSES = tuple(sorted(s.value for s in states.UPSTREAM_FAILURES))


@dataclass
class Target:
    """The workflow the actions act on, and the local runner the console started, if any."""

    client: Client
    workflow_id: int
    output_dir: Path
    runner: subprocess.Popen | None = None


@dataclass(frozen=True)
class Proposal:
    """What an action will change, in words; `possible` is False when there is nothing it can do."""

    title: str
    lines: tuple[str, ...]
    possible: bool = True


@dataclass(frozen=True)
class Action:
    key: str
    name: str
    preview: Callable[[Target], Proposal]
    carry_out: Callable[[Target], str]
    description: str = field(default="")


def _active(target: Target) -> int:
    counts = target.client.workflow_status(target.workflow_id).job_counts
    return counts.get("running", 0) + counts.get("pending", 0)


# --- run a local runner ----------------------------------------------------------------


def preview_run(target: Target) -> Proposal:
    if target.runner is not None and target.runner.poll() is None:
        return Proposal("Run here", (f"A runner started here is still running (pid {target.runner.pid}).",), False)
    status = target.client.workflow_status(target.workflow_id)
    lines = [] if status.is_initialized else [f"Initialise workflow {target.workflow_id} (it has not run yet)."]
    lines.append(f"Start `torc run {target.workflow_id}` on this machine with its free CPUs, memory and GPUs; "
                 f"it runs ready jobs until none are left.")  # fmt: skip
    lines.append(f"Job logs go to {target.output_dir}; the runner's own to "
                 f"{launch.log_path(target.output_dir, target.workflow_id).name} there.")  # fmt: skip
    return Proposal("Run here", tuple(lines))


def run_here(target: Target) -> str:
    if not target.client.get_workflow(target.workflow_id).is_initialized:
        target.client.initialize_workflow(target.workflow_id)
    target.runner = launch.start_runner(target.client, target.workflow_id, target.output_dir, {})
    return f"Runner started (pid {target.runner.pid})."


# --- submit to Slurm --------------------------------------------------------------------


def preview_submit(target: Target) -> Proposal:
    found = submission.plan(target.client, target.workflow_id, target.output_dir)
    lines = found.lines() + [f"Batch scripts and Slurm logs go to {target.output_dir}."]
    return Proposal("Submit to Slurm", tuple(lines), found.problem is None and bool(found.start_actions or found.extra))


def submit_to_slurm(target: Target) -> str:
    said: list[str] = []
    ids = submission.submit(target.client, target.workflow_id, target.output_dir, said.append)
    if not ids:
        return "Nothing submitted" + (f": {said[-1]}" if said else ".")
    return f"Submitted Slurm allocation{'s' if len(ids) != 1 else ''} {', '.join(ids)}."


# --- cancel ------------------------------------------------------------------------------


def preview_cancel(target: Target) -> Proposal:
    status = target.client.workflow_status(target.workflow_id)
    if status.is_canceled:
        return Proposal("Cancel", (f"Workflow {target.workflow_id} is already canceled.",), False)
    active = _active(target)
    left = sum(n for s, n in status.job_counts.items() if s not in states.DONE)
    return Proposal("Cancel", (
        f"Cancel workflow {target.workflow_id}: no job starts any more.",
        f"Runners stop its {count(active, 'pending or running job')}; {count(left, 'unfinished job')} in all "
        "will not finish in this run.",
    ))  # fmt: skip


def cancel(target: Target) -> str:
    target.client.cancel_workflow(target.workflow_id)
    return f"Workflow {target.workflow_id} canceled."


# --- reinitialize ------------------------------------------------------------------------


def preview_reinitialize(target: Target) -> Proposal:
    if not target.client.get_workflow(target.workflow_id).is_initialized:
        return Proposal("Reinitialize", ("The workflow has not run yet: use run (r) to start it.",), False)
    result = target.client.reinitialize_workflow(target.workflow_id, dry_run=True)
    if not result.jobs:
        return Proposal("Reinitialize", ("Nothing changed or failed: no job would run again.",), False)
    lines = [f"Start run {result.run_id + 1}: {count(len(result.jobs), 'job')} run again:"]
    lines += [f"  {r.job_id} {r.job_name} ({r.status}): {'; '.join(r.reasons)}" for r in result.jobs[:15]]
    if len(result.jobs) > 15:
        lines.append(f"  … {len(result.jobs) - 15:,} more")
    return Proposal("Reinitialize", tuple(lines), _active(target) == 0)


def reinitialize(target: Target) -> str:
    result = target.client.reinitialize_workflow(target.workflow_id)
    return f"Run {result.run_id}: {count(len(result.jobs), 'job')} will run again (r runs them here)."


# --- recover -----------------------------------------------------------------------------


def preview_recover(target: Target) -> Proposal:
    try:
        plan = recovery.diagnose(target.client, target.workflow_id)
    except recovery.RecoveryError as error:
        return Proposal("Recover", (str(error),), False)
    if plan.problem is not None:
        return Proposal("Recover", (plan.problem,), False)
    return Proposal("Recover", ("Give failed jobs what they ran out of, then start a new run:", *plan.describe()))


def recover(target: Target) -> str:
    outcome = recovery.apply(target.client, recovery.diagnose(target.client, target.workflow_id),
                             output_dir=target.output_dir)  # fmt: skip
    where = f"allocations {', '.join(outcome.allocations)} submitted" if outcome.allocations else "r runs them here"
    return f"Recovered: {count(outcome.rerun, 'job')} will run again; {where}."


# --- reset failed jobs -------------------------------------------------------------------


def preview_reset(target: Target) -> Proposal:
    status = target.client.workflow_status(target.workflow_id)
    seeds = {s: status.job_counts.get(s, 0) for s in RESET_STATUSES if status.job_counts.get(s, 0)}
    if not seeds:
        return Proposal("Reset failed jobs", ("No failed, canceled or terminated job to reset.",), False)
    listed = ", ".join(f"{n:,} {s}" for s, n in seeds.items())
    return Proposal("Reset failed jobs", (
        f"Put back to uninitialized: {listed} job(s), and every job downstream of them.",
        f"Then start run {status.run_id + 1} that runs them again (r runs it here).",
        "This resets all jobs with these statuses; X resets only the job under the cursor, or those marked with space.",
    ), _active(target) == 0)  # fmt: skip


def reset_failed(target: Target) -> str:
    reset = target.client.reset_workflow_status(target.workflow_id, failed_only=True)
    result = target.client.reinitialize_workflow(target.workflow_id)
    return f"Reset {count(reset.updated_count, 'job')}; run {result.run_id} will run them (r runs them here)."


# --- reset chosen jobs ------------------------------------------------------------------

#: Jobs a preview names one by one; beyond that it counts them.
LISTED = 15


@dataclass(frozen=True)
class Choice:
    """Which jobs to reset: these ids (X), or every job with a status or a latest return code (R)."""

    job_ids: tuple[int, ...] = ()
    status: str | None = None
    return_code: int | None = None

    def title(self) -> str:
        if self.job_ids:
            return f"Reset {count(len(self.job_ids), 'chosen job')}"
        return f"Reset jobs with {self._said()}"

    def _said(self) -> str:
        return f"status {self.status}" if self.status is not None else f"return code {self.return_code}"

    def command(self, workflow_id: int) -> str:
        chosen = " ".join(map(str, self.job_ids)) if self.job_ids else (
            f"--status {self.status}" if self.status is not None else f"--return-code {self.return_code}")
        return f"torc jobs reset-status {workflow_id} {chosen} -r"

    def reset(self, target: Target, **options: bool) -> JobsResetResult:
        return target.client.reset_job_status(target.workflow_id, list(self.job_ids), status=self.status,
                                              return_code=self.return_code, **options)  # fmt: skip

    def nothing(self) -> str:
        if self.job_ids:
            return "Nothing to reset: the chosen jobs have not run (they are uninitialized)."
        return f"Nothing to reset: no job that has run has {self._said()}."


def preview_reset_jobs(target: Target, choice: Choice) -> Proposal:
    """The chosen jobs and their downstream jobs, by name and id, as the server would reset them (a dry run)."""
    title = choice.title()
    if not target.client.get_workflow(target.workflow_id).is_initialized:
        return Proposal(title, ("The workflow has not run yet: use run (r) to start it.",), False)
    result = choice.reset(target, dry_run=True)
    if not result.reset_job_ids:
        return Proposal(title, (choice.nothing(),), False)
    chosen = [j for j in result.reset_job_ids if j in set(result.selected_job_ids)]
    downstream = [j for j in result.reset_job_ids if j not in set(result.selected_job_ids)]
    lines = [f"Put back to uninitialized {count(len(chosen), 'chosen job')}:", *_named(target, chosen)]
    if downstream:
        lines += [f"and {count(len(downstream), 'job')} downstream of them, reset too:", *_named(target, downstream)]
    else:
        lines.append("No job downstream of them needs resetting.")
    lines += [f"Then start a new run (like `{choice.command(target.workflow_id)}`) in which only these jobs "
              "run again; r runs it here.",
              "Every other job, failed ones included, keeps its status and results."]  # fmt: skip
    return Proposal(title, tuple(lines), _active(target) == 0)


def _named(target: Target, job_ids: list[int]) -> list[str]:
    lines = []
    for job_id in job_ids[:LISTED]:
        job = target.client.get_job(job_id)
        lines.append(f"  {job.id} {job.name} ({job.status})")
    if len(job_ids) > LISTED:
        lines.append(f"  … {len(job_ids) - LISTED:,} more")
    return lines


def reset_jobs(target: Target, choice: Choice) -> str:
    result = choice.reset(target, reinitialize=True)
    run = f"run {result.reinitialized.run_id}" if result.reinitialized is not None else "a new run"
    return f"Reset {count(result.updated_count, 'job')}; {run} will run them (r runs them here)."


def reset_chosen(choice: Choice) -> Action:
    """The action behind X and R: reset exactly the chosen jobs and their downstream jobs, then a run of them."""
    return Action("X", "reset chosen", lambda t: preview_reset_jobs(t, choice), lambda t: reset_jobs(t, choice))


def parse_choice(text: str) -> Choice:
    """What R's box means: a number is a return code, a word a status (ValueError if it is neither)."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        return Choice(return_code=int(text))
    return Choice(status=states.parse(text).value)


ACTIONS: tuple[Action, ...] = (
    Action("r", "run here", preview_run, run_here, "start a local runner (initialising first if needed)"),
    Action("S", "submit to Slurm", preview_submit, submit_to_slurm, "submit the workflow's Slurm allocations"),
    Action("c", "cancel", preview_cancel, cancel, "cancel the workflow"),
    Action("i", "reinitialize", preview_reinitialize, reinitialize, "rerun what changed or failed"),
    Action("v", "recover", preview_recover, recover, "resize failed jobs and rerun them"),
    Action("x", "reset failed", preview_reset, reset_failed, "reset failed jobs with their downstream, new run"),
)
