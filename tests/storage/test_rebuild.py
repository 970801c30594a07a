"""A workflow's jobs rebuilt for a new run (api.storage.initialize.rebuild and the first initialisation) on the real
embedded database, in this process: relationships recomputed, statuses reset, the ready queue refilled under a new
ticket, required inputs refreshed after edits."""

from __future__ import annotations

import os

import pytest

from api.storage import initialize, queue, transitions, workflows
from api.storage.db import Database
from api.storage.hashes import data_hash, definition_hash
from tests.storage.test_initialize import (
    by_name,
    graph_of,
    pipeline,
    reader,
    run_state,
    set_jobs,
    started,  # fmt: skip
)
from tests.storage.test_storage import make_workflow, run
from torc_client.contract import InitializeResult
from torc_client.core.errors import InvalidRequest


def test_first_initialise_opens_run_one_and_leaves_the_staged_jobs_and_queue_as_created(mongo_uri, tmp_path):
    (tmp_path / "raw.csv").write_text("x")

    async def scenario(db: Database):
        wid = await make_workflow(db, pipeline(tmp_path))
        before = await by_name(db, "jobs", wid), await queue.live_entries(db, wid)
        result = await initialize.initialize(db, wid)
        after = await by_name(db, "jobs", wid), await queue.live_entries(db, wid)
        return (wid, result, before, after, run_state(await workflows.get_doc(db, wid)), await started(db, wid),
                await by_name(db, "files", wid), await by_name(db, "user_data", wid))  # fmt: skip

    wid, result, before, after, state, events, files, data = run(mongo_uri, scenario)
    assert result == InitializeResult(workflow_id=wid, run_id=1, job_counts={"ready": 2, "blocked": 2}, warnings=[])
    assert after == before
    assert state == {"run_id": 1, "is_initialized": True, "is_canceled": False, "needs_full_init": False,
                     "completed_run": -1}  # fmt: skip
    assert events == [("workflow", "run 1 started", {"status": "initialized", "run_id": 1})]
    assert files == {"raw": {"_id": files["raw"]["_id"], "workflow_id": wid, "name": "raw", "path": "raw.csv",
                             "st_mtime": os.stat(tmp_path / "raw.csv").st_mtime},
                     "tidy": {"_id": files["tidy"]["_id"], "workflow_id": wid, "name": "tidy", "path": "tidy.csv"}}
    assert data == {"cfg": {"_id": data["cfg"]["_id"], "workflow_id": wid, "name": "cfg", "data": {"k": 1},
                            "is_ephemeral": False, "run_hash": data_hash({"k": 1})},
                    "res": {"_id": data["res"]["_id"], "workflow_id": wid, "name": "res", "data": None,
                            "is_ephemeral": False}}  # fmt: skip


def test_reinitialise_rebuilds_every_job_back_to_the_start_under_a_new_ticket(mongo_uri, tmp_path):
    (tmp_path / "raw.csv").write_text("x")

    async def scenario(db: Database):
        wid = await make_workflow(db, pipeline(tmp_path))
        await initialize.initialize(db, wid)
        old = await by_name(db, "jobs", wid)
        await db.jobs.update_many({"workflow_id": wid}, {"$set": {"status": "completed", "claim_token": "tok",
                                  "active_compute_node_id": 7, "attempt_id": 3, "lease_losses": 2}})  # fmt: skip
        await db.workflows.update_one({"_id": wid}, {"$set": {"counts": {"completed": 4}, "is_canceled": True,
                                                              "completed_run": 1}})  # fmt: skip
        await db.workflow_inputs.delete_one({"_id": wid})
        await db.user_data.update_one({"name": "cfg"}, {"$set": {"data": {"k": 2}}})
        result = await initialize.initialize(db, wid)
        wf = await workflows.get_doc(db, wid)
        return (wid, old, result, await by_name(db, "jobs", wid), await queue.live_entries(db, wid), run_state(wf),
                wf["counts"], await started(db, wid), await db.workflow_inputs.find_one({"_id": wid}),
                await by_name(db, "user_data", wid))  # fmt: skip

    wid, old, result, jobs, live, state, counts, events, inputs, data = run(mongo_uri, scenario)
    assert result == InitializeResult(workflow_id=wid, run_id=2, job_counts={"ready": 2, "blocked": 2}, warnings=[])
    assert graph_of(jobs) == {"prep": ("ready", [], ["report"], []),
                              "report": ("blocked", ["prep"], ["publish"], ["prep"]),
                              "publish": ("blocked", ["report"], [], ["report"]), "alone": ("ready", [], [], [])}
    assert {n: (d["claim_token"], d["active_compute_node_id"], d["attempt_id"], d["lease_losses"], d["definition_hash"])
            for n, d in jobs.items()} == {n: (None, None, 1, 0, d["definition_hash"]) for n, d in old.items()}
    ticket = jobs["prep"]["queue_ticket"]
    assert ticket != old["prep"]["queue_ticket"] and jobs["alone"]["queue_ticket"] == ticket
    assert "queue_ticket" not in jobs["report"] and "queue_ticket" not in jobs["publish"]
    assert live == {(jobs["prep"]["_id"], ticket), (jobs["alone"]["_id"], ticket)}
    assert state == {"run_id": 2, "is_initialized": True, "is_canceled": False, "needs_full_init": False,
                     "completed_run": -1}  # fmt: skip
    assert counts == {"ready": 2, "blocked": 2}
    assert events == [("workflow", "run 1 started", {"status": "initialized", "run_id": 1}),
                      ("workflow", "run 2 started", {"status": "initialized", "run_id": 2})]  # fmt: skip
    assert inputs == {"_id": wid, "workflow_id": wid, "files": [jobs["prep"]["input_files"][0]],
                      "user_data": [data["cfg"]["_id"]]}  # fmt: skip
    # No required inputs were stored, so nothing was checked or hashed again.
    assert (data["cfg"]["run_hash"], "run_hash" in data["res"]) == (data_hash({"k": 1}), False)


def test_reinitialise_rehashes_changed_input_user_data(mongo_uri, tmp_path):
    (tmp_path / "raw.csv").write_text("x")

    async def scenario(db: Database):
        wid = await make_workflow(db, pipeline(tmp_path))
        await initialize.initialize(db, wid)
        await db.user_data.update_one({"name": "cfg"}, {"$set": {"data": [1, 2]}})
        await initialize.initialize(db, wid)
        return {n: d.get("run_hash") for n, d in (await by_name(db, "user_data", wid)).items()}

    assert run(mongo_uri, scenario) == {"cfg": data_hash([1, 2]), "res": None}


def test_reinitialise_rewrites_changed_relationships_and_queues_the_jobs_they_free(mongo_uri, tmp_path):
    (tmp_path / "raw.csv").write_text("x")

    async def scenario(db: Database):
        wid = await make_workflow(db, pipeline(tmp_path))
        await initialize.initialize(db, wid)
        old = await by_name(db, "jobs", wid)
        await set_jobs(db, old, "prep", output_files=[])  # tidy: now read by report and produced by nobody
        await set_jobs(db, old, "alone", depends_on=[old["publish"]["_id"], 10**6])  # publish gains a downstream
        result = await initialize.initialize(db, wid)
        return (wid, old, result, await by_name(db, "jobs", wid), await queue.live_entries(db, wid),
                await db.workflow_inputs.find_one({"_id": wid}), await by_name(db, "files", wid))  # fmt: skip

    wid, old, result, jobs, live, inputs, files = run(mongo_uri, scenario)
    assert result.job_counts == {"ready": 2, "blocked": 2}
    assert graph_of(jobs) == {"prep": ("ready", [], [], []), "report": ("ready", [], ["publish"], []),
                              "publish": ("blocked", ["report"], ["alone"], ["report"]),
                              "alone": ("blocked", ["publish"], [], ["publish"])}  # fmt: skip
    assert {n: d["definition_hash"] for n, d in jobs.items()} == {n: definition_hash(d) for n, d in jobs.items()}
    assert {n for n in jobs if jobs[n]["definition_hash"] != old[n]["definition_hash"]} == {"prep", "report", "alone"}
    ticket = jobs["prep"]["queue_ticket"]
    assert jobs["report"]["queue_ticket"] == ticket and ticket != old["prep"]["queue_ticket"]
    assert live == {(jobs["prep"]["_id"], ticket), (jobs["report"]["_id"], ticket)}
    assert inputs == {"_id": wid, "workflow_id": wid, "files": [files["raw"]["_id"], files["tidy"]["_id"]],
                      "user_data": [jobs["prep"]["input_user_data"][0]]}  # fmt: skip


def test_reinitialise_leaves_disabled_jobs_alone_and_lets_their_downstream_go(mongo_uri, tmp_path):
    (tmp_path / "raw.csv").write_text("x")

    async def scenario(db: Database):
        wid = await make_workflow(db, pipeline(tmp_path))
        await initialize.initialize(db, wid)
        old = await by_name(db, "jobs", wid)
        await set_jobs(db, old, "prep", status="disabled", attempt_id=5, claim_token="kept")
        await set_jobs(db, old, "alone", depends_on=[old["prep"]["_id"], old["report"]["_id"]])
        result = await initialize.initialize(db, wid)
        return result, await by_name(db, "jobs", wid), await queue.live_entries(db, wid), \
            (await workflows.get_doc(db, wid))["counts"]

    result, jobs, live, counts = run(mongo_uri, scenario)
    assert result.job_counts == counts == {"disabled": 1, "ready": 1, "blocked": 2}
    # A disabled job keeps its status, but its relationships follow the edit (reruns walk `blocks`).
    assert graph_of(jobs) == {"prep": ("disabled", [], ["report", "alone"], []),
                              "report": ("ready", ["prep"], ["publish", "alone"], []),
                              "publish": ("blocked", ["report"], [], ["report"]),
                              "alone": ("blocked", ["prep", "report"], [], ["report"])}  # fmt: skip
    assert (jobs["prep"]["attempt_id"], jobs["prep"]["claim_token"]) == (5, "kept")
    assert live == {(jobs["report"]["_id"], jobs["report"]["queue_ticket"])}


def test_initialise_after_edits_refreshes_required_inputs_and_refuses_a_file_no_job_produces_any_more(mongo_uri,
                                                                                                    tmp_path):
    (tmp_path / "raw.csv").write_text("x")

    async def scenario(db: Database):
        wid = await make_workflow(db, pipeline(tmp_path))
        await db.jobs.delete_one({"workflow_id": wid, "name": "prep"})
        await db.workflow_inputs.delete_one({"_id": wid})
        await db.workflows.update_one({"_id": wid}, {"$set": {"needs_full_init": True}})
        with pytest.raises(InvalidRequest) as refused:
            await initialize.initialize(db, wid)
        inputs = await db.workflow_inputs.find_one({"_id": wid})
        unopened = run_state(await workflows.get_doc(db, wid))
        result = await initialize.initialize(db, wid, force=True)
        return (wid, refused.value, inputs, unopened, result, await by_name(db, "jobs", wid),
                run_state(await workflows.get_doc(db, wid)), await by_name(db, "files", wid))  # fmt: skip

    wid, refused, inputs, unopened, result, jobs, state, files = run(mongo_uri, scenario)
    tidy = files["tidy"]["_id"]
    assert type(refused) is InvalidRequest and refused.extra == {"missing_file_ids": [tidy]}
    assert str(refused) == (f"1 input file that no job produces does not exist: tidy (tidy.csv); create it, or "
                            f"initialise anyway with force (`torc workflows init {wid} --force`, `torc run --force`)")
    assert inputs == {"_id": wid, "workflow_id": wid, "files": [tidy], "user_data": []}
    assert unopened == {"run_id": 0, "is_initialized": False, "is_canceled": False, "needs_full_init": True,
                        "completed_run": -1}  # fmt: skip
    assert result == InitializeResult(workflow_id=wid, run_id=1, job_counts={"ready": 2, "blocked": 1},
                                      warnings=["1 input file is missing (initialised anyway because of force)"])
    assert graph_of(jobs) == {"report": ("ready", [], ["publish"], []),
                              "publish": ("blocked", ["report"], [], ["report"]),
                              "alone": ("ready", [], [], [])}  # fmt: skip
    assert state["needs_full_init"] is False and "st_mtime" not in files["raw"] and "st_mtime" not in files["tidy"]


def test_initialise_without_stored_required_inputs_checks_no_file(mongo_uri, tmp_path):
    async def scenario(db: Database):
        wid = await make_workflow(db, reader(tmp_path, 1))
        await db.workflow_inputs.delete_one({"_id": wid})
        return (await initialize.initialize(db, wid)).warnings, await db.workflow_inputs.find_one({"_id": wid})

    assert run(mongo_uri, scenario) == ([], None)


def test_implicit_upstream_joins_explicit_file_and_user_data_edges_sorted_without_self_or_unknown_jobs():
    docs = [{"_id": 1000, "output_files": [1], "output_user_data": [5]},
            {"_id": 9, "output_files": [2, 3]},
            {"_id": 17, "depends_on": [9, 404], "input_files": [1, 4], "output_user_data": [6]},
            {"_id": 40, "depends_on": [40, 17], "input_files": [2, 3, 7], "output_files": [7],
             "input_user_data": [5, 6, 8]},
            {"_id": 41, "input_user_data": [6], "input_files": [3]}]  # fmt: skip
    assert initialize.implicit_upstream(docs) == {1000: [], 9: [], 17: [9, 1000], 40: [9, 17, 1000], 41: [9, 17]}


@pytest.mark.parametrize(("ups", "disabled", "status"), [([], set(), "ready"), ([3], {3}, "ready"),
                                                         ([3, 4], {3}, "blocked"), ([4], {3}, "blocked")])  # fmt: skip
def test_initial_status_counts_a_disabled_upstream_job_as_done(ups, disabled, status):
    assert initialize._initial_status(ups, disabled) == status


def test_rebuild_takes_missing_lists_as_empty_and_ignores_upstream_jobs_that_are_gone(mongo_uri):
    async def scenario(db: Database):
        await db.jobs.insert_many([
            {"_id": 1, "workflow_id": 7, "name": "x", "status": "uninitialized", "rr_id": 1},
            {"_id": 2, "workflow_id": 7, "name": "y", "status": "completed", "depends_on": [1, 99], "rr_id": 1},
            {"_id": 3, "workflow_id": 7, "name": "z", "status": "blocked", "depends_on": [99], "rr_id": 1}])
        await initialize.rebuild(db, {"_id": 7})
        jobs = {d["name"]: (d["status"], d["upstream"], d["blocks"], d["waiting_on"]) async for d in db.jobs.find()}
        return jobs, await db.workflow_inputs.find_one({"_id": 7})

    jobs, inputs = run(mongo_uri, scenario)
    assert jobs == {"x": ("ready", [], [2], []), "y": ("blocked", [1], [], [1]), "z": ("ready", [], [], [])}
    assert inputs == {"_id": 7, "workflow_id": 7, "files": [], "user_data": []}


def test_reinitialising_one_workflow_leaves_another_workflows_jobs_and_inputs_alone(mongo_uri, tmp_path):
    (tmp_path / "raw.csv").write_text("x")
    other_dir = tmp_path / "other"
    other_dir.mkdir()

    async def scenario(db: Database):
        other = await make_workflow(db, reader(other_dir, 1))  # its input file does not exist: it cannot start
        wid = await make_workflow(db, pipeline(tmp_path))
        await initialize.initialize(db, wid)
        before = await by_name(db, "jobs", other)
        await db.workflows.update_one({"_id": wid}, {"$set": {"needs_full_init": True}})
        await initialize.initialize(db, wid)  # reads only its own jobs, and only its own inputs
        return before, await by_name(db, "jobs", other), (await db.workflow_inputs.find_one({"_id": wid}))["files"]

    before, after, inputs = run(mongo_uri, scenario)
    assert after == before and len(inputs) == 1


def test_a_queue_position_taken_before_two_rebuilds_hands_out_nothing(mongo_uri, tmp_path):
    # A claim cut short between taking a position and marking its job must not hand the job out after a new run:
    # every rebuild queues under a new ticket.
    (tmp_path / "raw.csv").write_text("x")

    async def scenario(db: Database):
        wid = await make_workflow(db, pipeline(tmp_path))
        await initialize.initialize(db, wid)
        await initialize.initialize(db, wid)
        jobs = await by_name(db, "jobs", wid)
        old = await queue.take(db, wid, jobs["prep"]["rr_id"], 1)
        await initialize.initialize(db, wid, force=True)
        moved, held = await transitions.mark_pending(db, old, 1, "late")
        return old, moved, held, (await by_name(db, "jobs", wid))["prep"]["status"]

    old, moved, held, status = run(mongo_uri, scenario)
    assert len(old) == 1 and (moved, held, status) == (0, [], "ready")


def test_reinitialise_records_the_definition_of_a_job_whose_command_was_edited(mongo_uri, tmp_path):
    (tmp_path / "raw.csv").write_text("x")

    async def scenario(db: Database):
        wid = await make_workflow(db, pipeline(tmp_path))
        await initialize.initialize(db, wid)
        jobs = await by_name(db, "jobs", wid)
        await set_jobs(db, jobs, "alone", command="echo edited")
        await initialize.initialize(db, wid)
        return (await by_name(db, "jobs", wid))["alone"]

    alone = run(mongo_uri, scenario)
    assert alone["definition_hash"] == definition_hash(alone)


def test_reinitialise_clears_what_a_job_waited_on_when_its_only_upstream_job_is_disabled(mongo_uri, tmp_path):
    (tmp_path / "raw.csv").write_text("x")

    async def scenario(db: Database):
        wid = await make_workflow(db, pipeline(tmp_path))
        await initialize.initialize(db, wid)
        jobs = await by_name(db, "jobs", wid)
        await set_jobs(db, jobs, "report", status="disabled")
        await initialize.initialize(db, wid)
        return graph_of(await by_name(db, "jobs", wid))["publish"]

    assert run(mongo_uri, scenario) == ("ready", ["report"], [], [])


def test_opening_a_run_counts_its_start_action_as_triggered(mongo_uri, tmp_path):
    spec = {**reader(tmp_path, 0), "actions": [
        {"trigger_type": "on_workflow_start", "action_type": "run_commands", "commands": ["echo started"]}]}

    async def scenario(db: Database):
        wid = await make_workflow(db, spec)
        await initialize.initialize(db, wid)
        action = await db.workflow_actions.find_one({"workflow_id": wid})
        return action["required_triggers"], action["trigger_count"], action["executed"]

    assert run(mongo_uri, scenario) == (1, 1, False)
