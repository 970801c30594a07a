"""A runner's exchange (`claims.claim` with a report): its report and its claim in one transaction, on the real
database; the claim waits for a transaction of its own only when the report made jobs ready, so that it can take
them."""

from __future__ import annotations

from api.storage import claims, workflows
from api.storage.db import Database
from tests.storage.test_group_commit import _claim
from tests.storage.test_release import LEASE_SECONDS, start
from tests.storage.test_storage import claimed, run

CHAIN = {"name": "chain", "jobs": [{"name": "a", "command": "true"},
                                   {"name": "b", "command": "true", "depends_on": ["a"]}]}  # fmt: skip


def test_an_exchange_reports_and_claims_in_one_transaction(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, jobs = await claimed(db, 8, 4)
        before = db.groups_run
        answer = await claims.claim(db, wid, _claim(node, 4, jobs), LEASE_SECONDS)
        return answer, db.groups_run - before, sorted(j.id for j in jobs), await workflows.get_doc(db, wid)

    answer, groups, reported, doc = run(mongo_uri, scenario)
    assert sorted(answer.report.accepted) == reported
    assert len(answer.jobs) == 4 and not {j.id for j in answer.jobs} & set(reported)
    assert groups == 1
    assert doc["counts"] == {"ready": 0, "pending": 4, "completed": 4}


def test_a_report_that_makes_jobs_ready_hands_them_out_in_the_same_answer(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, held = await start(db, CHAIN)
        before = db.groups_run
        answer = await claims.claim(db, wid, _claim(node, 1, [held["a"]]), LEASE_SECONDS)
        return answer, db.groups_run - before, held

    answer, groups, held = run(mongo_uri, scenario)
    assert answer.report.accepted == [held["a"].id]
    # b was queued when the report committed; the claim came after, in a transaction of its own, and took it.
    assert [j.name for j in answer.jobs] == ["b"]
    assert groups == 2


def test_the_exchange_that_reports_the_last_job_is_told_the_workflow_is_complete(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, node, jobs = await claimed(db, 3, 3)
        answer = await claims.claim(db, wid, _claim(node, 4, jobs), LEASE_SECONDS)
        return answer, await workflows.get_doc(db, wid)

    answer, doc = run(mongo_uri, scenario)
    assert answer.jobs == [] and len(answer.report.accepted) == 3
    assert answer.is_complete
    assert doc["counts"]["completed"] == 3
