"""Claims (api.storage.claims) on the real embedded database, in this process: what a claim hands out, to whom,
in which state, and what it records; repeats, refusals, queue repair and the reports a claim carries. No API server
between, so `make mutation` sees the code these tests run. How a claim packs jobs: test_core_claim_packing.py."""

from __future__ import annotations

import time

import pytest

from api.storage import (
    claims,
    create,
    initialize,
    leases,
    queue,
    transitions,
    workflows,
)
from api.storage.db import Database
from tests.storage.test_storage import events, run
from torc_client import contract as c
from torc_client.core import resources
from torc_client.spec import build_plan

LEASE = 30.0
GIB = 1 << 30


async def workflow(db: Database, n_jobs: int = 3, init: bool = True, **job) -> int:
    """`n_jobs` independent jobs j1..jN (with `job`'s keys), initialised unless told not to."""
    spec = {"name": "w", "resource_requirements": [{"name": "rr", "num_cpus": 1, "memory": "1g", "runtime": "PT1H"}],
            "jobs": [{"name": "j{i}", "command": "true", "parameters": {"i": f"1:{n_jobs}"},
                      "resource_requirements": "rr", **job}]}  # fmt: skip
    wid = (await create.create_from_plan(db, build_plan(spec), "tester", None)).id
    if init:
        await initialize.initialize(db, wid)
    return wid


async def node(db: Database, wid: int, cpus: int = 8, memory_gb: float = 8.0) -> int:
    made = await leases.register(db, c.ComputeNodeCreate(workflow_id=wid, hostname="host", pid=1, num_cpus=cpus,
                                                         memory_gb=memory_gb), LEASE)  # fmt: skip
    return made.id


async def claim(db: Database, wid: int, node_id: int, limit: int = 8, **req) -> c.ClaimResponse:
    request = c.ClaimRequest(compute_node_id=node_id, limit=limit, **{"num_cpus": 8, "memory_gb": 8.0, **req})
    return await claims.claim(db, wid, request, LEASE)


async def statuses(db: Database, wid: int) -> dict[int, tuple[str, str | None, int | None]]:
    return {d["_id"]: (d["status"], d["claim_token"], d["active_compute_node_id"])
            async for d in db.jobs.find({"workflow_id": wid})}  # fmt: skip


async def counts(db: Database, wid: int) -> dict[str, int]:
    return {k: v for k, v in (await workflows.get_doc(db, wid))["counts"].items() if v}


def test_a_claim_hands_out_jobs_pending_under_one_token_and_says_so_once(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db)
        nid = await node(db, wid)
        answer = await claim(db, wid, nid, limit=2)
        return wid, nid, answer, await statuses(db, wid), await counts(db, wid), await events(db, wid, "claimed")

    wid, nid, answer, found, now, said = run(mongo_uri, scenario)
    a, b = answer.jobs
    assert (answer.run_id, answer.started, answer.reason, answer.is_canceled, answer.is_complete, answer.report) == (
        1, False, None, False, False, None)  # fmt: skip
    assert a.claim_token == b.claim_token and len(a.claim_token) >= 16
    assert found == {a.id: ("pending", a.claim_token, nid), b.id: ("pending", a.claim_token, nid),
                     a.id + 2: ("ready", None, None)}  # fmt: skip
    assert now == {"ready": 1, "pending": 2}
    assert said == [("job", f"2 jobs claimed by compute node {nid}",
                     {"status": "pending", "job_ids": [a.id, b.id], "compute_node_id": nid})]  # fmt: skip


def test_a_claim_with_start_runs_the_jobs_at_once_and_counts_them_running(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db)
        nid = await node(db, wid)
        answer = await claim(db, wid, nid, limit=2, start=True)
        return nid, answer, await statuses(db, wid), await counts(db, wid), await events(db, wid, "claimed")

    nid, answer, found, now, said = run(mongo_uri, scenario)
    a, b = answer.jobs
    assert answer.started is True
    assert [found[a.id], found[b.id]] == [("running", a.claim_token, nid)] * 2
    assert now == {"ready": 1, "running": 2}
    assert said == [("job", f"2 jobs claimed and started by compute node {nid}",
                     {"status": "running", "job_ids": [a.id, b.id], "compute_node_id": nid})]  # fmt: skip


def test_a_claim_that_finds_nothing_is_not_started_and_records_nothing(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 1)
        nid = await node(db, wid)
        await claim(db, wid, nid, limit=1)
        empty = await claim(db, wid, nid, limit=1, start=True)
        return empty, await counts(db, wid), len(await events(db, wid, "claimed"))

    empty, now, n_events = run(mongo_uri, scenario)
    assert (empty.jobs, empty.started, empty.reason) == ([], False, None)
    assert now == {"pending": 1} and n_events == 1


@pytest.mark.parametrize(("change", "reason"), [
    ({"is_initialized": False}, "workflow {wid} is not initialized: run `torc workflows init {wid}`"),
    ({"is_canceled": True}, "workflow {wid} is canceled"),
    ({"is_archived": True}, "workflow {wid} is archived"),
])  # fmt: skip
def test_a_claim_on_a_workflow_that_cannot_run_hands_out_nothing_and_says_why(mongo_uri, change, reason) -> None:
    async def scenario(db: Database):
        wid = await workflow(db)
        nid = await node(db, wid)
        await db.workflows.update_one({"_id": wid}, {"$set": change})
        return wid, await claim(db, wid, nid), await counts(db, wid)

    wid, answer, now = run(mongo_uri, scenario)
    assert answer.jobs == [] and answer.reason == reason.format(wid=wid)
    assert answer.is_canceled is change.get("is_canceled", False)
    assert now == {"ready": 3}


def test_a_repeated_claim_gets_the_same_jobs_again_and_a_new_one_gets_others(mongo_uri) -> None:
    # A runner whose answer was lost retries with the same request id: it must get the jobs it was given, and no more.
    async def scenario(db: Database):
        wid = await workflow(db, 5)
        nid = await node(db, wid)
        first = await claim(db, wid, nid, limit=2, request_id="r1")
        remembered = (await db.compute_nodes.find_one({"_id": nid}))["last_claim"]
        again = await claim(db, wid, nid, limit=2, request_id="r1")
        between = await counts(db, wid)
        other = await claim(db, wid, nid, limit=2, request_id="r2")
        polled = await claim(db, wid, nid, limit=0, request_id="r3")  # takes nothing: remembers nothing
        return first, remembered, again, between, other, polled, \
            (await db.compute_nodes.find_one({"_id": nid}))["last_claim"]

    first, remembered, again, between, other, polled, last = run(mongo_uri, scenario)
    token = first.jobs[0].claim_token
    assert remembered == {"request_id": "r1", "token": token}
    assert [(j.id, j.claim_token, j.num_cpus, j.memory_bytes) for j in again.jobs] == [
        (j.id, token, 1, GIB) for j in first.jobs]  # fmt: skip
    assert between == {"ready": 3, "pending": 2}
    assert {j.id for j in other.jobs}.isdisjoint(j.id for j in first.jobs) and len(other.jobs) == 2
    assert polled.jobs == [] and last == {"request_id": "r2", "token": other.jobs[0].claim_token}


@pytest.mark.parametrize(("limit", "backlog"), [(1, 0), (0, 1)])
def test_a_repeated_claim_of_one_job_now_or_one_for_later_gets_the_same_job(mongo_uri, limit, backlog) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 3)
        nid = await node(db, wid)
        first = await claim(db, wid, nid, limit=limit, backlog=backlog, num_cpus=limit, request_id="one")
        again = await claim(db, wid, nid, limit=limit, backlog=backlog, num_cpus=limit, request_id="one")
        return first.jobs, again.jobs, await counts(db, wid)

    first, again, now = run(mongo_uri, scenario)
    assert len(first) == 1 and [(j.id, j.claim_token) for j in again] == [(first[0].id, first[0].claim_token)]
    assert now == {"ready": 2, "pending": 1}


def test_a_repeated_claim_without_a_request_id_or_with_another_token_takes_new_jobs(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 4)
        nid = await node(db, wid)
        first = await claim(db, wid, nid, limit=1)
        second = await claim(db, wid, nid, limit=1)
        stored = (await db.compute_nodes.find_one({"_id": nid})).get("last_claim")
        return first, second, stored

    first, second, stored = run(mongo_uri, scenario)
    assert first.jobs[0].id != second.jobs[0].id and stored is None


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_claim_that_finds_ready_jobs_at_no_queue_position_queues_them_again_once_per_turn(mongo_uri, n_jobs) -> None:
    # A claimer that died between taking a position and marking its job leaves a ready job nothing hands out.
    async def scenario(db: Database):
        wid = await workflow(db, n_jobs)
        nid = await node(db, wid)
        rr_id = (await db.jobs.find_one({"workflow_id": wid}))["rr_id"]
        await queue.take(db, wid, rr_id, n_jobs)  # the positions are passed, the jobs still ready
        first = await claim(db, wid, nid, limit=2)
        again = await claim(db, wid, nid, limit=2)
        return first, again, await events(db, wid, "queued again")

    first, again, said = run(mongo_uri, scenario)
    assert first.jobs == [] and len(again.jobs) == n_jobs
    assert said == [("queue", f"{n_jobs} ready jobs stood at no live queue position and were queued again",
                     {"num_jobs": n_jobs})]  # fmt: skip


def test_a_claim_repairs_the_queue_only_when_ready_jobs_outnumber_positions_and_its_turn_is_due(
        mongo_uri, monkeypatch) -> None:  # fmt: skip
    # A repair reads every ready job: a claim that finds nothing must not pay for one unless jobs were lost.
    repairs = []
    real_repair = queue.repair

    async def counted_repair(db, wid):
        repairs.append(wid)
        return await real_repair(db, wid)

    monkeypatch.setattr(queue, "repair", counted_repair)

    async def scenario(db: Database):
        wid = await workflow(db, 2)
        nid = await node(db, wid)
        rr_id = (await db.jobs.find_one({"workflow_id": wid}))["rr_id"]
        await db.workflows.update_one({"_id": wid}, {"$set": {"repair_at": time.time() + 60}})
        await queue.take(db, wid, rr_id, 2)
        not_due = await claim(db, wid, nid, limit=2)
        fine = await workflow(db, 1)
        fine_node = await node(db, fine)
        await claim(db, fine, fine_node, limit=1)
        drained = await claim(db, fine, fine_node, limit=1)  # nothing ready: nothing to repair
        healthy = await workflow(db, 2)
        too_small = await claim(db, healthy, await node(db, healthy), limit=2, num_cpus=0)  # ready jobs all queued
        turns = [(await workflows.get_doc(db, w)).get("turns", {}) for w in (fine, healthy)]
        return not_due, drained, too_small, await events(db, wid, "queued again"), \
            await events(db, fine, "queued again"), turns

    not_due, drained, too_small, said, fine_said, turns = run(mongo_uri, scenario)
    assert not_due.jobs == [] and drained.jobs == [] and too_small.jobs == [] and said == [] and fine_said == []
    assert ["repair_at" in t for t in turns] == [False, False] and repairs == []


def test_claimed_jobs_carry_what_the_runner_needs(mongo_uri) -> None:
    spec = {"name": "full", "resource_requirements": [
                {"name": "big", "num_cpus": 2, "num_gpus": 0, "num_nodes": 1, "memory": "2g", "runtime": "PT30M"}],
            "files": [{"name": "out", "path": "out.txt"}],
            "failure_handlers": [{"name": "again", "rules": [{"exit_codes": [3], "max_retries": 2}]}],
            "jobs": [{"name": "make", "command": "echo hi > out.txt", "output_files": ["out"], "invocation_script": "sh",
                      "resource_requirements": "big", "failure_handler": "again", "supports_termination": True},
                     {"name": "plain", "command": "true", "resource_requirements": "big"}]}  # fmt: skip

    async def scenario(db: Database):
        wid = (await create.create_from_plan(db, build_plan(spec), "tester", None)).id
        await initialize.initialize(db, wid)
        nid = await node(db, wid)
        file_id = (await db.files.find_one({"workflow_id": wid}))["_id"]
        rr_id = (await db.resource_requirements.find_one({"workflow_id": wid, "name": "big"}))["_id"]
        return wid, file_id, rr_id, (await claim(db, wid, nid, limit=2)).jobs

    wid, file_id, rr_id, (make, plain) = run(mongo_uri, scenario)
    assert (make.name, make.command, make.invocation_script, make.workflow_id, make.run_id, make.attempt_id) == (
        "make", "echo hi > out.txt", "sh", wid, 1, 1)  # fmt: skip
    assert (make.resource_requirements_id, make.num_cpus, make.num_gpus, make.num_nodes, make.memory_bytes,
            make.runtime_s) == (rr_id, 2, 0, 1, 2 * GIB, 1800.0)  # fmt: skip
    assert make.supports_termination is True and plain.supports_termination is False
    assert make.output_files == [c.FileRef(id=file_id, path="out.txt")] and plain.output_files == []
    assert [(r["exit_codes"], r["max_retries"]) for r in make.failure_rules] == [([3], 2)]
    assert plain.failure_rules == []
    assert plain.invocation_script is None


def test_a_claim_reports_the_outcomes_starts_and_returns_it_carries_before_claiming(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 4)
        nid = await node(db, wid)
        a, b, d = (await claim(db, wid, nid, limit=3)).jobs
        done = c.JobOutcome(job_id=a.id, claim_token=a.claim_token, status="completed", return_code=0,
                            exec_time_minutes=0.1, completion_time="2026-01-01T00:00:00+00:00")  # fmt: skip
        answer = await claim(db, wid, nid, limit=0, outcomes=[done],
                             starts=[c.JobStart(job_id=b.id, claim_token=b.claim_token)],
                             returned=[c.JobStart(job_id=d.id, claim_token=d.claim_token)])  # fmt: skip
        plain = await claim(db, wid, nid, limit=0)
        return (a.id, b.id, d.id), answer, plain, await statuses(db, wid)

    (a, b, d), answer, plain, found = run(mongo_uri, scenario)
    assert answer.report == c.ReportResponse(accepted=[a], rejected=[])
    assert [found[a][0], found[b][0], found[d][0]] == ["completed", "running", "ready"]
    assert plain.report is None


def test_unfit_names_the_waiting_jobs_no_runner_of_that_size_can_run(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 25, init=False)
        await db.resource_requirements.update_many({"workflow_id": wid, "name": "rr"}, {"$set": {"num_cpus": 16}})
        small = resources.Capacity.from_gb(8, 64.0, 0, 1, None)
        large = resources.Capacity.from_gb(16, 64.0, 0, 1, None)
        first_job = (await db.jobs.find_one({"workflow_id": wid, "name": "j1"}))["_id"]
        await db.jobs.update_one({"_id": first_job}, {"$set": {"status": "completed"}})
        return await claims.unfit(db, wid, small), await claims.unfit(db, wid, large)

    too_big, none = run(mongo_uri, scenario)
    (group,) = too_big
    assert (group.resource_requirements.name, group.resource_requirements.num_cpus, group.num_jobs) == ("rr", 16, 24)
    assert group.job_names == sorted(f"j{i}" for i in range(2, 26))[:20] and len(group.shortfalls) == 1
    assert "16" in group.shortfalls[0] and none == []


def test_a_claim_on_a_workflow_with_nothing_ever_ready_hands_out_nothing_and_repairs_nothing(mongo_uri) -> None:
    # Every job disabled before the run, and the counts recounted from the jobs: they do not mention `ready` at all.
    async def scenario(db: Database):
        wid = await workflow(db, 2, init=False)
        for doc in [d async for d in db.jobs.find({"workflow_id": wid})]:
            await transitions.disable(db, await workflows.get_doc(db, wid), doc)
        await initialize.initialize(db, wid)
        await workflows.recount(db, wid)
        stored = (await workflows.get_doc(db, wid))["counts"]
        return stored, await claim(db, wid, await node(db, wid)), await events(db, wid, "queued again")

    stored, answer, said = run(mongo_uri, scenario)
    assert "ready" not in stored and stored == {"disabled": 2}
    assert (answer.jobs, answer.reason, said) == ([], None, [])


@pytest.mark.parametrize("carried", ["outcomes", "starts", "returned"])
def test_a_claim_reports_whichever_of_outcomes_starts_and_returns_it_carries(mongo_uri, carried) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 2)
        nid = await node(db, wid)
        (job,) = (await claim(db, wid, nid, limit=1)).jobs
        held = c.JobStart(job_id=job.id, claim_token=job.claim_token)
        reports = {"outcomes": [c.JobOutcome(job_id=job.id, claim_token=job.claim_token, status="completed",
                                             return_code=0, exec_time_minutes=0.1,
                                             completion_time="2026-01-01T00:00:00+00:00")],
                   "starts": [held], "returned": [held]}  # fmt: skip
        answer = await claim(db, wid, nid, limit=0, **{carried: reports[carried]})
        return job.id, answer.report, (await statuses(db, wid))[job.id][0]

    job_id, report, status = run(mongo_uri, scenario)
    assert report is not None and report.rejected == []
    assert status == {"outcomes": "completed", "starts": "running", "returned": "ready"}[carried]


def test_the_reports_a_claim_carries_count_only_for_jobs_held_by_the_node_that_sends_them(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 2)
        holder, other = await node(db, wid), await node(db, wid)
        (job,) = (await claim(db, wid, holder, limit=1)).jobs
        answer = await claim(db, wid, other, limit=0, starts=[c.JobStart(job_id=job.id, claim_token=job.claim_token)])
        return job.id, holder, other, answer.report, (await statuses(db, wid))[job.id]

    job_id, holder, other, report, state = run(mongo_uri, scenario)
    assert report == c.ReportResponse(accepted=[], rejected=[
        c.Rejection(job_id=job_id, reason=f"job {job_id} is held by compute node {holder}, not {other}")])
    assert state[0] == "pending" and state[2] == holder


def test_a_job_claimed_again_after_a_retry_carries_its_next_attempt(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 1)
        nid = await node(db, wid)
        (first,) = (await claim(db, wid, nid, limit=1)).jobs
        await transitions.retry(db, wid, [(first.id, first.claim_token)], nid)
        (again,) = (await claim(db, wid, nid, limit=1)).jobs
        return (first.id, first.attempt_id), (again.id, again.attempt_id)

    (first_id, first_attempt), again = run(mongo_uri, scenario)
    assert first_attempt == 1 and again == (first_id, 2)
