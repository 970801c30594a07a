"""Editing a workflow from the command line: create, update and delete jobs, files and resource requirements;
update workflows; read one result, the failed ones, and the events of one category."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import Cli
from torc_client import Client
from torc_client.core import errors

SPEC = {
    "name": "editable",
    "jobs": [{"name": "first", "command": "echo one"}, {"name": "second", "command": "echo two"}],
    "files": [{"name": "data", "path": "data.csv"}],
}
RAN = {"name": "ran", "jobs": [{"name": "good", "command": "true"}, {"name": "bad", "command": "exit 3"}]}
MISSING = 999999999


@pytest.fixture(scope="module")
def ran(server, tmp_path_factory: pytest.TempPathFactory) -> int:
    """A workflow that ran once: one job completed, one failed with return code 3."""
    cli = Cli(server.url, tmp_path_factory.mktemp("ran"))
    with Client(server.url) as client:
        workflow = client.create_workflow_from_spec(RAN, working_dir=str(cli.cwd))
    assert cli("run", str(workflow.id), "-p", "0.2", check=False).returncode == 1  # a job failed
    return workflow.id


def _jobs(client: Client, workflow_id: int) -> dict[str, int]:
    return {job.name: job.id for job in client.list_jobs(workflow_id)}


# --- resource requirements ------------------------------------------------------------------


def test_resource_requirements_create_then_update_store_the_amounts(cli, make_workflow, client) -> None:
    workflow = make_workflow(SPEC)
    created = json.loads(cli("resource-requirements", "create", str(workflow.id), "--name", "big", "--num-cpus", "4",
                             "--memory", "2g", "--runtime", "1h30m", "-f", "json").stdout)  # fmt: skip
    stored = client.get_resource_requirements(created["id"])
    assert created == stored.to_dict()
    assert (stored.name, stored.num_cpus, stored.num_gpus, stored.memory, stored.runtime, stored.runtime_s,
            stored.memory_bytes) == ("big", 4, 0, "2g", "PT1H30M", 5400.0, 2 << 30)  # fmt: skip
    updated = cli("resource-requirements", "update", str(stored.id), "--runtime", "P0DT2H", "--num-gpus", "1")
    assert f"Updated resource_requirements {stored.id}" in updated.stderr and updated.stdout == ""
    again = client.get_resource_requirements(stored.id)
    assert (again.num_cpus, again.num_gpus, again.runtime_s, again.memory) == (4, 1, 7200.0, "2g")


def test_resource_requirements_with_a_bad_memory_size_is_refused_before_sending(cli, make_workflow, client) -> None:
    workflow = make_workflow(SPEC)
    before = client.list_resource_requirements(workflow.id)
    result = cli("resource-requirements", "create", str(workflow.id), "--name", "x", "--memory", "lots", check=False)
    assert result.returncode == 2
    assert "Invalid value for '--memory': invalid memory 'lots'" in result.stderr and "16g" in result.stderr
    assert client.list_resource_requirements(workflow.id) == before


def test_resource_requirements_delete_removes_an_unused_group_and_refuses_default(cli, make_workflow, client) -> None:
    workflow = make_workflow(SPEC)
    spare = client.create_resource_requirements(workflow.id, "spare")
    deleted = cli("resource-requirements", "delete", str(spare.id), "-f", "json")
    assert f"Deleted resource_requirements {spare.id}" in deleted.stderr
    assert json.loads(deleted.stdout) == spare.to_dict()
    default = client.list_resource_requirements(workflow.id, name="default")[0]
    refused = cli("resource-requirements", "delete", str(default.id), check=False)
    assert refused.returncode == 1 and refused.stdout == ""
    assert f"resource requirements {default.id} are workflow {workflow.id}'s default" in refused.stderr
    assert [rr.name for rr in client.list_resource_requirements(workflow.id)] == ["default"]


# --- jobs -----------------------------------------------------------------------------------


def test_jobs_create_names_its_resources_and_what_it_depends_on(cli, make_workflow, client) -> None:
    workflow = make_workflow(SPEC)
    big = client.create_resource_requirements(workflow.id, "big", num_cpus=2)
    first, data = _jobs(client, workflow.id)["first"], client.list_files(workflow.id)[0].id
    created = cli("jobs", "create", str(workflow.id), "--name", "third", "--command", "cat data.csv", "-r", "big",
                  "-b", str(first), "--input-file", str(data))  # fmt: skip
    job_id = _jobs(client, workflow.id)["third"]
    assert f"Created job {job_id}" in created.stderr and "│ command " in created.stdout
    job = client.get_job(job_id)
    assert (job.command, job.resource_requirements_id, job.depends_on_job_ids, job.input_file_ids) == (
        "cat data.csv", big.id, [first], [data])  # fmt: skip


def test_jobs_update_then_delete(cli, make_workflow, client) -> None:
    workflow = make_workflow(SPEC)
    small = client.create_resource_requirements(workflow.id, "small")
    job_id = _jobs(client, workflow.id)["second"]
    updated = json.loads(cli("jobs", "update", str(job_id), "--name", "renamed", "--command", "echo changed",
                             "-r", str(small.id), "-f", "json").stdout)  # fmt: skip
    job = client.get_job(job_id)
    assert (job.name, job.command, job.resource_requirements_id) == ("renamed", "echo changed", small.id)
    assert updated["name"] == "renamed"
    deleted = json.loads(cli("jobs", "delete", str(job_id), "-f", "json").stdout)
    assert deleted["id"] == job_id
    with pytest.raises(errors.NotFoundError):
        client.get_job(job_id)


def test_jobs_delete_after_the_first_run_is_refused_by_the_server(cli, client, ran: int) -> None:
    job_id = _jobs(client, ran)["good"]
    result = cli("jobs", "delete", str(job_id), check=False)
    assert result.returncode == 1 and f"workflow {ran} is initialised" in result.stderr
    assert client.get_job(job_id).status == "completed"


def test_update_without_changes_is_a_usage_error(cli) -> None:
    result = cli("jobs", "update", "1", check=False)
    assert result.returncode == 2 and "nothing to update: pass at least one of --name, --command" in result.stderr


# --- files ----------------------------------------------------------------------------------


def test_files_create_update_delete(cli, make_workflow, client) -> None:
    workflow = make_workflow(SPEC)
    created = json.loads(cli("files", "create", str(workflow.id), "--name", "report", "--path", "out/report.txt",
                             "-f", "json").stdout)  # fmt: skip
    assert client.get_file(created["id"]).path == "out/report.txt"
    cli("files", "update", str(created["id"]), "--path", "out/final.txt")
    assert (client.get_file(created["id"]).name, client.get_file(created["id"]).path) == ("report", "out/final.txt")
    deleted = cli("files", "delete", str(created["id"]))
    assert f"Deleted file {created['id']}" in deleted.stderr
    assert [f.name for f in client.list_files(workflow.id)] == ["data"]


# --- results, events, workflows -------------------------------------------------------------


def test_results_list_failed_shows_only_what_did_not_complete(cli, client, ran: int) -> None:
    failed = json.loads(cli("results", "list", str(ran), "--failed", "-f", "json").stdout)
    assert [(r["job_id"], r["return_code"], r["status"]) for r in failed] == [
        (_jobs(client, ran)["bad"], 3, "failed")]  # fmt: skip
    assert len(client.list_results(ran)) == 2


def test_results_get_shows_one_result(cli, client, ran: int) -> None:
    result = client.list_results(ran)[0]
    table = cli("results", "get", str(result.id)).stdout
    assert f"│ id                │ {result.id}" in table and f"│ return_code       │ {result.return_code}" in table


def test_events_list_type_filters_on_the_server(cli, client, ran: int) -> None:
    every = client.list_events(ran).items
    jobs = [e.id for e in every if e.category == "job"]
    listed = json.loads(cli("events", "list", str(ran), "--type", "job", "-f", "json").stdout)
    assert [e["id"] for e in listed] == jobs and len(jobs) < len(every)
    page = client.list_events(ran, category="job", after=jobs[0], limit=1)
    assert ([e.id for e in page.items], page.total_count, page.has_more) == (jobs[1:2], len(jobs) - 1, True)


def test_workflows_update_changes_the_stored_workflow(cli, make_workflow, client) -> None:
    workflow = make_workflow(SPEC)
    updated = json.loads(cli("workflows", "update", str(workflow.id), "--name", "renamed", "--description", "new",
                             "--metadata", '{"owner": "ops"}', "-f", "json").stdout)  # fmt: skip
    stored = client.get_workflow(workflow.id)
    assert (stored.name, stored.description, stored.metadata) == ("renamed", "new", {"owner": "ops"})
    assert updated["name"] == "renamed"


# --- missing records ------------------------------------------------------------------------

#: One command per kind of record (each kind is a different request); the error path itself is shared.
MISSING_RECORDS = {
    "job": ("jobs", "delete", str(MISSING)),
    "file": ("files", "update", str(MISSING), "--path", "x"),
    "result": ("results", "get", str(MISSING)),
    "resource_requirements": ("resource-requirements", "update", str(MISSING), "--num-cpus", "2"),
    "workflow": ("workflows", "update", str(MISSING), "--name", "x"),
}


def test_a_missing_id_says_which_record_and_exits_non_zero(cli) -> None:
    with ThreadPoolExecutor(len(MISSING_RECORDS)) as pool:  # independent processes: run them side by side
        results = dict(zip(MISSING_RECORDS, pool.map(lambda argv: cli(*argv, check=False), MISSING_RECORDS.values())))
    for kind, result in results.items():
        assert (result.returncode, result.stdout) == (1, ""), kind
        assert f"{kind} {MISSING} does not exist" in result.stderr, (kind, result.stderr)
