"""Deleting what other records refer to: jobs others depend on, files and user_data that jobs read or write,
resource requirements that jobs use; and names of resource requirements that stay unique in a workflow."""

from __future__ import annotations

from pathlib import Path

import pymongo
import pytest

from api.storage.hashes import definition_hash
from tests.claims.test_http_claims import claim, finish, register
from torc_client import Client
from torc_client.core.errors import ConflictError, NotFoundError, ValidationError

FAN_OUT = {"name": "fan-out", "jobs": [
    {"name": "prep", "command": "true"},
    {"name": "sim_{i}", "command": "true", "depends_on": ["prep"], "parameters": {"i": "1:2"}},
]}  # fmt: skip
PIPE = {"name": "pipe", "jobs": [
    {"name": "prep", "command": "cp in.csv ${files.output.mid}"},
    {"name": "sim", "command": "cat ${files.input.mid} ${user_data.input.cfg}"},
    {"name": "store", "command": "echo ${user_data.output.cfg}"},
], "files": [{"name": "mid", "path": "mid.csv"}], "user_data": [{"name": "cfg"}]}  # fmt: skip


def _jobs(client: Client, workflow_id: int) -> dict[str, int]:
    return {job.name: job.id for job in client.list_jobs(workflow_id)}


def _run_everything(client: Client, workflow_id: int) -> None:
    node = register(client, workflow_id)
    while jobs := claim(client, workflow_id, node):
        finish(client, workflow_id, node, jobs)


# --- jobs -----------------------------------------------------------------------------------


def test_delete_job_frees_its_dependents_and_the_workflow_completes(client: Client, make_workflow) -> None:
    workflow = make_workflow(FAN_OUT)
    ids = _jobs(client, workflow.id)
    assert client.delete_job(ids["prep"]).name == "prep"
    assert [client.get_job(ids[name]).depends_on_job_ids for name in ("sim_1", "sim_2")] == [[], []]
    assert client.initialize_workflow(workflow.id).job_counts == {"ready": 2}
    _run_everything(client, workflow.id)
    assert client.workflow_status(workflow.id).is_complete


def test_delete_job_added_through_the_api_frees_the_job_added_after_it(client: Client, make_workflow) -> None:
    workflow = make_workflow({"name": "added", "jobs": [{"name": "root", "command": "true"}]})
    middle = client.create_job(workflow.id, "middle", "true", depends_on_job_ids=[_jobs(client, workflow.id)["root"]])
    last = client.create_job(workflow.id, "last", "true", depends_on_job_ids=[middle.id])
    client.delete_job(middle.id)
    assert client.get_job(last.id).depends_on_job_ids == []
    assert client.initialize_workflow(workflow.id).job_counts == {"ready": 2}
    _run_everything(client, workflow.id)
    assert client.workflow_status(workflow.id).is_complete


def test_delete_job_keeps_each_definition_hash_in_step(client: Client, make_workflow, server) -> None:
    workflow = make_workflow(FAN_OUT)
    client.delete_job(_jobs(client, workflow.id)["prep"])
    with pymongo.MongoClient(server.mongo_uri) as mongo:
        docs = list(mongo[server.database].jobs.find({"workflow_id": workflow.id}))
        assert {doc["name"]: doc["definition_hash"] == definition_hash(doc) for doc in docs} == {
            "sim_1": True, "sim_2": True}  # fmt: skip
        assert mongo[server.database].workflows.find_one({"_id": workflow.id})["needs_full_init"] is True


def test_delete_job_turns_what_it_wrote_into_an_input_that_must_exist(client: Client, make_workflow,
                                                                       tmp_path: Path) -> None:  # fmt: skip
    workflow = make_workflow(PIPE)
    client.delete_job(_jobs(client, workflow.id)["prep"])
    with pytest.raises(ValidationError, match=r"input file that no job produces does not exist: mid \(mid.csv\)"):
        client.initialize_workflow(workflow.id)
    (tmp_path / "mid.csv").write_text("1\n")
    assert client.initialize_workflow(workflow.id).job_counts == {"ready": 1, "blocked": 1}  # sim waits for store


# --- files and user_data --------------------------------------------------------------------


def test_delete_file_before_the_first_run_removes_it_from_its_jobs(client: Client, make_workflow) -> None:
    workflow = make_workflow(PIPE)
    ids, (mid,) = _jobs(client, workflow.id), client.list_files(workflow.id)
    assert client.delete_file(mid.id).name == "mid"
    assert (client.get_job(ids["prep"]).output_file_ids, client.get_job(ids["sim"]).input_file_ids) == ([], [])
    # Without the file, sim no longer waits for prep: only for store, through cfg.
    assert client.initialize_workflow(workflow.id).job_counts == {"ready": 2, "blocked": 1}


def test_delete_required_input_file_before_the_first_run_lets_it_initialise(client: Client, make_workflow,
                                                                             server) -> None:  # fmt: skip
    workflow = make_workflow({"name": "reads", "jobs": [{"name": "a", "command": "cat ${files.input.data}"}],
                              "files": [{"name": "data", "path": "absent.csv"}]})  # fmt: skip
    with pymongo.MongoClient(server.mongo_uri) as mongo:
        inputs = mongo[server.database].workflow_inputs
        (data,) = client.list_files(workflow.id)
        assert inputs.find_one({"_id": workflow.id})["files"] == [data.id]
        client.delete_file(data.id)
        assert inputs.find_one({"_id": workflow.id})["files"] == []
    assert client.get_job(_jobs(client, workflow.id)["a"]).input_file_ids == []
    assert client.initialize_workflow(workflow.id).job_counts == {"ready": 1}


def test_delete_file_that_jobs_use_after_the_first_run_is_refused(client: Client, make_workflow) -> None:
    workflow = make_workflow(PIPE, initialize=True)
    (mid,) = client.list_files(workflow.id)
    with pytest.raises(ConflictError) as caught:
        client.delete_file(mid.id)
    assert caught.value.status_code == 409
    assert caught.value.message.startswith(f"file {mid.id} (mid) is read by 1 job (sim) and written by 1 job (prep) "
                                           f"of workflow {workflow.id}, which has run")  # fmt: skip
    assert client.get_file(mid.id) == mid
    assert client.get_job(_jobs(client, workflow.id)["sim"]).input_file_ids == [mid.id]


def test_delete_unused_file_after_the_first_run_is_allowed(client: Client, make_workflow) -> None:
    workflow = make_workflow(FAN_OUT, initialize=True)
    spare = client.create_file(workflow.id, "spare", "spare.txt")
    assert client.delete_file(spare.id) == spare
    with pytest.raises(NotFoundError):
        client.get_file(spare.id)


def test_delete_user_data_before_the_first_run_removes_it_from_its_jobs(client: Client, make_workflow) -> None:
    workflow = make_workflow(PIPE)
    ids, (cfg,) = _jobs(client, workflow.id), client.list_user_data(workflow.id)
    client.delete_user_data(cfg.id)
    assert (client.get_job(ids["sim"]).input_user_data_ids, client.get_job(ids["store"]).output_user_data_ids) == (
        [], [])  # fmt: skip
    assert client.list_user_data(workflow.id, consumer_job_id=ids["sim"]) == []


def test_delete_user_data_that_jobs_use_after_the_first_run_is_refused(client: Client, make_workflow,
                                                                        tmp_path: Path) -> None:  # fmt: skip
    (tmp_path / "mid.csv").write_text("1\n")
    workflow = make_workflow({**PIPE, "jobs": PIPE["jobs"][1:]}, initialize=True)
    (cfg,) = client.list_user_data(workflow.id)
    with pytest.raises(ConflictError, match=rf"^user_data {cfg.id} \(cfg\) is read by 1 job \(sim\) and written by 1 "
                                            rf"job \(store\) of workflow {workflow.id}, which has run"):  # fmt: skip
        client.delete_user_data(cfg.id)
    assert client.get_user_data(cfg.id).name == "cfg"


# --- resource requirements ------------------------------------------------------------------


def test_resource_requirements_share_names_except_default(client: Client, make_workflow) -> None:
    workflow = make_workflow(FAN_OUT)
    big = client.create_resource_requirements(workflow.id, "big", num_cpus=4)
    small = client.create_resource_requirements(workflow.id, "small")
    default = client.list_resource_requirements(workflow.id, name="default")[0]
    with pytest.raises(ConflictError, match=f"workflow {workflow.id} already has resource requirements named "
                                            f"'default' \\(id {default.id}\\), which jobs added without"):  # fmt: skip
        client.update_resource_requirements(big.id, name="default")
    with pytest.raises(ConflictError, match="already has resource requirements named 'default'"):
        client.create_resource_requirements(workflow.id, "default")
    twin = client.create_resource_requirements(workflow.id, "big", num_cpus=2)  # Torc allows two of one name
    assert sorted(rr.id for rr in client.list_resource_requirements(workflow.id, name="big")) == [big.id, twin.id]
    client.delete_resource_requirements(twin.id)
    with pytest.raises(ConflictError, match=f"{default.id} are workflow {workflow.id}'s default .* keep the name"):
        client.update_resource_requirements(default.id, name="standard")
    assert client.update_resource_requirements(big.id, name="large", num_cpus=8).name == "large"
    assert client.update_resource_requirements(small.id, name="small").name == "small"  # its own name is no clash
    names = sorted(rr.name for rr in client.list_resource_requirements(workflow.id))
    assert names == ["default", "large", "small"]


def test_delete_resource_requirements_refuses_default_and_groups_in_use(client: Client, make_workflow) -> None:
    spec = {"name": "rr", "resource_requirements": [{"name": "big", "num_cpus": 2}],
            "jobs": [{"name": "j{i}", "command": "true", "resource_requirements": "big", "parameters": {"i": "1:7"}}]}
    workflow = make_workflow(spec)
    rrs = {rr.name: rr for rr in client.list_resource_requirements(workflow.id)}
    with pytest.raises(ConflictError, match=f"{rrs['default'].id} are workflow {workflow.id}'s default .* cannot be"):
        client.delete_resource_requirements(rrs["default"].id)
    with pytest.raises(ConflictError) as caught:
        client.delete_resource_requirements(rrs["big"].id)
    assert caught.value.message.startswith(f"resource requirements {rrs['big'].id} (big) are used by 7 jobs of "
                                           f"workflow {workflow.id}: j1, j2, j3, j4, j5 and 2 more; give them other "
                                           "requirements first")  # fmt: skip
    assert client.get_resource_requirements(rrs["big"].id) == rrs["big"]


def test_delete_resource_requirements_removes_them_and_their_queue(client: Client, make_workflow, server) -> None:
    workflow = make_workflow(FAN_OUT, initialize=True)
    spare = client.create_resource_requirements(workflow.id, "spare", num_cpus=2)
    with pymongo.MongoClient(server.mongo_uri) as mongo:
        queues = mongo[server.database].queues
        assert queues.count_documents({"workflow_id": workflow.id, "rr_id": spare.id}) == 1
        assert client.delete_resource_requirements(spare.id) == spare
        assert queues.count_documents({"workflow_id": workflow.id, "rr_id": spare.id}) == 0
    with pytest.raises(NotFoundError, match=f"resource_requirements {spare.id} does not exist"):
        client.get_resource_requirements(spare.id)
    _run_everything(client, workflow.id)  # claims still work with the queue gone
    assert client.workflow_status(workflow.id).is_complete
