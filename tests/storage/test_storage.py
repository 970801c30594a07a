"""The storage layer's guarantees checked in this process, on the real database: a workflow built from a spec,
initialised, claimed and expired through `api.storage` itself, with no API server between (so each guarantee is
held by the module that owns it, and mutation testing sees the code it runs)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from api.storage import (
    actions,
    claims,
    create,
    expiry,
    initialize,
    leases,
    queue,
    transitions,
    workflows,
)
from api.storage.db import Database
from torc_client import contract as c
from torc_client.core.errors import InvalidRequest, InvalidTransition
from torc_client.core.settings import DEFAULT_MAX_LEASE_RETRIES
from torc_client.spec import build_plan

LEASE_SECONDS = 30.0


def run(mongo_uri: str, scenario) -> object:
    async def main():
        db = Database(mongo_uri, f"core_{uuid.uuid4().hex[:8]}")
        try:
            await db.ensure_indexes()
            return await scenario(db)
        finally:
            await db.client.drop_database(db.db.name)
            await db.close()

    return asyncio.run(main())


async def make_workflow(db: Database, spec: dict) -> int:
    return (await create.create_from_plan(db, build_plan(spec), "tester", None)).id


async def claim_one(db: Database, wid: int) -> tuple[int, list[c.ClaimedJob]]:
    """A new runner registers and claims one job; returns its node id and what it got."""
    node = await leases.register(db, c.ComputeNodeCreate(workflow_id=wid, hostname="host", pid=1, num_cpus=1,
                                                         memory_gb=1.0), LEASE_SECONDS)  # fmt: skip
    answer = await claims.claim(db, wid, c.ClaimRequest(compute_node_id=node.id, limit=1, num_cpus=1, memory_gb=1.0),
                                LEASE_SECONDS)  # fmt: skip
    return node.id, answer.jobs


async def die(db: Database, wid: int, node_id: int) -> None:
    """The runner of `node_id` stops renewing its lease, and the next lease check (due now) finds it expired."""
    now = time.time()
    await db.compute_nodes.update_one({"_id": node_id}, {"$set": {"lease_until": now - 1}})
    await db.workflows.update_one({"_id": wid}, {"$set": {"lease_check_at": now - 1}})
    await expiry.expire_due(db, await workflows.get_doc(db, wid), LEASE_SECONDS)


def test_lease_expiry_fails_a_job_whose_runners_keep_dying_once_its_lease_losses_are_used_up(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await make_workflow(db, {"name": "dying", "jobs": [{"name": "victim", "command": "true"}]})
        await initialize.initialize(db, wid)
        seen = []
        for _ in range(DEFAULT_MAX_LEASE_RETRIES + 1):
            node, jobs = await claim_one(db, wid)
            assert [j.name for j in jobs] == ["victim"]
            await die(db, wid, node)
            job = await db.jobs.find_one({"workflow_id": wid})
            seen.append((job["status"], job.get("lease_losses", 0), job["claim_token"]))
        results = [(r["return_code"], r["status"]) async for r in db.results.find({"workflow_id": wid})]
        return seen, results, (await claim_one(db, wid))[1], workflows.status_of(await workflows.get_doc(db, wid))

    seen, results, after, status = run(mongo_uri, scenario)
    requeued = [("ready", loss, None) for loss in range(1, DEFAULT_MAX_LEASE_RETRIES + 1)]
    assert seen[:-1] == requeued and seen[-1][0] == "failed"
    assert results == [(expiry.ORPHANED_RETURN_CODE, "failed")]
    assert after == [] and status.is_complete


def test_lease_expiry_requeues_the_jobs_of_a_dead_runner_once_and_leaves_live_runners_alone(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await make_workflow(db, {"name": "two", "jobs": [{"name": "a", "command": "true"},
                                                               {"name": "b", "command": "true"}]})  # fmt: skip
        await initialize.initialize(db, wid)
        dead, (lost,) = await claim_one(db, wid)
        alive, (kept,) = await claim_one(db, wid)
        await die(db, wid, dead)
        await die(db, wid, dead)  # a second check finds nothing more to do
        docs = {d["name"]: d async for d in db.jobs.find({"workflow_id": wid})}
        nodes = {n["_id"]: n["is_active"] async for n in db.compute_nodes.find({"workflow_id": wid})}
        counts = (await workflows.get_doc(db, wid))["counts"]
        return lost.name, kept.name, docs, nodes, dead, alive, counts

    lost, kept, docs, nodes, dead, alive, counts = run(mongo_uri, scenario)
    assert (docs[lost]["status"], docs[lost]["lease_losses"], docs[lost]["active_compute_node_id"]) == ("ready", 1, None)
    assert (docs[kept]["status"], docs[kept].get("lease_losses", 0), docs[kept]["active_compute_node_id"]) == (
        "pending", 0, alive)
    assert nodes == {dead: False, alive: True}
    assert {k: v for k, v in counts.items() if v} == {"ready": 1, "pending": 1}


def test_rebuild_refuses_a_cycle_of_depends_on_and_names_it(mongo_uri) -> None:
    # Jobs whose explicit dependencies close a loop (as edits through the API can): the server's own graph rebuild
    # must refuse them, whatever the spec checks did.
    async def scenario(db: Database):
        await db.jobs.insert_many([
            {"_id": 1, "workflow_id": 7, "name": "x", "status": "uninitialized", "depends_on": [3], "rr_id": 1},
            {"_id": 2, "workflow_id": 7, "name": "y", "status": "uninitialized", "depends_on": [1], "rr_id": 1},
            {"_id": 3, "workflow_id": 7, "name": "z", "status": "uninitialized", "depends_on": [2], "rr_id": 1}])
        with pytest.raises(InvalidRequest) as refused:
            await initialize.rebuild(db, {"_id": 7})
        return str(refused.value), [d["status"] async for d in db.jobs.find({"workflow_id": 7})]

    message, statuses = run(mongo_uri, scenario)
    assert message in {"dependency cycle: x -> z -> y -> x", "dependency cycle: y -> x -> z -> y",
                       "dependency cycle: z -> y -> x -> z"}  # fmt: skip
    assert statuses == ["uninitialized"] * 3


async def claimed(db: Database, n_jobs: int, limit: int) -> tuple[int, int, list[c.ClaimedJob]]:
    """A fresh workflow of `n_jobs` independent jobs, initialised, and one runner's claim of up to `limit`."""
    wid = await make_workflow(db, {"name": "flat", "jobs": [{"name": "j{i}", "command": "true",
                                                             "parameters": {"i": f"1:{n_jobs}"}}]})  # fmt: skip
    await initialize.initialize(db, wid)
    node = await leases.register(db, c.ComputeNodeCreate(workflow_id=wid, hostname="host", pid=1, num_cpus=8,
                                                         memory_gb=8.0), LEASE_SECONDS)  # fmt: skip
    answer = await claims.claim(db, wid, c.ClaimRequest(compute_node_id=node.id, limit=limit, num_cpus=max(8, limit),
                                                        memory_gb=8.0), LEASE_SECONDS)  # fmt: skip
    return wid, node.id, answer.jobs


async def events(db: Database, wid: int, containing: str) -> list[tuple[str, str, dict]]:
    """The workflow's events whose message contains `containing`, as (category, message, data), oldest first."""
    return [(e["category"], e["message"], e["data"]) async for e in db.events.find({"workflow_id": wid}).sort("seq", 1)
            if containing in e["message"]]  # fmt: skip


async def job_states(db: Database, wid: int) -> dict[int, tuple]:
    return {d["_id"]: (d["status"], d["claim_token"], d["active_compute_node_id"], d.get("attempt_id", 1))
            async for d in db.jobs.find({"workflow_id": wid})}  # fmt: skip


def test_start_accepts_only_the_claim_token_workflow_and_node_holding_the_job(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, (a, b, d) = await claimed(db, 4, 3)
        other_wid, other_node, _ = await claimed(db, 1, 0)
        starts = [(a.id, a.claim_token), (b.id, "not-the-token")]
        mine = await transitions.start(db, wid, node, starts)
        elsewhere = await transitions.start(db, wid, other_node, [(d.id, d.claim_token)])
        stolen = await transitions.start(db, wid, other_node, [(a.id, a.claim_token)])  # running, on the other node
        wrong_workflow = await transitions.start(db, other_wid, node, [(d.id, d.claim_token)])
        missing = await transitions.start(db, wid, node, [(10**9, "x")])
        counts = (await workflows.get_doc(db, wid))["counts"]
        return (a.id, b.id, d.id, node, other_node, other_wid), mine, elsewhere, wrong_workflow, missing, counts, \
            await job_states(db, wid), stolen, await events(db, wid, "started on compute node")

    (a, b, d, node, other_node, other_wid), mine, elsewhere, wrong_wf, missing, counts, states, stolen, started = run(
        mongo_uri, scenario)
    assert stolen == ([], [(a, f"job {a} is held by compute node {node}, not {other_node}")])
    assert started == [("job", f"1 job started on compute node {node}",
                        {"status": "running", "job_ids": [a], "compute_node_id": node})]
    assert mine[0] == [a] and [jid for jid, _ in mine[1]] == [b] and "no longer held by this claim" in mine[1][0][1]
    assert elsewhere == ([], [(d, f"job {d} is held by compute node {node}, not {other_node}")])
    assert wrong_wf[0] == [] and wrong_wf[1][0][1].startswith(f"job {d} belongs to workflow ")
    assert missing == ([], [(10**9, f"job {10**9} does not exist")])
    assert {k: v for k, v in counts.items() if v} == {"ready": 1, "pending": 2, "running": 1}
    assert [s[0] for _, s in sorted(states.items())] == ["running", "pending", "pending", "ready"]


def test_finish_moves_each_job_once_from_where_it_is_and_repeats_answer_the_same(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, (a, b, d) = await claimed(db, 3, 3)
        await transitions.start(db, wid, node, [(a.id, a.claim_token)])
        outcomes = [(a.id, a.claim_token, "completed"), (b.id, b.claim_token, "failed"), (d.id, "stale", "completed")]
        first = await transitions.finish(db, wid, outcomes, node)
        again = await transitions.finish(db, wid, outcomes, node)
        return (a.id, b.id, d.id), first, again, await job_states(db, wid)

    (a, b, d), first, again, states = run(mongo_uri, scenario)
    accepted, moved, rejected, delta = first
    assert sorted((doc["_id"], doc["status"]) for doc in accepted) == [(a, "completed"), (b, "failed")]
    assert moved == {a, b} and [jid for jid, _ in rejected] == [d]
    assert delta == {"running": -1, "completed": 1, "pending": -1, "failed": 1}
    assert sorted(doc["_id"] for doc in again[0]) == [a, b] and again[1:] == (set(), rejected, {})
    assert (states[a][0], states[a][2], states[b][0], states[d][0]) == ("completed", None, "failed", "pending")


def test_retry_puts_a_job_back_in_the_queue_with_its_next_attempt(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, (a, b) = await claimed(db, 2, 2)
        moved, delta = await transitions.retry(db, wid, [(a.id, a.claim_token), (b.id, "stale")], node)
        again = await transitions.retry(db, wid, [(a.id, a.claim_token)], node)
        states = await job_states(db, wid)
        ticket = (await db.jobs.find_one({"_id": a.id}))["queue_ticket"]
        entries = await queue.take(db, wid, a.resource_requirements_id, 5)
        return (a.id, b.id, node), moved, delta, again, states, ticket, entries

    (a, b, node), moved, delta, again, states, ticket, entries = run(mongo_uri, scenario)
    assert [(d["_id"], d["attempt_id"], d["status"]) for d in moved] == [(a, 1, "pending")]
    assert delta == {"pending": -1, "ready": 1} and again == ([], {})
    assert states == {a: ("ready", None, None, 2), b: ("pending", states[b][1], node, 1)}
    assert isinstance(ticket, int) and entries == [(a, ticket)]


def test_requeue_moves_a_lease_back_once_and_counts_the_loss_only_when_asked(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, (a, b) = await claimed(db, 2, 2)
        docs = [d async for d in db.jobs.find({"workflow_id": wid})]
        lost = await transitions.requeue(db, wid, [d for d in docs if d["_id"] == a.id], "lost")
        returned = await transitions.requeue(db, wid, [d for d in docs if d["_id"] == b.id], "back", lease_lost=False)
        twice = await transitions.requeue(db, wid, docs, "again")
        losses = {d["_id"]: d.get("lease_losses", 0) async for d in db.jobs.find({"workflow_id": wid})}
        counts = (await workflows.get_doc(db, wid))["counts"]
        events = [e["message"] async for e in db.events.find({"workflow_id": wid}) if "requeued" in e["message"]]
        return (a.id, b.id), lost, returned, twice, losses, counts, events

    (a, b), lost, returned, twice, losses, counts, events = run(mongo_uri, scenario)
    assert lost == returned == {"pending": -1, "ready": 1} and twice == {}
    assert losses == {a: 1, b: 0}
    assert {k: v for k, v in counts.items() if v} == {"ready": 2}
    assert events == ["1 job requeued: lost", "1 job requeued: back"]


def test_disable_takes_a_waiting_job_out_once(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, _, _ = await claimed(db, 2, 0)
        wf = await workflows.get_doc(db, wid)
        doc = await db.jobs.find_one({"workflow_id": wid})
        await transitions.disable(db, wf, doc)
        await transitions.disable(db, wf, doc)  # the document read before: the guard keeps it to one change
        await transitions.disable(db, wf, await db.jobs.find_one({"_id": doc["_id"]}))
        counts = (await workflows.get_doc(db, wid))["counts"]
        return doc["_id"], doc["name"], await job_states(db, wid), counts, await events(db, wid, "disabled")

    jid, name, states, counts, disabled = run(mongo_uri, scenario)
    assert states[jid][0] == "disabled"
    assert {k: v for k, v in counts.items() if v} == {"ready": 1, "disabled": 1}
    assert disabled == [("job", f"job {name} disabled", {"status": "disabled", "job_ids": [jid]})]


def test_disable_refuses_a_job_that_is_already_leased(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, _, (job,) = await claimed(db, 1, 1)
        with pytest.raises(InvalidTransition) as refused:
            await transitions.disable(db, await workflows.get_doc(db, wid), await db.jobs.find_one({"_id": job.id}))
        return job.id, refused.value

    jid, refused = run(mongo_uri, scenario)
    assert (refused.job, refused.from_, refused.to) == (jid, "pending", "disabled")


def test_move_refuses_a_transition_the_states_do_not_allow(mongo_uri) -> None:
    async def scenario(db: Database):
        with pytest.raises(InvalidTransition) as one:
            await transitions.move(db, [5], "completed", "pending")
        with pytest.raises(InvalidTransition) as many:
            await transitions.move(db, [5, 6], "ready", "completed")
        return str(one.value), many.value

    one, many = run(mongo_uri, scenario)
    assert one == "job 5 cannot go from completed to pending"
    assert (many.job, many.from_, many.to) == ([5, 6], "ready", "completed")


def test_finish_and_retry_refuse_jobs_leased_to_another_node_and_change_nothing(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, (a, b) = await claimed(db, 2, 2)
        thief = (await leases.register(db, c.ComputeNodeCreate(workflow_id=wid, hostname="other", pid=2),
                                       LEASE_SECONDS)).id  # fmt: skip
        finished = await transitions.finish(db, wid, [(a.id, a.claim_token, "completed")], thief)
        retried = await transitions.retry(db, wid, [(b.id, b.claim_token)], thief)
        return (a.id, b.id, node, thief), finished, retried, await job_states(db, wid)

    (a, b, node, thief), finished, retried, states = run(mongo_uri, scenario)
    assert finished == ([], set(), [(a, f"job {a} is held by compute node {node}, not {thief}")], {})
    assert retried == ([], {})
    assert {jid: s[:3] for jid, s in states.items()} == {a: ("pending", states[a][1], node), b: ("pending", states[b][1], node)}


def test_finish_and_retry_handle_many_jobs_past_a_rejected_one(mongo_uri) -> None:
    # The first job (lowest id) carries a stale token; the others, several from the same status, still move.
    async def scenario(db: Database):
        wid, node, jobs = await claimed(db, 6, 6)
        first, rest = jobs[0], jobs[1:]
        done = await transitions.finish(db, wid, [(first.id, "stale", "completed")] +
                                        [(j.id, j.claim_token, "completed") for j in rest[:3]], node)  # fmt: skip
        again = await transitions.retry(db, wid, [(first.id, "stale")] + [(j.id, j.claim_token) for j in rest[3:]], node)
        return first.id, [j.id for j in rest], done, again, await job_states(db, wid)

    first, rest, (accepted, moved, rejected, delta), (retried, retry_delta), states = run(mongo_uri, scenario)
    assert moved == set(rest[:3]) and [jid for jid, _ in rejected] == [first]
    assert delta == {"pending": -3, "completed": 3}
    assert sorted(d["_id"] for d in retried) == rest[3:] and retry_delta == {"pending": -2, "ready": 2}
    assert [states[jid][0] for jid in [first, *rest]] == ["pending"] + ["completed"] * 3 + ["ready"] * 2


def test_a_claim_of_more_than_one_chunk_counts_every_job_it_moved(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, _, jobs = await claimed(db, 120, 120)
        return len(jobs), (await workflows.get_doc(db, wid))["counts"]

    n, counts = run(mongo_uri, scenario)
    assert n == 120 and {k: v for k, v in counts.items() if v} == {"pending": 120}


def test_an_allocation_recorded_with_its_slurm_job_id_as_text_is_read_with_it_as_a_number(mongo_uri) -> None:
    # Records made before the job id was an integer, as in Torc, hold it as text.
    async def scenario(db: Database):
        wid, _, _ = await claimed(db, 1, 0)
        await db.scheduled_compute_nodes.insert_one({"_id": 990001, "workflow_id": wid, "scheduler_id": "4242",
                                                     "scheduler_config_id": 1, "scheduler_type": "slurm",
                                                     "status": "pending"})  # fmt: skip
        return await actions.scheduled_compute_nodes.get(db, 990001)

    record = run(mongo_uri, scenario)
    assert record.scheduler_id == 4242 and record.slurm_job_id == "4242"
