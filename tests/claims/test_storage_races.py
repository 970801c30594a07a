"""Reports that race another request, in this process on the real database: a request reads its jobs, another
request changes some of them, and only then does the first one write. The second request is run at that exact
point (after the first one's read), so each race is played every time instead of hoped for; what is checked is
that the guards in the writes, not the read, decide which jobs the first request moves and reports."""

from __future__ import annotations

import pytest

from api.storage import claims, queue, transitions, workflows
from api.storage.db import Database
from tests.storage.test_storage import (
    LEASE_SECONDS,
    claim_one,
    claimed,
    events,
    job_states,
    run,
)
from torc_client import contract as c


def after_the_next_read(monkeypatch, other_request) -> None:
    """Run `other_request()` once, right after the next `workflows.find_by_ids` read, before the reader writes."""
    read = workflows.find_by_ids
    done: list[bool] = []

    async def read_then_race(*args, **kwargs):
        docs = await read(*args, **kwargs)
        if not done:
            done.append(True)
            await other_request()
        return docs

    monkeypatch.setattr(workflows, "find_by_ids", read_then_race)


@pytest.mark.parametrize("other_runner", ["claimed it", "ran it to completion"])
def test_finish_reports_only_its_own_jobs_when_one_is_handed_out_again_between_its_read_and_its_write(
    mongo_uri, monkeypatch, other_runner
) -> None:
    async def scenario(db: Database):
        wid, node, (a, b) = await claimed(db, 2, 2)
        other: dict = {}

        async def lease_lost_and_handed_out_again():
            stale = [d async for d in db.jobs.find({"_id": a.id})]
            await transitions.requeue(db, wid, stale, "lost")
            other["node"], (again,) = await claim_one(db, wid)
            other["token"] = again.claim_token
            if other_runner == "ran it to completion":
                await transitions.start(db, wid, other["node"], [(a.id, again.claim_token)])
                await transitions.finish(db, wid, [(a.id, again.claim_token, "completed")], other["node"])

        after_the_next_read(monkeypatch, lease_lost_and_handed_out_again)
        outcomes = [(a.id, a.claim_token, "completed"), (b.id, b.claim_token, "completed")]
        answer = await transitions.finish(db, wid, outcomes, node)
        monkeypatch.undo()
        return (a.id, b.id, node), other, answer, await job_states(db, wid)

    (a, b, node), other, (accepted, moved, rejected, delta), states = run(mongo_uri, scenario)
    assert [(d["_id"], d["status"]) for d in accepted] == [(b, "completed")] and moved == {b}
    assert rejected == [(a, f"job {a} is pending and no longer held by this claim (its runner's lease expired and "
                            "the job was handed out again, or the workflow changed)")]  # fmt: skip
    assert delta == {"pending": -1, "completed": 1}
    if other_runner == "claimed it":
        assert states[a] == ("pending", other["token"], other["node"], 1)
    else:
        assert states[a] == ("completed", other["token"], None, 1)
    assert states[b] == ("completed", states[b][1], None, 1)


def test_finish_adds_up_the_count_changes_of_jobs_leaving_and_reaching_the_same_status(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, (a, b, d) = await claimed(db, 3, 3)
        await transitions.start(db, wid, node, [(a.id, a.claim_token)])
        outcomes = [(a.id, a.claim_token, "completed"), (b.id, b.claim_token, "completed"),
                    (d.id, d.claim_token, "failed")]  # fmt: skip
        return await transitions.finish(db, wid, outcomes, node)

    _, _, rejected, delta = run(mongo_uri, scenario)
    assert rejected == [] and delta == {"running": -1, "pending": -2, "completed": 2, "failed": 1}


def test_requeue_with_stale_documents_moves_only_the_jobs_still_under_that_lease(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, (a, b, d, x) = await claimed(db, 4, 4)
        await transitions.start(db, wid, node, [(b.id, b.claim_token)])
        stale = {doc["_id"]: doc async for doc in db.jobs.find({"workflow_id": wid})}
        # Meanwhile other requests requeued a (then another runner claimed it under a new lease) and b (running).
        await transitions.requeue(db, wid, [stale[a.id]], "first")
        other_node, taken = await claim_one(db, wid)
        await transitions.requeue(db, wid, [stale[b.id]], "first")
        late = await transitions.requeue(db, wid, [stale[b.id], stale[a.id], stale[d.id], stale[x.id]], "late")
        tickets = {doc["_id"]: doc["queue_ticket"] async for doc in db.jobs.find({"workflow_id": wid})}
        return (a.id, b.id, d.id, x.id, other_node), [j.id for j in taken], late, await job_states(db, wid), \
            tickets, await events(db, wid, "late")

    (a, b, d, x, other_node), taken, late, states, tickets, late_events = run(mongo_uri, scenario)
    # The late request finds b already back and a under another runner's lease: it moves d and x alone.
    assert taken == [a] and late == {"pending": -2, "ready": 2}
    assert late_events == [("job", "2 jobs requeued: late", {"status": "ready", "job_ids": [d, x], "reason": "late"})]
    assert states[a][0] == "pending" and states[a][2] == other_node and states[a][1] is not None
    assert {jid: state[:3] for jid, state in states.items() if jid != a} == {jid: ("ready", None, None) for jid in (b, d, x)}
    assert all(isinstance(tickets[jid], int) for jid in (b, d, x))


def test_requeue_adds_up_the_count_changes_of_several_leases_of_one_runner(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, (a,) = await claimed(db, 3, 1)
        more = [(await claims.claim(db, wid, c.ClaimRequest(compute_node_id=node, limit=1, num_cpus=8, memory_gb=8.0),
                                    LEASE_SECONDS)).jobs[0] for _ in range(2)]  # fmt: skip
        b, d = more
        await transitions.start(db, wid, node, [(d.id, d.claim_token)])
        docs = [doc async for doc in db.jobs.find({"workflow_id": wid})]
        return len({a.claim_token, b.claim_token, d.claim_token}), await transitions.requeue(db, wid, docs, "lost")

    leases, delta = run(mongo_uri, scenario)
    assert leases == 3 and delta == {"pending": -2, "running": -1, "ready": 3}


def test_retry_skips_missing_and_finished_jobs_and_goes_on_to_the_next(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, (a, d) = await claimed(db, 2, 2)
        await transitions.start(db, wid, node, [(d.id, d.claim_token)])
        await transitions.finish(db, wid, [(d.id, d.claim_token, "completed")], node)
        moved, delta = await transitions.retry(db, wid, [(10**9, "x"), (d.id, d.claim_token), (a.id, a.claim_token)])
        entries = await queue.take(db, wid, a.resource_requirements_id, 5)
        return (a.id, d.id), moved, delta, await job_states(db, wid), entries

    (a, d), moved, delta, states, entries = run(mongo_uri, scenario)
    assert [doc["_id"] for doc in moved] == [a] and delta == {"pending": -1, "ready": 1}
    assert states[d][0] == "completed" and states[a] == ("ready", None, None, 2)
    assert [jid for jid, _ in entries] == [a]
