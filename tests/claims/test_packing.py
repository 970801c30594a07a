"""How a claim packs jobs (api.storage.claims on the real embedded database, in this process): what fits the free
resources and the node, the backlog, the cap on one claim, the workflow's sort order, and queue positions that give
nothing."""

from __future__ import annotations

import pytest

from api.storage import claims, create, initialize, leases, transitions, workflows
from api.storage.db import Database
from tests.claims.test_storage_claims import GIB, LEASE, claim, counts, node, workflow
from tests.storage.test_storage import events, run
from torc_client import contract as c
from torc_client.spec import build_plan


def test_a_claim_takes_only_what_fits_the_free_resources(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 6)
        nid = await node(db, wid)
        by_cpu = await claim(db, wid, nid, limit=5, num_cpus=2)
        by_memory = await claim(db, wid, nid, limit=5, memory_gb=1.5)
        by_time = await claim(db, wid, nid, limit=5, time_limit_seconds=600)
        by_limit = await claim(db, wid, nid, limit=1, num_cpus=8)
        return [len(a.jobs) for a in (by_cpu, by_memory, by_time, by_limit)], await counts(db, wid)

    taken, now = run(mongo_uri, scenario)
    assert taken == [2, 1, 0, 1] and now == {"ready": 2, "pending": 4}


def test_a_claim_ignoring_resources_takes_up_to_its_limit_of_jobs_bigger_than_the_runner(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 4)
        nid = await node(db, wid, cpus=1, memory_gb=1.0)
        await db.resource_requirements.update_many({"workflow_id": wid}, {"$set": {"num_cpus": 4}})
        await db.queues.update_many({"workflow_id": wid}, {"$set": {"num_cpus": 4}})
        refused = await claim(db, wid, nid, limit=3, num_cpus=1, memory_gb=1.0)
        ignored = await claim(db, wid, nid, limit=3, num_cpus=1, memory_gb=1.0, ignore_resources=True)
        return refused, ignored

    refused, ignored = run(mongo_uri, scenario)
    assert refused.jobs == [] and [j.num_cpus for j in ignored.jobs] == [4, 4, 4]


def test_a_backlog_adds_jobs_that_fit_the_node_beyond_what_fits_now(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 10)
        nid = await node(db, wid, cpus=8)
        now_and_later = await claim(db, wid, nid, limit=5, num_cpus=1, backlog=3)
        only_later = await claim(db, wid, nid, limit=0, num_cpus=0, backlog=2)
        negative = await claim(db, wid, nid, limit=1, num_cpus=1, backlog=-4)
        return [len(a.jobs) for a in (now_and_later, only_later, negative)], await counts(db, wid)

    taken, now = run(mongo_uri, scenario)
    assert taken == [4, 2, 1] and now == {"ready": 3, "pending": 7}


def test_a_backlog_holds_no_job_bigger_than_the_node(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 3)
        nid = await node(db, wid, cpus=2)
        await db.queues.update_many({"workflow_id": wid}, {"$set": {"num_cpus": 4}})
        return await claim(db, wid, nid, limit=0, num_cpus=0, backlog=3)

    assert run(mongo_uri, scenario).jobs == []


def test_one_claim_hands_out_at_most_a_thousand_jobs() -> None:
    assert claims.MAX_CLAIM == 1000


def test_one_claim_hands_out_at_most_its_cap_of_jobs_now_and_later_together(mongo_uri, monkeypatch) -> None:
    monkeypatch.setattr(claims, "MAX_CLAIM", 20)  # the cap's rule, on a workflow small enough to be quick

    async def scenario(db: Database):
        wid = await workflow(db, 25)
        nid = await node(db, wid, cpus=100, memory_gb=100.0)
        big = await claim(db, wid, nid, limit=25, num_cpus=100, memory_gb=100.0)
        return len(big.jobs), await counts(db, wid)

    taken, now = run(mongo_uri, scenario)
    assert taken == 20 and now == {"ready": 5, "pending": 20}


def test_the_backlog_is_cut_to_what_the_cap_leaves(mongo_uri, monkeypatch) -> None:
    monkeypatch.setattr(claims, "MAX_CLAIM", 20)

    async def scenario(db: Database):
        wid = await workflow(db, 30)
        nid = await node(db, wid, cpus=100, memory_gb=100.0)
        answer = await claim(db, wid, nid, limit=15, num_cpus=100, memory_gb=100.0, backlog=10)
        return len(answer.jobs)

    assert run(mongo_uri, scenario) == 20


def test_a_claim_goes_past_queue_positions_whose_jobs_left_and_fills_its_limit(mongo_uri) -> None:
    # Jobs disabled after they were queued still hold their positions; the claim must take further positions.
    async def scenario(db: Database):
        wid = await workflow(db, 6)
        nid = await node(db, wid)
        docs = sorted([d async for d in db.jobs.find({"workflow_id": wid})], key=lambda d: d["_id"])
        ids = [d["_id"] for d in docs]
        for doc in docs[:3]:
            await transitions.disable(db, await workflows.get_doc(db, wid), doc)
        answer = await claim(db, wid, nid, limit=3)
        return ids, nid, answer, await counts(db, wid), await events(db, wid, "claimed")

    ids, nid, answer, now, said = run(mongo_uri, scenario)
    assert sorted(j.id for j in answer.jobs) == ids[3:] and now == {"pending": 3, "disabled": 3}
    # The positions of the disabled jobs gave nothing, and say nothing: one event, for the jobs handed out.
    assert said == [("job", f"3 jobs claimed by compute node {nid}",
                     {"status": "pending", "job_ids": ids[3:], "compute_node_id": nid})]  # fmt: skip


def three_shapes(method: str | None) -> dict:
    """One job in each of three groups, ordered differently by each sort method: a (first created), b (most memory),
    c (longest runtime)."""
    spec = {"name": "sorted", "resource_requirements": [
                {"name": "a", "num_cpus": 1, "memory": "1g", "runtime": "PT1M"},
                {"name": "b", "num_cpus": 1, "memory": "3g", "runtime": "PT1M"},
                {"name": "c", "num_cpus": 1, "memory": "2g", "runtime": "PT2H"}],
            "jobs": [{"name": f"job_{g}", "command": "true", "resource_requirements": g} for g in "abc"]}  # fmt: skip
    return spec if method is None else {**spec, "jobs_sort_method": method}


@pytest.mark.parametrize(("method", "first"), [
    (None, "job_c"), ("gpus_runtime_memory", "job_c"), ("gpus_memory_runtime", "job_b"), ("none", "job_a")])  # fmt: skip
def test_a_claim_with_room_for_one_job_takes_the_first_in_the_workflows_sort_order(mongo_uri, method, first) -> None:
    async def scenario(db: Database):
        wid = (await create.create_from_plan(db, build_plan(three_shapes(method)), "tester", None)).id
        await initialize.initialize(db, wid)
        return (await claim(db, wid, await node(db, wid), limit=3, num_cpus=1, memory_gb=4.0)).jobs

    assert [j.name for j in run(mongo_uri, scenario)] == [first]


def test_a_claim_passes_over_a_drained_queue_to_the_jobs_of_another(mongo_uri) -> None:
    # The queue that sorts first has nothing left: its positions are all taken, so the claim must not count on it.
    spec = three_shapes(None)
    spec["jobs"] += [{"name": f"job_c{i}", "command": "true", "resource_requirements": "c"} for i in range(2, 7)]

    async def scenario(db: Database):
        wid = (await create.create_from_plan(db, build_plan(spec), "tester", None)).id
        await initialize.initialize(db, wid)
        nid = await node(db, wid, cpus=16, memory_gb=16.0)
        longest = (await claim(db, wid, nid, limit=6, num_cpus=6, memory_gb=16.0)).jobs  # drains c's queue
        rest = (await claim(db, wid, nid, limit=1, num_cpus=1, memory_gb=4.0)).jobs
        return sorted(j.name for j in longest), [j.name for j in rest]

    assert run(mongo_uri, scenario) == (["job_c", *(f"job_c{i}" for i in range(2, 7))], ["job_b"])


def test_a_backlog_holds_jobs_that_fit_the_node_exactly_once_and_starts_when_nothing_fits_now(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 3)
        nid = await node(db, wid, cpus=2, memory_gb=2.0)
        await db.queues.update_many({"workflow_id": wid}, {"$set": {"num_cpus": 2}})  # each job takes the whole node
        exactly_once = await claim(db, wid, nid, limit=0, num_cpus=0, backlog=1)
        nothing_fits_now = await claim(db, wid, nid, limit=2, num_cpus=1, memory_gb=2.0, backlog=1)
        return len(exactly_once.jobs), len(nothing_fits_now.jobs)

    assert run(mongo_uri, scenario) == (1, 1)


def test_a_claim_with_room_for_one_job_goes_past_a_queue_whose_only_position_gave_nothing(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = (await create.create_from_plan(db, build_plan(three_shapes(None)), "tester", None)).id
        await initialize.initialize(db, wid)
        job_c = await db.jobs.find_one({"workflow_id": wid, "name": "job_c"})
        await transitions.disable(db, await workflows.get_doc(db, wid), job_c)  # its queue position stays
        return [j.name for j in (await claim(db, wid, await node(db, wid), limit=1, num_cpus=1, memory_gb=4.0)).jobs]

    assert run(mongo_uri, scenario) == ["job_b"]


@pytest.mark.parametrize(("node_has", "job_needs", "asked", "fits"), [
    ({"cpus": 4}, {"num_cpus": 4}, {}, True),
    ({"memory_gb": 3.0}, {"memory_bytes": 3 * GIB}, {}, True),
    ({"num_gpus": 1}, {"num_gpus": 1}, {}, True),
    ({"num_nodes": 2}, {"num_nodes": 2}, {}, True),
    ({}, {"runtime_s": 3600.0}, {"time_limit_seconds": 600.0}, False),
    ({}, {"runtime_s": 3600.0}, {"time_limit_seconds": 7200.0}, True),
])  # fmt: skip
def test_a_backlog_holds_a_job_only_if_it_fits_the_whole_node_before_its_time_limit(mongo_uri, node_has, job_needs,
                                                                                   asked, fits) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 2)
        made = await leases.register(db, c.ComputeNodeCreate(workflow_id=wid, hostname="host", pid=1, **{
            "num_cpus": 1, "memory_gb": 1.0, **{("num_cpus" if k == "cpus" else k): v for k, v in node_has.items()}}),
            LEASE)  # fmt: skip
        await db.queues.update_many({"workflow_id": wid}, {"$set": job_needs})
        return await claim(db, wid, made.id, limit=0, num_cpus=0, memory_gb=0.0, backlog=1, **asked)

    assert len(run(mongo_uri, scenario).jobs) == (1 if fits else 0)


@pytest.mark.parametrize(("limit", "backlog"), [(2, 0), (0, 2)])
def test_a_claim_takes_another_round_for_the_last_job_when_a_position_gave_nothing(mongo_uri, limit, backlog) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 3)
        first = await db.jobs.find_one({"workflow_id": wid, "name": "j1"})
        await transitions.disable(db, await workflows.get_doc(db, wid), first)  # the first position gives nothing
        answer = await claim(db, wid, await node(db, wid), limit=limit, backlog=backlog, num_cpus=limit)
        return sorted(j.name for j in answer.jobs)

    assert run(mongo_uri, scenario) == ["j2", "j3"]
