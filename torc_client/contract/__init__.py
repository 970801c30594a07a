"""The wire contract: every record the API sends or receives, behind one face.

Shared by the API (Litestar speaks msgspec natively), the runner and the client, and always reached as
`from torc_client import contract as c` then `c.Job`, `c.ClaimRequest`, `c.WorkflowAction`. The records live
in one module per area:

- `base`: what every record builds on;
- `records`: workflows, jobs, files, user data, requirements, compute nodes;
- `runner`: the runner's protocol: claims and reports;
- `history`: what runs leave: results, time series, events;
- `dependencies`: dependency questions;
- `hpc`: Slurm schedulers, workflow actions, scheduled allocations;
- `access`: access groups;
- `triage`: resetting chosen jobs;
- `archive`: a run's history between servers;
- `remote`: the SSH hosts of `torc remote`.

Field names follow NREL Torc's (`id`, `workflow_id`, `status`, `run_id`, ...).
"""

from torc_client.contract.base import (  # noqa: F401
    Name,
    Command,
    Record,
    Page,
)
from torc_client.contract.records import (  # noqa: F401
    ResourceMonitorConfig,
    ExecutionConfig,
    Workflow,
    WorkflowUpdate,
    Creation,
    WorkflowStatus,
    InitializeResult,
    Job,
    JobCreate,
    JobUpdate,
    File,
    FileCreate,
    FileUpdate,
    UserData,
    UserDataCreate,
    UserDataUpdate,
    ResourceRequirements,
    ResourceRequirementsCreate,
    ResourceRequirementsUpdate,
    ComputeNode,
    ComputeNodeCreate,
    Heartbeat,
    RerunReason,
    ReinitializeResult,
    ResetResult,
    UnfitGroup,
)
from torc_client.contract.runner import (  # noqa: F401
    ClaimRequest,
    FileRef,
    StdioConfig,
    ClaimedJob,
    ClaimResponse,
    JobStart,
    StartReport,
    ResourceSample,
    JobOutcome,
    CompleteReport,
    Rejection,
    ReportResponse,
)
from torc_client.contract.history import (  # noqa: F401
    Result,
    ResourceSeries,
    Event,
    EventCreate,
)
from torc_client.contract.dependencies import (  # noqa: F401
    JobRef,
    RootCause,
    MissingInput,
    JobWhy,
    StageResources,
    PlanStage,
    ExecutionPlan,
)
from torc_client.contract.hpc import (  # noqa: F401
    SlurmScheduler,
    SlurmSchedulerCreate,
    SlurmSchedulerUpdate,
    WorkflowAction,
    WorkflowActionCreate,
    ActionClaim,
    ScheduledComputeNode,
    ScheduledComputeNodeCreate,
    ScheduledComputeNodeUpdate,
)
from torc_client.contract.access import (  # noqa: F401
    AccessGroup,
    AccessGroupCreate,
    MemberChange,
    AccessCheck,
)
from torc_client.contract.triage import (  # noqa: F401
    JobsResetRequest,
    JobsResetResult,
)
from torc_client.contract.archive import (  # noqa: F401
    ArchivedResult,
    ArchivedEvent,
    History,
    HistoryRestored,
)
from torc_client.contract.remote import (  # noqa: F401
    RemoteWorker,
    RemoteWorkersAdd,
)
