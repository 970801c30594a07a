"""Group commit, on the real database: transactions of one workflow that arrive while one runs are run together, in
one transaction, and what each request sees and writes is as if it had run alone. The arrivals are placed at exact
points (while a transaction is inside its body), so each grouping is played every time instead of hoped for."""

from __future__ import annotations

import asyncio

from api.storage import claims, leases, workflows
from api.storage.db import Database
from api.storage.workflows import Event
from tests.storage.test_storage import LEASE_SECONDS, claimed, events, run
from torc_client import contract as c


async def _register(db: Database, wid: int, cpus: int = 4) -> int:
    node = await leases.register(db, c.ComputeNodeCreate(workflow_id=wid, hostname="host", pid=1, num_cpus=cpus,
                                                         memory_gb=8.0), LEASE_SECONDS)  # fmt: skip
    return node.id


def _claim(node: int, limit: int, outcomes=()) -> c.ClaimRequest:
    return c.ClaimRequest(compute_node_id=node, limit=limit, num_cpus=4, memory_gb=8.0, request_id=f"r{node}-{limit}",
                          outcomes=[c.JobOutcome(job_id=j.id, claim_token=j.claim_token, status="completed",
                                                 return_code=0, exec_time_minutes=0.0,
                                                 completion_time="2026-01-01T00:00:00.000Z") for j in outcomes])  # fmt: skip


async def _held_open(db: Database, wid: int, arrive) -> None:
    """A transaction of workflow `wid` that lets the others `arrive` while it is inside its body."""

    async def body(db: Database) -> None:
        await workflows.record(db, wid, {}, [Event("test", "held open")])
        await arrive()

    await db.atomic(wid, body)


def test_claims_that_arrive_together_run_as_one_transaction_and_each_gets_its_own_jobs(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, first, _ = await claimed(db, 40, 0)
        nodes = [await _register(db, wid) for _ in range(8)]
        groups_before = db.groups_run
        tasks: list[asyncio.Task] = []

        async def arrive():  # eight claims come in while a transaction of the workflow is running
            tasks.extend(asyncio.ensure_future(claims.claim(db, wid, _claim(n, 4), LEASE_SECONDS)) for n in nodes)
            await asyncio.sleep(0.05)  # they renew their leases and queue behind this transaction

        await _held_open(db, wid, arrive)
        answers = await asyncio.gather(*tasks)
        doc = await workflows.get_doc(db, wid)
        return answers, db.groups_run - groups_before, doc

    answers, groups, doc = run(mongo_uri, scenario)
    handed = [j.id for a in answers for j in a.jobs]
    assert all(len(a.jobs) == 4 for a in answers)
    assert len(handed) == len(set(handed)) == 32
    # The held-open transaction, then the eight claims together (their lease checks may add one).
    assert groups <= 3
    assert doc["counts"] == {"ready": 8, "pending": 32}


def test_a_failing_request_in_a_group_fails_alone_and_the_others_commit(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, _, _ = await claimed(db, 20, 0)
        good = [await _register(db, wid) for _ in range(3)]
        other_wid, _, _ = await claimed(db, 2, 0)
        stranger = await _register(db, other_wid)  # a node of another workflow: its claim here is refused
        tasks: list[asyncio.Task] = []

        async def arrive():
            tasks.extend(asyncio.ensure_future(claims.claim(db, wid, _claim(n, 2), LEASE_SECONDS)) for n in good)

            async def bad_body(db: Database) -> None:
                await workflows.record(db, wid, {}, [Event("test", "doomed")])
                raise RuntimeError("this request fails inside the group")

            tasks.append(asyncio.ensure_future(db.atomic(wid, bad_body)))
            tasks.extend(asyncio.ensure_future(claims.claim(db, wid, _claim(n, 2), LEASE_SECONDS))
                         for n in [stranger, *good[:1]])  # fmt: skip
            await asyncio.sleep(0.05)

        await _held_open(db, wid, arrive)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        doomed = [e async for e in db.events.find({"workflow_id": wid, "message": "doomed"})]
        return results, await workflows.get_doc(db, wid), doomed

    results, doc, doomed = run(mongo_uri, scenario)
    ok = [r for r in results if isinstance(r, c.ClaimResponse)]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(ok) == 4 and len(errors) == 2
    assert any(isinstance(e, RuntimeError) for e in errors)
    handed = [j.id for a in ok for j in a.jobs]
    assert len(handed) == len(set(handed))
    assert doc["counts"]["pending"] == len(handed) and doc["counts"]["ready"] == 20 - len(handed)
    assert doomed == []  # the failed body's writes were rolled back with it


def test_counts_and_events_of_a_group_are_written_once_and_add_up(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, jobs = await claimed(db, 12, 8)
        nodes = [await _register(db, wid) for _ in range(4)]
        seq_before = (await workflows.get_doc(db, wid))["event_seq"]
        tasks: list[asyncio.Task] = []

        async def arrive():
            # The first runner reports its 8 jobs while four others claim; all in the same group.
            tasks.append(asyncio.ensure_future(claims.claim(db, wid, _claim(node, 0, jobs), LEASE_SECONDS)))
            tasks.extend(asyncio.ensure_future(claims.claim(db, wid, _claim(n, 1), LEASE_SECONDS)) for n in nodes)
            await asyncio.sleep(0.05)

        await _held_open(db, wid, arrive)
        answers = await asyncio.gather(*tasks)
        doc = await workflows.get_doc(db, wid)
        seqs = sorted([e["seq"] async for e in db.events.find({"workflow_id": wid, "seq": {"$gt": seq_before}})])
        return answers, doc, seqs, seq_before, sorted(j.id for j in jobs)

    answers, doc, seqs, seq_before, reported = run(mongo_uri, scenario)
    assert sorted(answers[0].report.accepted) == reported
    assert all(len(a.jobs) == 1 for a in answers[1:])
    assert doc["counts"] == {"ready": 0, "pending": 4, "completed": 8}
    # Every event got its own number, none lost or repeated, and the workflow's sequence counts them all.
    assert seqs == list(range(seq_before + 1, doc["event_seq"] + 1))


def test_a_job_that_started_and_ended_between_exchanges_is_written_once_and_its_start_is_told(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, _, _ = await claimed(db, 8, 0)
        nodes = [await _register(db, wid) for _ in range(2)]
        held = {n: (await claims.claim(db, wid, _claim(n, 2), LEASE_SECONDS)).jobs for n in nodes}
        tasks: list[asyncio.Task] = []

        def report(node: int) -> c.ClaimRequest:
            # Both jobs started since the last exchange; the first also ended.
            first, second = held[node]
            req = _claim(node, 0, [first])
            req.starts = [c.JobStart(job_id=j.id, claim_token=j.claim_token) for j in (first, second)]
            return req

        async def arrive():  # the two runners' reports are served together
            tasks.extend(asyncio.ensure_future(claims.claim(db, wid, report(n), LEASE_SECONDS)) for n in nodes)
            await asyncio.sleep(0.05)

        async with await db.jobs.watch([{"$match": {"operationType": "update"}}]) as stream:
            await _held_open(db, wid, arrive)
            answers = await asyncio.gather(*tasks)
            writes: dict[int, list[str]] = {}
            while (change := await stream.try_next()) is not None:
                status = change["updateDescription"]["updatedFields"].get("status")
                writes.setdefault(change["documentKey"]["_id"], []).append(status)
        doc = await workflows.get_doc(db, wid)
        told = await events(db, wid, "started on compute node")
        return held, answers, writes, doc, told

    held, answers, writes, doc, told = run(mongo_uri, scenario)
    ended = {jobs[0].id for jobs in held.values()}
    running = {jobs[1].id for jobs in held.values()}
    assert {jid for a in answers for jid in a.report.accepted} == ended
    assert {jid: writes[jid] for jid in ended} == {jid: ["completed"] for jid in ended}
    assert {jid: writes[jid] for jid in running} == {jid: ["running"] for jid in running}
    assert doc["counts"] == {"ready": 4, "pending": 0, "running": 2, "completed": 2}
    assert sorted(jid for _, _, data in told for jid in data["job_ids"]) == sorted(ended | running)
