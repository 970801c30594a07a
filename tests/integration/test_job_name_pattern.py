"""The jobs listing's `name_pattern`: a part of the names, or a glob, matched and paged by the server."""

from __future__ import annotations

import fnmatch

import pytest

from api.storage.name_match import regex_for
from torc_client.core.errors import ApiError

N_JOBS = 240


def _spec(n: int) -> dict:
    jobs = [{"name": f"work_{i}", "command": "true"} for i in range(n)]
    jobs += [{"name": "prework_1x", "command": "true"}, {"name": "Work_1", "command": "true"}]
    return {"name": "patterns", "jobs": jobs}


def _all_pages(client, workflow_id: int, page_size: int, **filters) -> tuple[list[str], set[int]]:
    """Every page of a filtered listing, in order, and the totals each page reported."""
    names, totals, offset = [], set(), 0
    while True:
        page = client.jobs_page(workflow_id, offset=offset, limit=page_size, **filters)
        names += [job.name for job in page.items]
        totals.add(page.total_count)
        assert page.count <= page_size
        if not page.has_more:
            return names, totals
        offset += page_size


@pytest.fixture(scope="module")
def many(server):
    from torc_client.client import Client

    with Client(server.url) as client:
        workflow = client.create_workflow_from_spec(_spec(N_JOBS))
        client.initialize_workflow(workflow.id)
        yield client, workflow


def test_name_pattern_without_wildcards_selects_names_that_contain_it(many):
    client, workflow = many
    names, totals = _all_pages(client, workflow.id, 7, name_pattern="work_1")
    expected = [n for n in [f"work_{i}" for i in range(N_JOBS)] + ["prework_1x"] if "work_1" in n]
    assert names == expected  # id order, across pages; case-sensitive: Work_1 is not among them
    assert totals == {len(expected)}


def test_name_pattern_with_wildcards_is_a_glob_over_the_whole_name(many):
    client, workflow = many
    names, _ = _all_pages(client, workflow.id, 50, name_pattern="work_?")
    assert names == [f"work_{i}" for i in range(10)]
    names, _ = _all_pages(client, workflow.id, 50, name_pattern="*_1?")
    assert names == [f"work_{i}" for i in range(10, 20)] + ["prework_1x"]
    names, _ = _all_pages(client, workflow.id, 50, name_pattern="*1x")
    assert names == ["prework_1x"]


def test_name_pattern_pages_stay_disjoint_and_cover_every_match(many):
    """A large workflow's filtered table, kept small: every match exactly once across pages of any size."""
    client, workflow = many
    every = [f"work_{i}" for i in range(N_JOBS)]
    expected = [n for n in every if fnmatch.fnmatchcase(n, "work_*")]
    for page_size in (1, 13, 100, 1000):
        names, totals = _all_pages(client, workflow.id, page_size, name_pattern="work_*")
        assert names == expected
        assert totals == {N_JOBS}
    far = client.jobs_page(workflow.id, name_pattern="work_*", offset=N_JOBS + 5, limit=10)
    assert far.items == [] and far.total_count == N_JOBS and not far.has_more


def test_name_pattern_combines_with_status(many):
    client, workflow = many
    page = client.jobs_page(workflow.id, status="ready", name_pattern="work_2", limit=1000)
    assert [j.name for j in page.items] == [n for n in (f"work_{i}" for i in range(N_JOBS)) if "work_2" in n]
    assert client.jobs_page(workflow.id, status="completed", name_pattern="work_2").total_count == 0


def test_name_pattern_treats_regex_characters_literally(make_workflow, client):
    workflow = make_workflow({"name": "literal", "jobs": [{"name": "a.b[1]", "command": "true"},
                                                          {"name": "axb1", "command": "true"}]})  # fmt: skip
    assert [j.name for j in client.jobs_page(workflow.id, name_pattern="a.b[1").items] == ["a.b[1]"]
    assert [j.name for j in client.jobs_page(workflow.id, name_pattern="a.b*").items] == ["a.b[1]"]


@pytest.mark.parametrize(("params", "says"), [
    ({"name": "work_1", "name_pattern": "work"}, "not both"),
    ({"name_pattern": ""}, "name_pattern is empty"),
    ({"name_pattern": "x" * 300}, "at most 256"),
])  # fmt: skip
def test_name_pattern_rejects_bad_input_with_a_clear_message(many, params, says):
    client, workflow = many
    with pytest.raises(ApiError) as error:
        client.jobs_page(workflow.id, **params)
    assert error.value.status_code in (400, 422)
    assert says in str(error.value)


def test_regex_for_anchors_globs_with_a_literal_start():
    assert regex_for("work_*") == "^work_"
    assert regex_for("work_?") == "^work_.$"
    assert regex_for("a.b") == r"a\.b"


def test_name_filters_read_the_stored_names_and_agree_with_the_jobs_query(mongo_uri) -> None:
    """Names are stored a chunk at a time at creation; the listing built on them equals a query on the jobs."""
    from api.storage import job_names, jobs
    from tests.storage.test_storage import make_workflow, run

    n = job_names.CHUNK + 7  # two chunks

    async def scenario(db):
        wid = await make_workflow(db, {"name": "chunks", "jobs": [
            {"name": "w{i}", "command": "true", "parameters": {"i": f"1:{n}"}}]})  # fmt: skip
        assert await db.job_names.count_documents({"workflow_id": wid}) == 2
        stored = await jobs.list_page(db, wid, None, 3, 5, name_pattern="w1*")
        await job_names.forget(db, wid)  # from now on the same listing queries the jobs
        queried = await jobs.list_page(db, wid, None, 3, 5, name_pattern="w1*")
        return stored, queried

    stored, queried = run(mongo_uri, scenario)
    assert stored == queried
    assert [j.name for j in stored.items] == ["w12", "w13", "w14", "w15", "w16"]
    assert stored.total_count == len([i for i in range(1, n + 1) if str(i).startswith("1")])


def test_name_filters_stay_right_after_jobs_are_added_renamed_and_deleted(client, make_workflow) -> None:
    workflow = make_workflow({"name": "edited", "jobs": [{"name": f"step_{i}", "command": "true"}
                                                         for i in range(5)]})  # fmt: skip
    added = client.create_job(workflow.id, "step_new", "true")
    first = client.list_jobs(workflow.id)[0]
    client.update_job(first.id, name="renamed")
    client.delete_job(client.list_jobs(workflow.id)[1].id)
    names = [j.name for j in client.jobs_page(workflow.id, name_pattern="step_", limit=100).items]
    assert names == ["step_2", "step_3", "step_4", "step_new"]
    assert [j.id for j in client.jobs_page(workflow.id, name="step_new").items] == [added.id]
    assert [j.name for j in client.jobs_page(workflow.id, name_pattern="ren*").items] == ["renamed"]
