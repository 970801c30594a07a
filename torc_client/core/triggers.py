"""What makes a workflow action fire: Torc's trigger names, in one place."""

from __future__ import annotations

from enum import StrEnum


class Trigger(StrEnum):
    ON_WORKFLOW_START = "on_workflow_start"
    ON_WORKFLOW_COMPLETE = "on_workflow_complete"
    ON_JOBS_READY = "on_jobs_ready"
    ON_JOBS_COMPLETE = "on_jobs_complete"
    ON_WORKER_START = "on_worker_start"
    ON_WORKER_COMPLETE = "on_worker_complete"


#: Triggers counted job by job: the action fires once all of its jobs have become ready, or finished.
JOB_TRIGGERS = (Trigger.ON_JOBS_READY, Trigger.ON_JOBS_COMPLETE)
#: Triggers that are met as soon as the workflow is initialised: every runner may find them pending.
WORKER_TRIGGERS = (Trigger.ON_WORKER_START, Trigger.ON_WORKER_COMPLETE)
#: Triggers the server fires (a runner claims the actions they made pending).
FIRED_TRIGGERS = (Trigger.ON_WORKFLOW_START, *JOB_TRIGGERS, Trigger.ON_WORKFLOW_COMPLETE)
