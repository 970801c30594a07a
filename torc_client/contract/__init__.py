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
- `reruns`: what starting a run again answers;
- `torc`: Torc's own calls that this server answers as Torc does;
- `torc_records`: the records of Torc's own calls;
- `torc_tracking`: Torc's records of what a workflow ran and kept (RO-Crate entities, Slurm stats, tasks).
- `torc_batches`: Torc's batch calls: bulk files and user_data, batched completions, spawned jobs.

Field names follow NREL Torc's (`id`, `workflow_id`, `status`, `run_id`, ...).
"""

from torc_client.contract.access import (  # noqa: F401
    AccessCheck,
    AccessGroup,
    AccessGroupCreate,
    MemberChange,
)
from torc_client.contract.archive import (  # noqa: F401
    ArchivedEvent,
    ArchivedResult,
    History,
    HistoryRestored,
)
from torc_client.contract.base import (  # noqa: F401
    Command,
    Name,
    Page,
    Record,
    SortMethod,
)
from torc_client.contract.dependencies import (  # noqa: F401
    ExecutionPlan,
    JobRef,
    JobWhy,
    MissingInput,
    PlanStage,
    RootCause,
    StageResources,
)
from torc_client.contract.history import (  # noqa: F401
    Event,
    EventCreate,
    ResourceSeries,
    Result,
)
from torc_client.contract.hpc import (  # noqa: F401
    ActionClaim,
    ScheduledComputeNode,
    ScheduledComputeNodeCreate,
    ScheduledComputeNodeUpdate,
    SlurmScheduler,
    SlurmSchedulerCreate,
    SlurmSchedulerUpdate,
    WorkflowAction,
    WorkflowActionCreate,
)
from torc_client.contract.records import (  # noqa: F401
    ComputeNode,
    ComputeNodeCreate,
    Creation,
    ExecutionConfig,
    File,
    FileCreate,
    FileUpdate,
    Heartbeat,
    InitializeResult,
    Job,
    JobCreate,
    JobUpdate,
    ResourceMonitorConfig,
    ResourceRequirements,
    ResourceRequirementsCreate,
    ResourceRequirementsUpdate,
    UnfitGroup,
    UserData,
    UserDataCreate,
    UserDataUpdate,
    Workflow,
    WorkflowStatus,
    WorkflowUpdate,
)
from torc_client.contract.reruns import (  # noqa: F401
    ReinitializeResult,
    RerunReason,
    ResetResult,
)
from torc_client.contract.runner import (  # noqa: F401
    ClaimedJob,
    ClaimRequest,
    ClaimResponse,
    CompleteReport,
    FileRef,
    JobOutcome,
    JobStart,
    Rejection,
    ReportResponse,
    ResourceSample,
    StartReport,
    StdioConfig,
)
from torc_client.contract.torc import (  # noqa: F401
    ClaimedJobs,
    CreatedJobs,
    FreeResources,
    IsComplete,
    IsUninitialized,
    JobDependency,
    JobFileRelationship,
    JobIds,
    JobsBatch,
    JobStatusReset,
    JobUserDataRelationship,
    LatestEventTime,
    MissingUserData,
    ReadyJobRequirements,
    RequiredFiles,
    TorcComputeNode,
    TorcEvent,
    TorcJob,
    TorcResult,
)
from torc_client.contract.torc_batches import (  # noqa: F401
    CompletionBatch,
    CompletionEntry,
    CompletionError,
    CompletionsDone,
    CreatedFiles,
    CreatedUserData,
    FilesBatch,
    SpawnJob,
    Spawned,
    SpawnRequest,
    TorcFile,
    TorcUserData,
    UserDataBatch,
)
from torc_client.contract.torc_records import (  # noqa: F401
    AccessAnswer,
    ActionClaimed,
    ChangedInputs,
    DeleteCount,
    FailureRule,
    ListPage,
    LocalScheduler,
    LocalSchedulerCreate,
    Membership,
    RemoteWorker,
    TorcAccessGroup,
    TorcAction,
    TorcActionClaim,
    TorcFailureHandler,
    TorcWorkflowStatus,
    TorcWorkflowStatusUpdate,
    WorkflowGroupLink,
)
from torc_client.contract.torc_tracking import (  # noqa: F401
    ActiveTask,
    ArchiveRequest,
    AuthReloaded,
    Message,
    RoCrateEntitiesDeleted,
    RoCrateEntity,
    RunningJob,
    SlurmJobCorrelation,
    SlurmStats,
    Task,
)
from torc_client.contract.triage import (  # noqa: F401
    JobsResetRequest,
    JobsResetResult,
)
