"""Drive this server with Torc's published Python client, as a Torc user's script would.

Run by the interpreter of `.venv-torc-client` (which holds `torc-client` from PyPI, not this
project): `python driver.py URL SCENARIO [ARG]`. Each scenario makes its calls through
`torc.openapi_client` and prints what the client returned, as JSON on stdout; the tests in this
folder assert on it. An error the client raises ends the run with its traceback on stderr.
"""

from __future__ import annotations

import base64
import getpass
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from torc import make_api
from torc.openapi_client import (
    ComputeNodeModel,
    EventModel,
    FileModel,
    JobModel,
    ResourceRequirementsModel,
    ResultModel,
    SlurmSchedulerModel,
    UserDataModel,
    WorkflowModel,
)
from torc.openapi_client.exceptions import ApiException

SCENARIOS: dict[str, Callable[..., dict[str, Any]]] = {}
#: Workflows a scenario made and did not delete (it stopped early): deleted when it ends.
MADE: list[int] = []


def scenario(func: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    SCENARIOS[func.__name__] = func
    return func


def dump(model: Any) -> Any:
    """A model (or list of models) as the client holds it; None stays None, which is what a 201 gives."""
    if model is None:
        return None
    if isinstance(model, list):
        return [dump(m) for m in model]
    return model.to_dict()


def new_workflow(api: Any, name: str, *, keep: bool = False, **fields: Any) -> Any:
    user = os.environ.get("TORC_USER") or getpass.getuser()
    workflow = api.create_workflow(WorkflowModel(user=user, name=name, **fields))
    if workflow is not None and not keep:
        MADE.append(workflow.id)
    return workflow


def new_node(api: Any, workflow_id: int, **fields: Any) -> Any:
    """A compute node on host `node-a`, as a Torc runner registers itself."""
    return api.create_compute_node(ComputeNodeModel(workflow_id=workflow_id, hostname="node-a", start_time="now",
                                                    num_gpus=0, num_nodes=1, compute_node_type="local", **fields))


@scenario
def service(api: Any) -> dict[str, Any]:
    return {"ping": dump(api.ping()), "version": dump(api.get_version())}


@scenario
def workflows(api: Any) -> dict[str, Any]:
    created = new_workflow(api, "compat-settings", description="all settings", project="p1",
                           metadata={"owner": "ana", "tags": ["a", "b"]}, jobs_sort_method="gpus_memory_runtime",
                           use_pending_failed=True, compute_node_expiration_buffer_seconds=120,
                           compute_node_wait_for_new_jobs_seconds=30, compute_node_ignore_workflow_completion=True,
                           compute_node_wait_for_healthy_database_minutes=5)
    read = api.get_workflow(created.id)
    read.description = "changed by a read-modify-write"
    updated = api.update_workflow(created.id, read)
    others = [new_workflow(api, f"compat-sort-{letter}", project="sorting") for letter in "bca"]
    listed = api.list_workflows(name=None, sort_by="name", reverse_sort=True, limit=1000)
    status = api.get_workflow_status(created.id)
    deleted = api.delete_workflow(created.id)
    for other in others:
        api.delete_workflow(other.id)
    sorted_names = [w.name for w in listed.items if w.name.startswith("compat-sort-")]
    return {"created": dump(created), "updated": dump(updated), "status": dump(status), "deleted": dump(deleted),
            "page": {k: v for k, v in dump(listed).items() if k != "items"}, "sorted_names": sorted_names}


@scenario
def records(api: Any) -> dict[str, Any]:
    """Files, user_data, resource requirements, a Slurm scheduler and jobs: create, read, list, update, delete."""
    wf = new_workflow(api, "compat-records")
    out: dict[str, Any] = {"workflow_id": wf.id}
    f_in = api.create_file(FileModel(workflow_id=wf.id, name="inputs", path="inputs.json"))
    f_out = api.create_file(FileModel(workflow_id=wf.id, name="outputs", path="outputs.json"))
    twin_a = api.create_resource_requirements(ResourceRequirementsModel(workflow_id=wf.id, name="twin", num_cpus=2,
                                                                        memory="2g", runtime="P0DT1H"))
    twin_b = api.create_resource_requirements(ResourceRequirementsModel(workflow_id=wf.id, name="twin", num_cpus=4,
                                                                        memory="4g", runtime="PT30M"))
    sched = api.create_slurm_scheduler(SlurmSchedulerModel(workflow_id=wf.id, name="short", account="acct", nodes=1,
                                                           walltime="04:00:00"))
    job = api.create_job(JobModel(workflow_id=wf.id, name="work", command="echo work", input_file_ids=[f_in.id],
                                  output_file_ids=[f_out.id], resource_requirements_id=twin_a.id,
                                  scheduler_id=sched.id))
    reader = api.create_job(JobModel(workflow_id=wf.id, name="read", command="echo read"))
    ud = api.create_user_data(UserDataModel(workflow_id=wf.id, name="params", data={"x": 1}),
                              consumer_job_id=reader.id, producer_job_id=job.id)
    out["created"] = {"files": dump([f_in, f_out]), "resource_requirements": dump([twin_a, twin_b]),
                      "slurm_scheduler": dump(sched), "jobs": dump([job, reader]), "user_data": dump(ud)}
    whole = api.get_job(job.id)
    whole.command = "echo changed"
    out["updated_job"] = dump(api.update_job(job.id, whole))
    ud_read = api.get_user_data(ud.id)
    ud_read.data = {"x": 2}
    out["updated_user_data"] = dump(api.update_user_data(ud.id, ud_read))
    rr_read = api.get_resource_requirements(twin_b.id)
    rr_read.num_cpus = 8
    out["updated_resource_requirements"] = dump(api.update_resource_requirements(twin_b.id, rr_read))
    file_read = api.get_file(f_out.id)
    file_read.path = "moved.json"
    out["updated_file"] = dump(api.update_file(f_out.id, file_read))
    out["consumed_by_reader"] = dump(api.list_user_data(workflow_id=wf.id, consumer_job_id=reader.id).items)
    out["produced_by_work"] = dump(api.list_user_data(workflow_id=wf.id, producer_job_id=job.id).items)
    out["filtered"] = {
        "files_produced_by_work": [f.name for f in api.list_files(workflow_id=wf.id, produced_by_job_id=job.id).items],
        "jobs_needing_inputs": [j.name for j in api.list_jobs(workflow_id=wf.id, needs_file_id=f_in.id).items],
        "requirements_of_work": [r.id for r in api.list_resource_requirements(workflow_id=wf.id, job_id=job.id).items],
        "lasting_user_data": [u.name for u in api.list_user_data(workflow_id=wf.id, is_ephemeral=False).items],
        "ephemeral_user_data": [u.name for u in api.list_user_data(workflow_id=wf.id, is_ephemeral=True).items],
    }
    out["pages"] = {name: {**{k: v for k, v in dump(page).items() if k != "items"},
                           "names": [i.name for i in page.items]}
                    for name, page in (
                        ("jobs", api.list_jobs(workflow_id=wf.id, sort_by="name", reverse_sort=True)),
                        ("files", api.list_files(workflow_id=wf.id, sort_by="name", reverse_sort=True)),
                        ("user_data", api.list_user_data(workflow_id=wf.id)),
                        ("resource_requirements", api.list_resource_requirements(workflow_id=wf.id, name="twin")),
                        ("slurm_schedulers", api.list_slurm_schedulers(workflow_id=wf.id)),
                    )}  # fmt: skip
    out["deleted"] = {"job": dump(api.delete_job(reader.id)), "user_data": dump(api.delete_user_data(ud.id)),
                      "file": dump(api.delete_file(f_in.id)),
                      "slurm_scheduler": dump(api.delete_slurm_scheduler(sched.id))}
    api.delete_workflow(wf.id)
    return out


@scenario
def compute_nodes(api: Any) -> dict[str, Any]:
    wf = new_workflow(api, "compat-nodes")
    node = new_node(api, wf.id, pid=4242, num_cpus=8, memory_gb=16.0, is_active=True)
    read = api.get_compute_node(node.id)
    listed = api.list_compute_nodes(workflow_id=wf.id, sort_by="hostname")
    status = api.get_workflow_status(wf.id)
    deleted = api.delete_compute_node(node.id)
    api.delete_workflow(wf.id)
    return {"created": dump(node), "read": dump(read), "listed": dump(listed.items), "status": dump(status),
            "deleted": dump(deleted)}


@scenario
def more_records(api: Any) -> dict[str, Any]:
    """Slurm schedulers read and sent back, a resource requirement deleted, results listed."""
    wf = new_workflow(api, "compat-more")
    sched = api.create_slurm_scheduler(SlurmSchedulerModel(workflow_id=wf.id, name="short", account="acct", nodes=1,
                                                           walltime="01:00:00"))
    read = api.get_slurm_scheduler(sched.id)
    read.nodes = 2
    updated = api.update_slurm_scheduler(sched.id, read)
    rr = api.create_resource_requirements(ResourceRequirementsModel(workflow_id=wf.id, name="gone"))
    deleted_rr = api.delete_resource_requirement(rr.id)
    results = api.list_results(workflow_id=wf.id)
    return {"scheduler": dump(sched), "scheduler_updated": dump(updated), "rr_deleted": dump(deleted_rr),
            "results_page": {k: v for k, v in dump(results).items() if k != "items"}}


@scenario
def cancel_and_reset(api: Any, workflow_id: str) -> dict[str, Any]:
    """An initialised workflow canceled, then its status reset, through Torc's calls."""
    wid = int(workflow_id)
    canceled = api.cancel_workflow(wid)
    status = api.get_workflow_status(wid)
    reset = api.reset_workflow_status(wid, force=True)
    return {"canceled": canceled, "status": dump(status), "reset": reset, "after": dump(api.get_workflow(wid))}


@scenario
def errors(api: Any) -> dict[str, Any]:
    """What Torc's client raises for a record that does not exist and for a value the server refuses."""
    wf = new_workflow(api, "compat-errors")
    found: dict[str, Any] = {"workflow_id": wf.id}
    bad_memory = ResourceRequirementsModel(workflow_id=wf.id, name="huge", memory="lots")
    for name, call in (("missing_workflow", lambda: api.get_workflow(987654321)),
                       ("bad_memory", lambda: api.create_resource_requirements(bad_memory))):
        try:
            call()
            found[name] = None
        except ApiException as error:
            found[name] = {"status": error.status, "data": dump(error.data), "body": json.loads(error.body)}
    api.delete_workflow(wf.id)
    return found


@scenario
def mapped(api: Any, module_directory: str) -> dict[str, Any]:
    """The workflow `map_function_to_jobs` makes (Torc's `pytorc run-function` jobs and a `pytorc run-postprocess`
    job, linked by user_data), made with one `create_job` call per job."""
    wf = new_workflow(api, "compat-mapped", keep=True)
    outputs = []
    for i, params in enumerate(({"input1": 1}, {"input1": 2}), start=1):
        data = {"module": "simulation", "func": "run", "params": params, "job_name": str(i),
                "module_directory": module_directory}
        given = api.create_user_data(UserDataModel(workflow_id=wf.id, name=f"input_{i}", data=data))
        made = api.create_user_data(UserDataModel(workflow_id=wf.id, name=f"output_{i}", data={}))
        outputs.append(made.id)
        api.create_job(JobModel(workflow_id=wf.id, name=str(i), command="pytorc run-function",
                                input_user_data_ids=[given.id], output_user_data_ids=[made.id]))
    data = {"module": "simulation", "func": "postprocess", "module_directory": module_directory}
    given = api.create_user_data(UserDataModel(workflow_id=wf.id, name="input_postprocess", data=data))
    made = api.create_user_data(UserDataModel(workflow_id=wf.id, name="postprocess_result", data=data))
    api.create_job(JobModel(workflow_id=wf.id, name="postprocess", command="pytorc run-postprocess",
                            input_user_data_ids=[given.id, *outputs], output_user_data_ids=[made.id]))
    return {"workflow_id": wf.id}


@scenario
def finished_run(api: Any, workflow_id: str) -> dict[str, Any]:
    """What a run left, read through Torc's calls: user_data by name, jobs' statuses, results, runners, status
    (then the workflow is deleted)."""
    wid = int(workflow_id)
    records = {ud.name: ud.data for ud in api.list_user_data(workflow_id=wid).items}
    statuses = {job.name: job.status for job in api.list_jobs(workflow_id=wid).items}
    results = api.list_results(workflow_id=wid).items
    first = api.get_result(results[0].id) if results else None
    nodes = api.list_compute_nodes(workflow_id=wid).items
    status = api.get_workflow_status(wid)
    api.delete_workflow(wid)
    return {"user_data": records, "statuses": statuses, "results": dump(results), "first_result": dump(first),
            "compute_nodes": dump(nodes), "status": dump(status)}


# --- the calls of the endpoints that are not in this server yet ------------------------------


@scenario
def bulk_jobs(api: Any) -> dict[str, Any]:
    from torc import create_jobs

    wf = new_workflow(api, "compat-bulk")
    jobs = create_jobs(api, [JobModel(workflow_id=wf.id, name=f"j{i}", command="true") for i in range(3)])
    api.delete_workflow(wf.id)
    return {"jobs": dump(jobs)}


@scenario
def workflow_queries(api: Any) -> dict[str, Any]:
    wf = new_workflow(api, "compat-queries")
    first = api.create_job(JobModel(workflow_id=wf.id, name="first", command="true"))
    api.create_job(JobModel(workflow_id=wf.id, name="second", command="true", depends_on_job_ids=[first.id]))
    out = {"is_uninitialized": dump(api.is_workflow_uninitialized(wf.id)),
           "job_ids": dump(api.list_job_ids(wf.id)),
           "job_dependencies": dump(api.list_job_dependencies(wf.id)),
           "job_user_data_relationships": dump(api.list_job_user_data_relationships(wf.id)),
           "is_complete": dump(api.is_workflow_complete(wf.id))}
    api.delete_workflow(wf.id)
    return out


@scenario
def run(api: Any) -> dict[str, Any]:
    """A workflow run through Torc's own calls: initialise, claim, start, complete, results and events."""
    wf = new_workflow(api, "compat-run")
    job = api.create_job(JobModel(workflow_id=wf.id, name="only", command="true"))
    api.initialize_jobs(wf.id)
    node = new_node(api, wf.id, pid=1, num_cpus=1, memory_gb=1.0)
    claimed = api.claim_next_jobs(wf.id, limit=1)
    run_id = api.get_workflow(wf.id).run_id
    api.start_job(job.id, run_id, node.id)
    result = ResultModel(workflow_id=wf.id, job_id=job.id, run_id=run_id, compute_node_id=node.id, return_code=0,
                         exec_time_minutes=0.1, completion_time="2026-01-01T00:00:00", status="completed")
    completed = api.complete_job(job.id, "completed", run_id, result)
    event = api.create_event(EventModel(workflow_id=wf.id, timestamp=0, data={"category": "compat"}))
    out = {"claimed": dump(claimed), "completed": dump(completed), "is_complete": dump(api.is_workflow_complete(wf.id)),
           "results": dump(api.list_results(workflow_id=wf.id).items), "event": dump(event),
           "events": dump(api.list_events(workflow_id=wf.id).items)}
    node.is_active = False
    out["node_updated"] = dump(api.update_compute_node(node.id, node))
    api.delete_workflow(wf.id)
    return out


def refusal(call: Callable[[], Any]) -> dict[str, Any] | None:
    """What the client raised for a call the server refused (None if it was answered)."""
    try:
        call()
    except ApiException as error:
        return {"status": error.status, "body": json.loads(error.body)}
    return None


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


# --- batch calls: bulk files and user_data, batched completions, spawned jobs -------------


@scenario
def bulk_records(api: Any) -> dict[str, Any]:
    """Files and user_data created in bulk, read back, and the bulk calls refused for bad input."""
    from torc.openapi_client import FilesModel, UserDataListModel

    wf, other = new_workflow(api, "compat-bulk-records"), new_workflow(api, "compat-bulk-other")
    files = api.create_files(FilesModel(files=[FileModel(workflow_id=wf.id, name=f"f{i}", path=f"out/{i}.csv")
                                               for i in range(3)] + [
        FileModel(workflow_id=wf.id, name="seen", path="seen.txt", st_mtime=1700000000.5)]))  # fmt: skip
    made = api.create_user_data_list(UserDataListModel(user_data=[
        UserDataModel(workflow_id=wf.id, name="params", data={"alpha": 0.5, "steps": [1, 2]}),
        UserDataModel(workflow_id=wf.id, name="scratch", data=None, is_ephemeral=True)]))  # fmt: skip
    two = [FileModel(workflow_id=wf.id, name="a", path="a"), FileModel(workflow_id=other.id, name="b", path="b")]
    return {
        "files": dump(files.files), "user_data": dump(made.user_data),
        "listed_files": dump(api.list_files(workflow_id=wf.id).items),
        "listed_user_data": dump(api.list_user_data(workflow_id=wf.id).items),
        "two_workflows": refusal(lambda: api.create_files(FilesModel(files=two))),
        "missing_workflow": refusal(lambda: api.create_user_data_list(UserDataListModel(user_data=[
            UserDataModel(workflow_id=987654321, name="x")]))),  # fmt: skip
        "empty": refusal(lambda: api.create_files(FilesModel(files=[]))),
        "bad_body": posted(api, "/bulk_user_data", {"user_data": [{"workflow_id": wf.id, "data": {"no": "name"}}]}),
        "files_after": len(api.list_files(workflow_id=wf.id).items) + len(api.list_files(workflow_id=other.id).items),
    }


def claimed_run(api: Any, name: str, jobs: list[tuple[str, list[str]]]) -> tuple[Any, dict[str, Any], Any, int]:
    """A workflow of `jobs` (name, the names it waits for), initialised, with its ready jobs claimed and started."""
    wf = new_workflow(api, name)
    made: dict[str, Any] = {}
    for job_name, after in jobs:
        made[job_name] = api.create_job(JobModel(workflow_id=wf.id, name=job_name, command="true",
                                                 depends_on_job_ids=[made[a].id for a in after]))  # fmt: skip
    api.initialize_jobs(wf.id)
    node = new_node(api, wf.id, pid=1, num_cpus=4, memory_gb=4.0)
    run_id = api.get_workflow(wf.id).run_id
    for job in api.claim_next_jobs(wf.id, limit=100).jobs:
        api.start_job(job.id, run_id, node.id)
    return wf, made, node, run_id


def torc_result(wf: Any, job: Any, run_id: int, node: Any, status: str = "completed", rc: int = 0) -> Any:
    return ResultModel(workflow_id=wf.id, job_id=job.id, run_id=run_id, compute_node_id=node.id, return_code=rc,
                       exec_time_minutes=0.5, completion_time="2026-01-01T00:00:00", status=status)


@scenario
def batch_complete(api: Any) -> dict[str, Any]:
    """Completions of one workflow in one request: the claimed jobs' stored, the others refused one by one."""
    from torc.openapi_client import BatchCompleteJobsRequest, JobCompletionEntry

    wf, made, node, run_id = claimed_run(api, "compat-batch", [("a", []), ("b", ["a"]), ("c", []), ("d", ["c"])])
    other, theirs, other_node, other_run = claimed_run(api, "compat-batch-other", [("x", [])])

    def entry(job: Any, status: str = "completed", rc: int = 0, at: Any = wf, on: Any = node) -> Any:
        return JobCompletionEntry(job_id=job.id, run_id=run_id, status=status,
                                  result=torc_result(at, job, run_id, on, status, rc))  # fmt: skip

    answer = api.batch_complete_jobs(wf.id, BatchCompleteJobsRequest(completions=[
        entry(made["a"]), entry(made["c"], "failed", 3), entry(made["b"]), entry(theirs["x"], at=other, on=other_node),
        entry(made["a"])]))  # fmt: skip
    again = api.batch_complete_jobs(wf.id, BatchCompleteJobsRequest(completions=[entry(made["a"])]))
    return {"ids": {k: v.id for k, v in {**made, **theirs}.items()}, "answer": dump(answer), "again": dump(again),
            "statuses": {j.name: j.status for j in api.list_jobs(workflow_id=wf.id).items},
            "other_status": api.get_job(theirs["x"].id).status,
            "results": sorted((r.job_id, r.return_code, r.status) for r in api.list_results(workflow_id=wf.id).items),
            "missing_workflow": refusal(lambda: api.batch_complete_jobs(987654321, BatchCompleteJobsRequest(
                completions=[]))),  # fmt: skip
            "bad_body": posted(api, f"/workflows/{wf.id}/batch_complete_jobs", {"completions": [{"job_id": "one"}]})}


def posted(api: Any, path: str, body: Any) -> dict[str, Any]:
    """A body the generated client would not build, sent as plain HTTP: the status and the answer."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(api.api_client.configuration.host + path, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"}, method="POST")  # fmt: skip
    try:
        with urllib.request.urlopen(request) as answer:
            return {"status": answer.status, "body": json.loads(answer.read())}
    except urllib.error.HTTPError as error:
        return {"status": error.code, "body": json.loads(error.read())}


@scenario
def batch_held(api: Any) -> dict[str, Any]:
    """Completions of jobs that this server's own claim gave to a compute node: only that node completes them."""
    from torc.openapi_client import BatchCompleteJobsRequest, JobCompletionEntry

    wf = new_workflow(api, "compat-batch-held")
    jobs = [api.create_job(JobModel(workflow_id=wf.id, name=name, command="true")) for name in ("p", "q")]
    api.initialize_jobs(wf.id)
    holder, other = (new_node(api, wf.id, pid=pid, num_cpus=2, memory_gb=2.0) for pid in (1, 2))
    claimed = posted(api, f"/workflows/{wf.id}/claim", {"compute_node_id": holder.id, "limit": 2,
                                                         "ignore_resources": True, "start": True})  # fmt: skip
    run_id = api.get_workflow(wf.id).run_id
    answer = api.batch_complete_jobs(wf.id, BatchCompleteJobsRequest(completions=[
        JobCompletionEntry(job_id=job.id, run_id=run_id, status="completed",
                           result=torc_result(wf, job, run_id, node)) for job, node in zip(jobs, (other, holder))]))
    return {"claimed": sorted(j["id"] for j in claimed["body"]["jobs"]), "ids": [j.id for j in jobs],
            "holder": holder.id, "other": other.id, "answer": dump(answer),
            "statuses": {j.name: j.status for j in api.list_jobs(workflow_id=wf.id).items},
            "result_nodes": [r.compute_node_id for r in api.list_results(workflow_id=wf.id).items]}


@scenario
def spawn(api: Any) -> dict[str, Any]:
    """A running job spawns jobs (one depending on another); the same call again; its completion releases them."""
    from torc.openapi_client import SpawnJobModel, SpawnJobsRequest

    wf, made, node, run_id = claimed_run(api, "compat-spawn", [("orchestrator", []), ("waiting", ["orchestrator"])])
    caller = made["orchestrator"]
    request = SpawnJobsRequest(jobs=[SpawnJobModel(name="child-1", command="echo 1", priority=2),
                                     SpawnJobModel(name="child-2", command="echo 2", depends_on=["child-1"])],
                               state={"round": 1})  # fmt: skip
    first = api.spawn_jobs(caller.id, request)
    replay = api.spawn_jobs(caller.id, request)
    big = api.create_resource_requirements(ResourceRequirementsModel(workflow_id=wf.id, name="big", num_cpus=2))
    second = api.spawn_jobs(caller.id, SpawnJobsRequest(jobs=[SpawnJobModel(
        name="child-3", command="echo 3", depends_on=["waiting"], resource_requirements="big")]))  # fmt: skip
    final = api.spawn_jobs(caller.id, SpawnJobsRequest(jobs=[], state={"converged": True}))
    spawned = {j.name: dump(j) for j in api.list_jobs(workflow_id=wf.id).items if j.name.startswith("child-")}

    def spawning(jobs: list[Any], job_id: int = caller.id) -> Any:
        return refusal(lambda: api.spawn_jobs(job_id, SpawnJobsRequest(jobs=jobs)))

    refused = {
        "duplicate": spawning([SpawnJobModel(name="d", command="true"), SpawnJobModel(name="d", command="true")]),
        "unknown_dependency": spawning([SpawnJobModel(name="e", command="true", depends_on=["nobody"])]),
        "cycle": spawning([SpawnJobModel(name="f", command="true", depends_on=["g"]),
                           SpawnJobModel(name="g", command="true", depends_on=["f"])]),
        "unknown_requirements": spawning([SpawnJobModel(name="h", command="true", resource_requirements="huge")]),
        "partly_existing": spawning([SpawnJobModel(name="child-1", command="true"),
                                     SpawnJobModel(name="i", command="true")]),
        "negative_priority": spawning([SpawnJobModel(name="n", command="true", priority=-1)]),
        "bad_body": posted(api, f"/jobs/{caller.id}/spawn_jobs", {"jobs": [{"name": "no-command"}]}),
        "not_running": spawning([SpawnJobModel(name="j", command="true")], made["waiting"].id),
        "missing_job": spawning([SpawnJobModel(name="k", command="true")], 987654321),
    }
    api.complete_job(caller.id, "completed", run_id, torc_result(wf, caller, run_id, node))
    after = {j.name: j.status for j in api.list_jobs(workflow_id=wf.id).items}
    claimed = [j.name for j in api.claim_next_jobs(wf.id, limit=10).jobs]
    lineage = {u.name: u.data for u in api.list_user_data(workflow_id=wf.id).items}
    return {"caller": caller.id, "big": big.id, "first": dump(first), "replay": dump(replay), "second": dump(second),
            "final": dump(final), "spawned": spawned, "refused": refused, "after": after, "claimed": claimed,
            "lineage": lineage, "job_ids": api.list_job_ids(wf.id).job_ids,
            "total_jobs": api.get_workflow_status(wf.id).total_jobs, "ephemeral": [u.name for u in api.list_user_data(workflow_id=wf.id,
                                                                                  is_ephemeral=True).items]}


@scenario
def orchestrated(api: Any, command: str) -> dict[str, Any]:
    """A workflow of one job whose `command` spawns jobs through this client while it runs."""
    wf = new_workflow(api, "compat-orchestrated", keep=True)
    api.create_job(JobModel(workflow_id=wf.id, name="orchestrator", command=command))
    return {"workflow_id": wf.id}


def main() -> None:
    url, name, *args = sys.argv[1:]
    api = make_api(url)
    if os.environ.get("TORC_PASSWORD"):  # a server with users: Basic authentication, as Torc's clients send it
        secret = base64.b64encode(f"{os.environ['TORC_USER']}:{os.environ['TORC_PASSWORD']}".encode()).decode()
        api.api_client.set_default_header("Authorization", f"Basic {secret}")
    try:
        print(json.dumps(SCENARIOS[name](api, *args), default=str))
    finally:
        for wid in MADE:
            try:
                api.delete_workflow(wid)
            except ApiException:
                pass  # deleted by the scenario


if __name__ == "__main__":
    main()
