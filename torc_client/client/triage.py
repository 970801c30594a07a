"""The Client's triage calls: reset exactly the jobs chosen, restore an archived run; `Client` inherits them."""

from __future__ import annotations

from typing import Any

from torc_client import contract as c


class TriageCalls:
    """Selective resets. Needs the `request` method of `Client`."""

    request: Any

    def reset_job_status(self, workflow_id: int, job_ids: list[int] | None = None, *, status: str | None = None,
                         return_code: int | None = None, reinitialize: bool = False,
                         force: bool = False, dry_run: bool = False) -> c.JobsResetResult:  # fmt: skip
        """Reset the chosen jobs (ids, narrowed by status and latest return code) and their downstream jobs to
        uninitialized; with `reinitialize`, start a new run in which only they (and changed inputs) run again.
        With `dry_run`, only answer which jobs would be reset (`reset_job_ids`), changing nothing."""
        body = c.JobsResetRequest(job_ids=list(job_ids or []), status=status, return_code=return_code,
                                  reinitialize=reinitialize, force=force, dry_run=dry_run)  # fmt: skip
        return self.request("POST", f"/workflows/{workflow_id}/jobs/reset_status", c.JobsResetResult, body=body)

    def restore_history(self, workflow_id: int, history: c.History) -> c.HistoryRestored:
        """Give a workflow that has never run the statuses, results and events of an archived run."""
        return self.request("POST", f"/workflows/{workflow_id}/history", c.HistoryRestored, body=history)
