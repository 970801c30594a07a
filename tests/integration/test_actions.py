"""Workflow actions on the server: triggers counted with the job changes, claims that execute each once."""

from __future__ import annotations

import concurrent.futures

import pytest

from tests.claims.test_http_claims import claim, finish, register
from tests.conftest import start_server, stop_server
from torc_client import Client
from torc_client.core.errors import ConflictError

SCHEDULER = {"name": "short", "account": "proj", "walltime": "00:30:00"}


def action(trigger: str, **keys) -> dict:
    return {"trigger_type": trigger, "action_type": "run_commands", "commands": ["true"], **keys}


def staged(*actions: dict) -> dict:
    """prep1, prep2, then work1, work2 (each after its prep), with the given actions."""
    return {"name": "staged", "slurm_schedulers": [SCHEDULER], "actions": list(actions), "jobs": [
        {"name": "prep{i}", "command": "true", "parameters": {"i": "1:2"}},
        {"name": "work{i}", "command": "true", "depends_on": ["prep{i}"], "parameters": {"i": "1:2"}}]}  # fmt: skip


def by_trigger(client: Client, workflow_id: int) -> dict[str, tuple[int, int, bool]]:
    return {a.trigger_type: (a.trigger_count, a.required_triggers, a.is_pending)
            for a in client.list_actions(workflow_id)}  # fmt: skip


def run_jobs(client: Client, workflow_id: int, node: int, names: set[str]) -> None:
    jobs = [j for j in claim(client, workflow_id, node, limit=10) if j.name in names]
    assert {j.name for j in jobs} == names
    finish(client, workflow_id, node, jobs)


def test_triggers_count_with_the_job_changes_that_meet_them(client: Client, make_workflow) -> None:
    wf = make_workflow(staged(action("on_workflow_start"), action("on_jobs_ready", job_name_regexes=["^work"]),
                              action("on_jobs_complete", jobs=["work1", "work2"]), action("on_workflow_complete"),
                              action("on_worker_start")))  # fmt: skip
    assert all(not pending for _, _, pending in by_trigger(client, wf.id).values())
    client.initialize_workflow(wf.id)
    assert by_trigger(client, wf.id) == {
        "on_workflow_start": (1, 1, True), "on_jobs_ready": (0, 2, False), "on_jobs_complete": (0, 2, False),
        "on_workflow_complete": (0, 1, False), "on_worker_start": (1, 1, True)}  # fmt: skip
    node = register(client, wf.id)
    run_jobs(client, wf.id, node, {"prep1", "prep2"})
    assert by_trigger(client, wf.id)["on_jobs_ready"] == (2, 2, True)
    work = sorted(claim(client, wf.id, node, limit=10), key=lambda j: j.name)
    finish(client, wf.id, node, work[:1])
    assert by_trigger(client, wf.id)["on_jobs_complete"] == (1, 2, False)
    finish(client, wf.id, node, work[1:])
    counts = by_trigger(client, wf.id)
    assert counts["on_jobs_complete"] == (2, 2, True) and counts["on_workflow_complete"] == (1, 1, True)


def test_a_repeated_completion_report_counts_a_job_once(client: Client, make_workflow) -> None:
    wf = make_workflow(staged(action("on_jobs_complete", jobs=["prep1", "prep2"])), initialize=True)
    node = register(client, wf.id)
    jobs = [j for j in claim(client, wf.id, node) if j.name == "prep1"]
    finish(client, wf.id, node, jobs)
    finish(client, wf.id, node, jobs)
    assert by_trigger(client, wf.id)["on_jobs_complete"] == (1, 2, False)


def test_an_action_raced_by_many_claimers_on_two_api_processes_runs_once(client, make_workflow, server, tmp_path):
    wf = make_workflow(staged(action("on_workflow_start")), initialize=True)
    (pending,) = client.list_actions(wf.id, pending=True)
    second = start_server(server.mongo_uri, server.database, tmp_path)
    nodes = [register(client, wf.id) for _ in range(12)]

    def try_claim(k: int) -> bool:
        with Client((server.url, second.url)[k % 2]) as own:
            try:
                own.claim_action(pending.id, nodes[k])
                return True
            except ConflictError:
                return False

    try:
        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            won = list(pool.map(try_claim, range(12)))
    finally:
        stop_server(second)
    assert won.count(True) == 1
    (after,) = client.list_actions(wf.id)
    assert after.executed and not after.is_pending and after.executed_by == nodes[won.index(True)]


def test_a_persistent_action_runs_once_per_compute_node(client: Client, make_workflow) -> None:
    wf = make_workflow(staged(action("on_worker_start", persistent=True)), initialize=True)
    first, second = register(client, wf.id), register(client, wf.id)
    (pending,) = client.list_actions(wf.id, pending=True, compute_node_id=first)
    client.claim_action(pending.id, first)
    with pytest.raises(ConflictError):
        client.claim_action(pending.id, first)
    assert client.list_actions(wf.id, pending=True, compute_node_id=first) == []
    assert client.claim_action(pending.id, second).executed_by == second


def test_an_action_not_yet_triggered_cannot_be_claimed(client: Client, make_workflow) -> None:
    wf = make_workflow(staged(action("on_workflow_complete")), initialize=True)
    (waiting,) = client.list_actions(wf.id)
    with pytest.raises(ConflictError, match="not pending"):
        client.claim_action(waiting.id, register(client, wf.id))


def allocation_when_ready(pattern: str) -> dict:
    return {"trigger_type": "on_jobs_ready", "action_type": "schedule_nodes", "scheduler": "short",
            "scheduler_type": "slurm", "job_name_regexes": [pattern]}  # fmt: skip


def test_an_allocation_asked_for_while_jobs_remain_is_claimed(client: Client, make_workflow) -> None:
    wf = make_workflow(staged(allocation_when_ready("^work")), initialize=True)
    node = register(client, wf.id)
    run_jobs(client, wf.id, node, {"prep1", "prep2"})
    (pending,) = client.list_actions(wf.id, pending=True)
    assert client.claim_action(pending.id, node).executed_by == node


def test_an_allocation_action_taken_after_the_workflow_finished_is_skipped_not_submitted(client, make_workflow):
    # The runner whose jobs fired the trigger ran the watched jobs itself and finished the workflow
    # before any runner's next action check: an allocation now would find nothing to run.
    wf = make_workflow(staged(allocation_when_ready("^work")), initialize=True)
    node = register(client, wf.id)
    run_jobs(client, wf.id, node, {"prep1", "prep2"})
    run_jobs(client, wf.id, node, {"work1", "work2"})
    (fired,) = client.list_actions(wf.id, pending=True)
    with pytest.raises(ConflictError, match=f"action {fired.id} was not executed: workflow {wf.id} is complete, so "
                                            "a new allocation would find no job to run"):  # fmt: skip
        client.claim_action(fired.id, node)
    assert client.list_actions(wf.id, pending=True) == []
    with pytest.raises(ConflictError, match="not pending"):
        client.claim_action(fired.id, register(client, wf.id))
    skipped = [e.message for e in client.list_events(wf.id).items if e.category == "action"]
    assert skipped == [f"schedule_nodes action {fired.id} (on_jobs_ready) skipped by compute node {node}: workflow "
                       f"{wf.id} is complete, so a new allocation would find no job to run"]  # fmt: skip


def test_an_allocation_action_of_a_canceled_workflow_is_skipped(client: Client, make_workflow) -> None:
    wf = make_workflow(staged(allocation_when_ready("^work")), initialize=True)
    node = register(client, wf.id)
    run_jobs(client, wf.id, node, {"prep1", "prep2"})
    (fired,) = client.list_actions(wf.id, pending=True)
    client.cancel_workflow(wf.id)
    with pytest.raises(ConflictError, match=f"workflow {wf.id} is canceled"):
        client.claim_action(fired.id, node)
    assert client.list_actions(wf.id, pending=True) == []


def test_reinitialising_makes_executed_actions_pending_again(client: Client, make_workflow) -> None:
    wf = make_workflow(staged(action("on_workflow_start")), initialize=True)
    (pending,) = client.list_actions(wf.id, pending=True)
    client.claim_action(pending.id)
    assert client.list_actions(wf.id, pending=True) == []
    client.initialize_workflow(wf.id, force=True)
    assert [a.id for a in client.list_actions(wf.id, pending=True)] == [pending.id]


def test_slurm_schedulers_are_records_with_the_usual_endpoints(client: Client, make_workflow) -> None:
    wf = make_workflow(staged())
    (short,) = client.list_slurm_schedulers(wf.id)
    assert (short.name, short.account, short.walltime) == ("short", "proj", "00:30:00")
    added = client.create_slurm_scheduler(wf.id, "long", "proj", walltime="2-00:00:00", nodes=4)
    assert client.update_slurm_scheduler(added.id, qos="high").qos == "high"
    client.delete_slurm_scheduler(short.id)
    assert [s.name for s in client.list_slurm_schedulers(wf.id)] == ["long"]


def test_a_scheduler_with_a_walltime_that_does_not_parse_is_refused(client: Client, make_workflow) -> None:
    from torc_client.core.errors import ValidationError

    wf = make_workflow(staged())
    with pytest.raises(ValidationError, match="invalid walltime"):
        client.create_slurm_scheduler(wf.id, "bad", "proj", walltime="soon")


def test_actions_are_created_read_and_deleted_through_the_api(client: Client, make_workflow) -> None:
    from torc_client import contract as c

    wf = make_workflow(staged(), initialize=True)
    jobs = {j.name: j.id for j in client.list_jobs(wf.id)}
    (short,) = client.list_slurm_schedulers(wf.id)
    ready = client.create_action(c.WorkflowActionCreate(workflow_id=wf.id, trigger_type="on_jobs_ready",
                                                        action_type="schedule_nodes", scheduler_id=short.id,
                                                        job_ids=[jobs["prep1"], jobs["prep2"]]))  # fmt: skip
    assert (ready.trigger_count, ready.required_triggers, ready.is_pending) == (2, 2, True)  # counted at once
    assert ready.action_config["scheduler"] == "short"
    assert client.get_action(ready.id) == ready
    client.delete_action(ready.id)
    assert client.list_actions(wf.id) == []


@pytest.mark.parametrize(("fields", "message"), [
    ({"trigger_type": "on_jobs_complete", "action_type": "run_commands", "commands": ["true"]}, "must name the jobs"),
    ({"trigger_type": "on_job_done", "action_type": "run_commands", "commands": ["true"]}, "unknown trigger_type"),
    ({"trigger_type": "on_workflow_start", "action_type": "schedule_nodes"}, "needs scheduler_id"),
    ({"trigger_type": "on_workflow_start", "action_type": "run_commands"}, "at least one command"),
    ({"trigger_type": "on_jobs_ready", "action_type": "run_commands", "commands": ["x"], "job_ids": [10**9]},
     "not in workflow"),
])  # fmt: skip
def test_a_bad_action_is_refused_with_what_is_wrong(client: Client, make_workflow, fields, message) -> None:
    from torc_client import contract as c
    from torc_client.core.errors import ValidationError

    wf = make_workflow(staged())
    with pytest.raises(ValidationError, match=message):
        client.create_action(c.WorkflowActionCreate(workflow_id=wf.id, **fields))
