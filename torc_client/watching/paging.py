"""Which server pages make up one page of the job table: planned from the job counts alone.

The server lists a workflow's jobs in id order, optionally with one status and a name pattern
(a part of the names, or a glob). That is enough for every order the table offers without ever loading all jobs:

- by id, ascending or descending (descending pages are counted from the end);
- by status: the statuses are laid end to end in `STATUS_ORDER`, each in id order, and
  the known count of each status says which slice of which status a table page covers;
- by name: natural order within the page (job names usually follow id order anyway).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from torc_client import contract as c
from torc_client.core import states

SORT_KEYS = ("id", "status", "name")
#: The order of statuses when the table is sorted by status: what needs attention first.
STATUS_ORDER = ("failed", "terminated", "pending_failed", "running", "pending", "ready", "blocked",
                "uninitialized", "canceled", "disabled", "completed")  # fmt: skip
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class JobQuery:
    """What the job table shows: a filter, an order and a page."""

    status: str | None = None
    name: str | None = None
    sort: str = "id"
    descending: bool = False
    page: int = 0
    page_size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        if self.sort not in SORT_KEYS:
            raise ValueError(f"unknown sort key {self.sort!r}; valid: {', '.join(SORT_KEYS)}")
        if self.status is not None:
            states.parse(self.status)
        if self.page < 0 or self.page_size < 1:
            raise ValueError("page must be >= 0 and page_size >= 1")


@dataclass(frozen=True)
class Fetch:
    """One request to the server's job listing; `reverse` flips its rows (for descending orders)."""

    status: str | None
    offset: int
    limit: int
    reverse: bool = False


def matching_total(query: JobQuery, counts: Mapping[str, int]) -> int | None:
    """How many jobs match the filter, from the counts; None when a name filter makes it unknown."""
    if query.name is not None:
        return None
    if query.status is not None:
        return counts.get(query.status, 0)
    return sum(counts.values())


def page_count(total: int | None, page_size: int) -> int | None:
    """Pages needed for `total` rows (at least one); None when the total is unknown."""
    return None if total is None else max(1, -(-total // page_size))


def clamp(query: JobQuery, total: int | None) -> JobQuery:
    """The query moved back to the last page when the rows it pointed at are gone."""
    pages = page_count(total, query.page_size)
    return replace(query, page=pages - 1) if pages is not None and query.page >= pages else query


def plan(query: JobQuery, counts: Mapping[str, int]) -> list[Fetch]:
    """The server pages that make up the table page `query`, in display order."""
    total = matching_total(query, counts)
    start, stop = query.page * query.page_size, (query.page + 1) * query.page_size
    if query.sort == "status" and query.status is None and query.name is None:
        return _plan_by_status(counts, start, stop, query.descending)
    if total is None:
        return [Fetch(query.status, start, query.page_size)]
    fetch = _from_end(query.status, total, start, stop) if query.descending and query.sort == "id" else \
        Fetch(query.status, start, min(stop, total) - start)  # fmt: skip
    return [fetch] if fetch.limit > 0 else []


def _from_end(status: str | None, total: int, start: int, stop: int) -> Fetch:
    """Rows `start:stop` of `total` rows taken in descending id order."""
    low, high = max(total - stop, 0), max(total - start, 0)
    return Fetch(status, low, high - low, reverse=True)


def _plan_by_status(counts: Mapping[str, int], start: int, stop: int, descending: bool) -> list[Fetch]:
    fetches = []
    base = 0
    for status in reversed(STATUS_ORDER) if descending else STATUS_ORDER:
        n = counts.get(status, 0)
        low, high = max(start, base), min(stop, base + n)
        if low < high:
            if descending:
                fetches.append(_from_end(status, n, low - base, high - base))
            else:
                fetches.append(Fetch(status, low - base, high - low))
        base += n
    return fetches


def arrange(query: JobQuery, pages: Sequence[tuple[Fetch, Sequence[c.Job]]]) -> list[c.Job]:
    """The table's rows: the fetched pages joined in plan order, each reversed if asked, then sorted by name."""
    rows: list[c.Job] = []
    for fetch, items in pages:
        rows.extend(reversed(items) if fetch.reverse else items)
    if query.sort == "name":
        rows.sort(key=lambda job: natural_key(job.name), reverse=query.descending)
    elif query.descending and query.sort == "id" and not any(f.reverse for f, _ in pages):
        rows.reverse()
    return rows


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """Sort key that puts `work_2` before `work_10`."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in _DIGITS.split(text) if part)
