"""HTTP routes: one controller per resource. Each handler is one storage call and one conversion."""

from api.routes.access import AccessGroupController
from api.routes.archives import ArchiveController
from api.routes.bulk_deletes import BulkDeleteController
from api.routes.compat.access import TorcAccessController
from api.routes.compat.actions import TorcActionController
from api.routes.compat.admin import TorcAdminController
from api.routes.compat.batches import TorcBatchController
from api.routes.compat.records import TorcRecordController
from api.routes.compat.ro_crate import TorcRoCrateController
from api.routes.compat.runs import TorcRunController
from api.routes.compat.running import TorcRunningController
from api.routes.compat.slurm_stats import TorcSlurmStatsController
from api.routes.compat.tasks import TorcTaskController
from api.routes.compat.spawn import TorcSpawnController
from api.routes.compat.workflows import TorcWorkflowController
from api.routes.compute_nodes import ComputeNodeController
from api.routes.events import EventController
from api.routes.hpc import (
    ScheduledComputeNodeController,
    SlurmSchedulerController,
    WorkflowActionController,
)
from api.routes.jobs import JobController
from api.routes.records import (
    FailureHandlerController,
    FileController,
    ResourceRequirementsController,
    ResultController,
    UserDataController,
)
from api.routes.runs import RunController
from api.routes.service import ServiceController
from api.routes.triage import TriageController
from api.routes.workers import LocalSchedulerController, RemoteWorkerController
from api.routes.workflows import WorkflowController

ROUTE_HANDLERS = [
    ServiceController,
    WorkflowController,
    RunController,
    JobController,
    FileController,
    UserDataController,
    ResourceRequirementsController,
    FailureHandlerController,
    ResultController,
    EventController,
    RemoteWorkerController,
    ComputeNodeController,
    SlurmSchedulerController,
    WorkflowActionController,
    ScheduledComputeNodeController,
    AccessGroupController,
    TriageController,
    ArchiveController,
    TorcWorkflowController,
    TorcRunController,
    TorcRecordController,
    TorcActionController,
    TorcAccessController,
    TorcRoCrateController,
    TorcSlurmStatsController,
    TorcRunningController,
    TorcTaskController,
    TorcAdminController,
    TorcBatchController,
    TorcSpawnController,
    BulkDeleteController,
    LocalSchedulerController,
]
