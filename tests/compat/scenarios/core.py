"""Torc 0.12's calls: records created, read, listed, updated and deleted; workflow questions; a run."""

from __future__ import annotations

import json
from typing import Any

from scenarios import dump, new_node, new_workflow, scenario
from torc.openapi_client import (
    EventModel,
    FileModel,
    JobModel,
    ResourceRequirementsModel,
    ResultModel,
    SlurmSchedulerModel,
    UserDataModel,
)
from torc.openapi_client.exceptions import ApiException


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
def allocations(api: Any) -> dict[str, Any]:
    """A Slurm allocation's record (scheduled compute node): created, read, listed, updated, deleted."""
    from torc.openapi_client import ScheduledComputeNodesModel

    wf = new_workflow(api, "compat-allocations")
    scheduler = api.create_slurm_scheduler(SlurmSchedulerModel(workflow_id=wf.id, name="batch", account="acct",
                                                               walltime="01:00:00", nodes=1))  # fmt: skip
    made = api.create_scheduled_compute_node(ScheduledComputeNodesModel(
        workflow_id=wf.id, scheduler_id=4242, scheduler_config_id=scheduler.id, scheduler_type="slurm",
        status="pending"))  # fmt: skip
    read = api.get_scheduled_compute_node(made.id)
    read.status = "active"
    updated = api.update_scheduled_compute_node(made.id, read)
    listed = api.list_scheduled_compute_nodes(wf.id)
    deleted = api.delete_scheduled_compute_node(made.id)
    return {"created": dump(made), "updated": dump(updated), "listed": dump(listed.items), "deleted": dump(deleted),
            "scheduler_id": scheduler.id}


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
