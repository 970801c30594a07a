"""Torc's batch calls: bulk files and user_data, batched completions, spawned jobs."""

from __future__ import annotations

import json
from typing import Any

from scenarios import dump, new_node, new_workflow, refusal, scenario
from torc.openapi_client import (
    FileModel,
    JobModel,
    ResourceRequirementsModel,
    ResultModel,
    UserDataModel,
)


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
