"""Torc's newer record calls: RO-Crate entities, Slurm stats, tasks, archive, where jobs ran, sharing, reload-auth."""

from __future__ import annotations

from typing import Any

from scenarios import dump, new_workflow, refusal, scenario
from torc.openapi_client import (
    FileModel,
    JobModel,
)


@scenario
def ro_crate(api: Any) -> dict[str, Any]:
    """RO-Crate entities: created for a file and on their own, read, replaced, listed, deleted; then a workflow's."""
    from torc.openapi_client import RoCrateEntityModel

    wf = new_workflow(api, "compat-ro-crate")
    data = api.create_file(FileModel(workflow_id=wf.id, name="data", path="data/input.csv"))
    for_file = api.create_ro_crate_entity(RoCrateEntityModel(
        workflow_id=wf.id, file_id=data.id, entity_id="data/input.csv", entity_type="File",
        metadata={"@id": "data/input.csv", "@type": "File", "encodingFormat": "text/csv"}))
    software = api.create_ro_crate_entity(RoCrateEntityModel(
        workflow_id=wf.id, entity_id="#software-sim", entity_type="SoftwareApplication",
        metadata={"@id": "#software-sim", "@type": "SoftwareApplication", "version": "1.0"}))
    read = api.get_ro_crate_entity(software.id)
    read.metadata = {**read.metadata, "version": "1.1"}
    read.entity_type = "SoftwareSourceCode"
    out: dict[str, Any] = {"workflow_id": wf.id, "file_id": data.id, "for_file": dump(for_file),
                           "software": dump(software), "updated": dump(api.update_ro_crate_entity(software.id, read))}
    out["listed"] = dump(api.list_ro_crate_entities(wf.id))
    out["of_file"] = [e.entity_id for e in api.list_ro_crate_entities(wf.id, file_id=data.id).items]
    out["by_entity_id"] = [e.id for e in api.list_ro_crate_entities(wf.id, entity_id="#software-sim").items]
    out["sorted"] = [e.entity_id for e in api.list_ro_crate_entities(wf.id, sort_by="entity_id",
                                                                     reverse_sort=True).items]
    out["second_page"] = dump(api.list_ro_crate_entities(wf.id, offset=1, limit=1))
    twin = RoCrateEntityModel(workflow_id=wf.id, entity_id="#software-sim", entity_type="x", metadata={})
    second_for_file = RoCrateEntityModel(workflow_id=wf.id, file_id=data.id, entity_id="other", entity_type="File",
                                         metadata={})
    out["refused"] = {"duplicate_entity_id": refusal(lambda: api.create_ro_crate_entity(twin)),
                      "second_for_file": refusal(lambda: api.create_ro_crate_entity(second_for_file)),
                      "missing": refusal(lambda: api.get_ro_crate_entity(987654321)),
                      "missing_workflow": refusal(lambda: api.list_ro_crate_entities(987654321))}
    out["deleted"] = dump(api.delete_ro_crate_entity(for_file.id))
    out["deleted_again"] = refusal(lambda: api.delete_ro_crate_entity(for_file.id))
    out["deleted_all"] = dump(api.delete_ro_crate_entities(wf.id))
    out["left"] = api.list_ro_crate_entities(wf.id).total_count
    kept = api.create_ro_crate_entity(RoCrateEntityModel(workflow_id=wf.id, entity_id="#kept", entity_type="Thing",
                                                         metadata={"@id": "#kept"}))
    api.delete_workflow(wf.id)
    out["after_workflow_deleted"] = refusal(lambda: api.get_ro_crate_entity(kept.id))
    return out


@scenario
def slurm_stats(api: Any) -> dict[str, Any]:
    """Slurm accounting figures stored for two attempts of a job, listed whole, filtered and paged."""
    from torc.openapi_client import SlurmStatsModel

    wf = new_workflow(api, "compat-slurm-stats")
    job = api.create_job(JobModel(workflow_id=wf.id, name="sim", command="true"))
    made = [api.create_slurm_stats(SlurmStatsModel(
        workflow_id=wf.id, job_id=job.id, run_id=1, attempt_id=attempt, slurm_job_id="4242",
        max_rss_bytes=1 << 30, max_vm_size_bytes=2 << 30, max_disk_read_bytes=10, max_disk_write_bytes=20,
        ave_cpu_seconds=12.5, node_list="node[01-02]")) for attempt in (1, 2)]
    bad_job = SlurmStatsModel(workflow_id=wf.id, job_id=987654321, run_id=1, attempt_id=1)
    negative = SlurmStatsModel(workflow_id=wf.id, job_id=job.id, run_id=1, attempt_id=1, max_rss_bytes=-1)
    out = {"made": dump(made), "listed": dump(api.list_slurm_stats(wf.id)),
           "second_attempt": [s.id for s in api.list_slurm_stats(wf.id, job_id=job.id, attempt_id=2).items],
           "other_run": api.list_slurm_stats(wf.id, run_id=2).total_count,
           "first_page": dump(api.list_slurm_stats(wf.id, offset=0, limit=1)),
           "refused": {"missing_job": refusal(lambda: api.create_slurm_stats(bad_job)),
                       "negative": refusal(lambda: api.create_slurm_stats(negative)),
                       "missing_workflow": refusal(lambda: api.list_slurm_stats(987654321))}}
    api.delete_workflow(wf.id)
    return out


@scenario
def tasks(api: Any) -> dict[str, Any]:
    """Initialising as a task (`async`), the task read back, and a task that failed (an archived workflow)."""
    from torc.openapi_client import ArchiveWorkflowRequest, TasksApi

    tasks_api = TasksApi(api.api_client)  # not among the APIs `make_api` gathers
    wf = new_workflow(api, "compat-tasks")
    api.create_job(JobModel(workflow_id=wf.id, name="only", command="true"))
    task = api.initialize_jobs(wf.id, var_async=True)
    out = {"task": dump(task), "read": dump(tasks_api.get_task(task.id)),
           "active": dump(api.get_active_task_for_workflow(wf.id)),
           "statuses": [j.status for j in api.list_jobs(workflow_id=wf.id).items]}
    api.archive_workflow(wf.id, ArchiveWorkflowRequest(is_archived=True))
    out["failed"] = dump(api.initialize_jobs(wf.id, var_async=True))
    out["refused"] = {"missing_task": refusal(lambda: tasks_api.get_task(987654321)),
                      "missing_workflow": refusal(lambda: api.get_active_task_for_workflow(987654321))}
    api.delete_workflow(wf.id)
    out["after_workflow_deleted"] = refusal(lambda: tasks_api.get_task(task.id))
    return out


@scenario
def archive(api: Any) -> dict[str, Any]:
    """A workflow archived and unarchived through Torc's call, and how listings and claims see it."""
    from torc.openapi_client import ArchiveWorkflowRequest

    wf = new_workflow(api, "compat-archive")
    api.create_job(JobModel(workflow_id=wf.id, name="only", command="true"))
    api.initialize_jobs(wf.id)
    archived = api.archive_workflow(wf.id, ArchiveWorkflowRequest(is_archived=True))
    out = {"archived": dump(archived),
           "in_archived_list": wf.id in [w.id for w in api.list_workflows(is_archived=True, limit=10000).items],
           "in_default_list": wf.id in [w.id for w in api.list_workflows(limit=10000).items],
           "claimed_while_archived": len(api.claim_next_jobs(wf.id, limit=1).jobs or [])}
    out["unarchived"] = dump(api.archive_workflow(wf.id, ArchiveWorkflowRequest(is_archived=False)))
    out["claimed_after"] = len(api.claim_next_jobs(wf.id, limit=1).jobs or [])
    out["refused"] = {"missing": refusal(lambda: api.archive_workflow(987654321,
                                                                      ArchiveWorkflowRequest(is_archived=True)))}
    api.delete_workflow(wf.id)
    return out


@scenario
def where_jobs_ran(api: Any, workflow_id: str) -> dict[str, Any]:
    """A workflow's running jobs and the Slurm jobs its jobs ran in (set up by the test)."""
    wid = int(workflow_id)
    return {"running": dump(api.get_running_jobs(wid)), "correlations": dump(api.get_slurm_job_correlations(wid)),
            "second_page": dump(api.get_slurm_job_correlations(wid, offset=1, limit=1)),
            "refused": {"running": refusal(lambda: api.get_running_jobs(987654321)),
                        "correlations": refusal(lambda: api.get_slurm_job_correlations(987654321))}}


@scenario
def sharing(api: Any) -> dict[str, Any]:
    """An admin user makes a group and shares a workflow with it by path; then reloads the password file."""
    from torc.openapi_client import AccessGroupModel

    wf = new_workflow(api, "compat-sharing")
    group = api.create_access_group(AccessGroupModel(name=f"compat-sharing-{wf.id}", description="d"))
    link = api.add_workflow_to_group(wf.id, group.id)
    out = {"workflow_id": wf.id, "group_id": group.id, "link": dump(link),
           "groups": [g.id for g in api.list_workflow_groups(wf.id).items],
           "refused": {"missing_group": refusal(lambda: api.add_workflow_to_group(wf.id, 987654321)),
                       "missing_workflow": refusal(lambda: api.add_workflow_to_group(987654321, group.id))},
           "reloaded": dump(api.reload_auth())}
    api.delete_workflow(wf.id)
    api.delete_access_group(group.id)
    return out


@scenario
def reload_refused(api: Any) -> dict[str, Any]:
    """Reloading the password file of a server that has none, or as a user who is not an admin."""
    return {"refused": refusal(api.reload_auth)}
