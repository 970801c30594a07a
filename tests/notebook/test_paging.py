"""Planning a job-table page as server pages, from the status counts alone."""

from __future__ import annotations

import pytest

from torc_client import contract as c
from torc_client.core import states
from torc_client.notebook import paging
from torc_client.notebook.paging import Fetch, JobQuery

COUNTS = {"completed": 120, "running": 8, "ready": 30, "failed": 2}


def jobs_of(status: str, ids: range) -> list[c.Job]:
    return [c.Job(id=i, workflow_id=1, name=f"job_{i}", command="true", status=status) for i in ids]


def test_status_order_names_every_status_once() -> None:
    assert sorted(paging.STATUS_ORDER) == sorted(states.ALL)


def test_plan_by_id_reads_one_page_at_its_offset() -> None:
    assert paging.plan(JobQuery(page=2, page_size=50), COUNTS) == [Fetch(None, 100, 50)]


def test_plan_by_id_descending_counts_pages_from_the_end() -> None:
    query = JobQuery(descending=True, page_size=50)
    assert paging.plan(query, COUNTS) == [Fetch(None, 110, 50, reverse=True)]
    assert paging.plan(JobQuery(descending=True, page=3, page_size=50), COUNTS) == [Fetch(None, 0, 10, reverse=True)]


def test_plan_with_a_status_filter_uses_that_status_count() -> None:
    query = JobQuery(status="ready", descending=True, page_size=20)
    assert paging.plan(query, COUNTS) == [Fetch("ready", 10, 20, reverse=True)]


def test_plan_by_status_spans_statuses_in_status_order() -> None:
    # failed (2), running (8), ready (30), completed (120): rows 5..25 are 5 running then 15 ready
    query = JobQuery(sort="status", page_size=20)
    assert paging.plan(query, COUNTS) == [Fetch("failed", 0, 2), Fetch("running", 0, 8), Fetch("ready", 0, 10)]
    second = JobQuery(sort="status", page=1, page_size=20)
    assert paging.plan(second, COUNTS) == [Fetch("ready", 10, 20)]


def test_plan_by_status_descending_starts_with_the_last_status_newest_first() -> None:
    query = JobQuery(sort="status", descending=True, page=5, page_size=25)
    # completed (120) comes first; rows 125..150 = ready rows 5..30 counted from the end
    assert paging.plan(query, COUNTS) == [Fetch("ready", 0, 25, reverse=True)]


def test_plan_with_a_name_filter_reads_from_the_start() -> None:
    assert paging.plan(JobQuery(name="work_7", descending=True), COUNTS) == [Fetch(None, 0, 50)]
    assert paging.matching_total(JobQuery(name="work_7"), COUNTS) is None


def test_arrange_reverses_descending_pages_and_joins_statuses() -> None:
    query = JobQuery(sort="status", descending=True, page_size=4)
    pages = [(Fetch("completed", 2, 2, reverse=True), jobs_of("completed", range(3, 5))),
             (Fetch("ready", 8, 2, reverse=True), jobs_of("ready", range(9, 11)))]  # fmt: skip
    assert [j.id for j in paging.arrange(query, pages)] == [4, 3, 10, 9]


def test_arrange_by_name_uses_natural_order_within_the_page() -> None:
    jobs = [c.Job(id=i, workflow_id=1, name=n, command="", status="ready")
            for i, n in enumerate(["work_10", "work_2", "work_1"])]  # fmt: skip
    rows = paging.arrange(JobQuery(sort="name"), [(Fetch(None, 0, 3), jobs)])
    assert [j.name for j in rows] == ["work_1", "work_2", "work_10"]
    rows = paging.arrange(JobQuery(sort="name", descending=True), [(Fetch(None, 0, 3), jobs)])
    assert [j.name for j in rows] == ["work_10", "work_2", "work_1"]


def test_arrange_descending_without_a_known_total_reverses_the_page() -> None:
    jobs = jobs_of("ready", range(1, 4))
    rows = paging.arrange(JobQuery(name="x", descending=True), [(Fetch(None, 0, 50), jobs)])
    assert [j.id for j in rows] == [3, 2, 1]


def test_clamp_moves_a_page_past_the_end_back_to_the_last_page() -> None:
    assert paging.clamp(JobQuery(page=9, page_size=50), 120).page == 2
    assert paging.clamp(JobQuery(page=0), 0).page == 0
    assert paging.clamp(JobQuery(page=9, name="x"), None).page == 9


def test_page_count_is_at_least_one() -> None:
    assert [paging.page_count(n, 50) for n in (0, 1, 50, 51, None)] == [1, 1, 1, 2, None]


@pytest.mark.parametrize("fields", [{"sort": "size"}, {"status": "done"}, {"page": -1}, {"page_size": 0}])
def test_query_rejects_unknown_sorts_statuses_and_pages(fields: dict) -> None:
    with pytest.raises(ValueError):
        JobQuery(**fields)


def test_every_row_is_planned_exactly_once_across_pages() -> None:
    for sort in ("id", "status"):
        for descending in (False, True):
            seen: list[tuple[str | None, int]] = []
            for page in range(8):
                for f in paging.plan(JobQuery(sort=sort, descending=descending, page=page, page_size=23), COUNTS):
                    seen.extend((f.status, f.offset + i) for i in range(f.limit))
            assert len(seen) == len(set(seen)) == sum(COUNTS.values()), (sort, descending)
