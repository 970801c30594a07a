"""Dependency release (api.storage.release) on the real embedded database, in this process (no API server, so
`make mutation` sees the code these tests run)."""

from __future__ import annotations

from api.storage import (
    claims,
    completion,
    create,
    initialize,
    leases,
    queue,
    release,
    workflows,
)
from api.storage.db import Database
from tests.storage.test_storage import run
from torc_client import contract as c
from torc_client.spec import build_plan

LEASE_SECONDS = 30.0




async def start(db: Database, spec: dict) -> tuple[int, int, dict[str, c.ClaimedJob]]:
    """Create and initialise the workflow; one runner claims every ready job. Returns (workflow, node, claimed)."""
    wid = (await create.create_from_plan(db, build_plan(spec), "tester", None)).id
    await initialize.initialize(db, wid)
    node = await leases.register(db, c.ComputeNodeCreate(workflow_id=wid, hostname="host", pid=1, num_cpus=64,
                                                         memory_gb=64.0), LEASE_SECONDS)  # fmt: skip
    answer = await claims.claim(db, wid, c.ClaimRequest(compute_node_id=node.id, limit=64, num_cpus=64,
                                                        memory_gb=64.0), LEASE_SECONDS)  # fmt: skip
    return wid, node.id, {j.name: j for j in answer.jobs}


async def finish(db: Database, wid: int, node: int, jobs: list[c.ClaimedJob], status: str = "completed") -> None:
    code = 0 if status == "completed" else 1
    await completion.complete_outcomes(db, wid, node, [completion.Outcome(j.id, j.claim_token, status, code)
                                                       for j in jobs])  # fmt: skip


async def jobs_by_name(db: Database, wid: int) -> dict[str, dict]:
    return {d["name"]: d async for d in db.jobs.find({"workflow_id": wid})}


async def nonzero_counts(db: Database, wid: int) -> dict[str, int]:
    return {k: v for k, v in (await workflows.get_doc(db, wid))["counts"].items() if v}


async def job_events(db: Database, wid: int, *containing: str) -> list[tuple[str, list[str]]]:
    """(message, names of the jobs it lists) of the workflow's job events containing any of `containing`, oldest
    first; each such event names the status the jobs went to."""
    names = {d["_id"]: d["name"] async for d in db.jobs.find({"workflow_id": wid})}
    found = [e async for e in db.events.find({"workflow_id": wid}).sort("seq", 1)
             if any(text in e["message"] for text in containing)]  # fmt: skip
    for e in found:
        if "workflow complete" not in e["message"]:
            assert (e["category"], e["data"]["status"]) == ("job", e["message"].split()[2]), e
    return [(e["message"], [names[j] for j in e["data"].get("job_ids", [])]) for e in found]


async def queued(db: Database, wid: int) -> list[int]:
    """The ids of the jobs a runner can claim from the workflow's queues now: a queue entry hands out its job only
    while the job holds the entry's ticket."""
    tickets = {d["_id"]: d.get("queue_ticket") async for d in db.jobs.find({"workflow_id": wid})}
    taken = []
    for rr in await db.resource_requirements.distinct("_id", {"workflow_id": wid}):
        taken += [jid for jid, ticket in await queue.take(db, wid, rr, 1000) if tickets[jid] == ticket]
    return sorted(taken)


def test_a_finished_job_releases_only_the_dependents_waiting_on_nothing_else_and_queues_them(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, got = await start(db, {"name": "fan", "jobs": [
            {"name": "a", "command": "true"}, {"name": "b", "command": "true"},
            {"name": "only_a", "command": "true", "depends_on": ["a"]},
            {"name": "a_and_b", "command": "true", "depends_on": ["a", "b"]}]})  # fmt: skip
        await finish(db, wid, node, [got["a"]])
        after_a = await jobs_by_name(db, wid), await nonzero_counts(db, wid), await queued(db, wid)
        await finish(db, wid, node, [got["b"]])
        after_b = await jobs_by_name(db, wid), await nonzero_counts(db, wid), await queued(db, wid)
        return sorted(got), after_a, after_b, await job_events(db, wid, "ready")

    claimed, (jobs, counts, ready), (jobs_b, counts_b, ready_b), events = run(mongo_uri, scenario)
    assert claimed == ["a", "b"]
    assert (jobs["only_a"]["status"], jobs["only_a"]["waiting_on"]) == ("ready", [])
    assert (jobs["a_and_b"]["status"], jobs["a_and_b"]["waiting_on"]) == ("blocked", [jobs["b"]["_id"]])
    assert isinstance(jobs["only_a"]["queue_ticket"], int)
    assert counts == {"completed": 1, "pending": 1, "ready": 1, "blocked": 1}
    assert ready == [jobs["only_a"]["_id"]]
    assert (jobs_b["a_and_b"]["status"], jobs_b["a_and_b"]["waiting_on"]) == ("ready", [])
    assert counts_b == {"completed": 2, "ready": 2}  # only_a was only taken from its queue above: still ready
    assert ready_b == [jobs["a_and_b"]["_id"]]
    assert events[-2:] == [("1 job ready", ["only_a"]), ("1 job ready", ["a_and_b"])]


def test_release_returns_the_jobs_it_made_ready_and_a_repeat_changes_nothing(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, got = await start(db, {"name": "pair", "jobs": [
            {"name": "up", "command": "true"}, {"name": "other", "command": "true"},
            {"name": "x", "command": "true", "depends_on": ["up"]},
            {"name": "y", "command": "true", "depends_on": ["up"]},
            {"name": "z", "command": "true", "depends_on": ["up", "other"]}]})  # fmt: skip
        jobs = await jobs_by_name(db, wid)
        # The upstream job's report, as completion hands it over once its status moved.
        await db.jobs.update_one({"_id": jobs["up"]["_id"]}, {"$set": {"status": "completed"}})
        await db.workflows.update_one({"_id": wid}, {"$inc": {"counts.pending": -1, "counts.completed": 1}})
        up = await db.jobs.find_one({"_id": jobs["up"]["_id"]})
        first = await db.atomic(wid, lambda tx: release.release(tx, wid, [up]))
        state = await jobs_by_name(db, wid), await nonzero_counts(db, wid), await job_events(db, wid, "ready")
        again = await db.atomic(wid, lambda tx: release.release(tx, wid, [up]))
        nothing = await db.atomic(wid, lambda tx: release.release(tx, wid, []))
        return first, state, again, nothing, (await nonzero_counts(db, wid), await job_events(db, wid, "ready"))

    first, (jobs, counts, events), again, nothing, (counts_again, events_again) = run(mongo_uri, scenario)
    assert first == [jobs["x"]["_id"], jobs["y"]["_id"]]
    assert [jobs[n]["status"] for n in "xyz"] == ["ready", "ready", "blocked"]
    assert jobs["x"]["queue_ticket"] == jobs["y"]["queue_ticket"]
    assert counts == {"completed": 1, "pending": 1, "ready": 2, "blocked": 1}
    assert events == [("2 jobs ready", ["x", "y"])]
    assert again == nothing == []
    assert (counts_again, events_again) == (counts, events)


def test_an_upstream_failure_cancels_flagged_dependents_down_the_chain_and_releases_the_others(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, got = await start(db, {"name": "failing", "jobs": [
            {"name": "bad", "command": "false"}, {"name": "slow", "command": "true"},
            {"name": "child", "command": "true", "depends_on": ["bad"], "cancel_on_blocking_job_failure": True},
            {"name": "grandchild", "command": "true", "depends_on": ["child"],
             "cancel_on_blocking_job_failure": True},
            {"name": "tolerant", "command": "true", "depends_on": ["bad"], "cancel_on_blocking_job_failure": False},
            {"name": "tolerant_of_child", "command": "true", "depends_on": ["child"],
             "cancel_on_blocking_job_failure": False},
            {"name": "also_slow", "command": "true", "depends_on": ["bad", "slow"],
             "cancel_on_blocking_job_failure": False}]})  # fmt: skip
        await finish(db, wid, node, [got["bad"]], status="failed")
        return (await jobs_by_name(db, wid), await nonzero_counts(db, wid), await queued(db, wid),
                await job_events(db, wid, "ready", "canceled"))  # fmt: skip

    jobs, counts, ready, events = run(mongo_uri, scenario)
    status = {name: doc["status"] for name, doc in jobs.items()}
    assert status == {"bad": "failed", "slow": "pending", "child": "canceled", "grandchild": "canceled",
                      "tolerant": "ready", "tolerant_of_child": "ready", "also_slow": "blocked"}  # fmt: skip
    assert jobs["also_slow"]["waiting_on"] == [jobs["slow"]["_id"]]
    assert jobs["grandchild"]["waiting_on"] == [jobs["child"]["_id"]]  # canceled, not released
    assert counts == {"failed": 1, "pending": 1, "canceled": 2, "ready": 2, "blocked": 1}
    assert ready == sorted([jobs["tolerant"]["_id"], jobs["tolerant_of_child"]["_id"]])
    assert events == [
        ("1 job canceled because an upstream job did not succeed (bad)", ["child"]),
        ("1 job canceled because an upstream job did not succeed (child)", ["grandchild"]),
        ("2 jobs ready", ["tolerant", "tolerant_of_child"]),
    ]


def test_a_cancellation_names_at_most_five_failed_upstream_jobs_in_name_order(mongo_uri) -> None:
    async def scenario(db: Database):
        ups = [f"up{k}" for k in range(6, 0, -1)]
        wid, node, got = await start(db, {"name": "many", "jobs": [
            *({"name": n, "command": "false"} for n in ups),
            {"name": "down", "command": "true", "depends_on": ups, "cancel_on_blocking_job_failure": True},
            {"name": "down2", "command": "true", "depends_on": ["up6"], "cancel_on_blocking_job_failure": True}]})
        await finish(db, wid, node, [got[n] for n in ups], status="failed")
        return await jobs_by_name(db, wid), await nonzero_counts(db, wid), await job_events(db, wid, "canceled because")

    jobs, counts, events = run(mongo_uri, scenario)
    assert (jobs["down"]["status"], jobs["down2"]["status"]) == ("canceled", "canceled")
    assert counts == {"failed": 6, "canceled": 2}
    assert events == [("2 jobs canceled because an upstream job did not succeed (up1, up2, up3, up4, up5)",
                       ["down", "down2"])]  # fmt: skip
