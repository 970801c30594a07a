"""Job names kept in a few documents per workflow, so a name filter reads a few dozen documents, not every job.

Creation gives a workflow's jobs consecutive ids in spec order, so its names are stored as
they come, `CHUNK` to a document: `{workflow_id, first, count, names}`, where line `i` of
`names` is the name of job `first + i` (one string: names hold no control characters, and one
string is far cheaper to store and read than thousands). A filter then reads the workflow's chunks with one equality on the
indexed `workflow_id` (50 documents for 100,000 jobs), matches the names here, and reads
only the page's jobs by id. On the embedded server, a query on `name` over the jobs
collection would be evaluated document by document: seconds for 100,000 jobs.

Names change only before a workflow first runs (adding, deleting or renaming a job); such an
edit drops the workflow's chunks (`forget`), and its filters then query the jobs instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from api.storage.db import Database

#: Names per document (a chunk of ~2,000 short names is a few tens of KB).
CHUNK = 2000
#: Job ids per `$in` query when a status filter narrows the names that matched.
STATUS_BATCH = 1000


async def record(db: Database, wid: int, first: int, names: Iterable[str]) -> None:
    """Store the names of the jobs `first`, `first + 1`, ... of a workflow just created."""
    docs, chunk = [], []
    for name in names:
        chunk.append(name)
        if len(chunk) == CHUNK:
            docs.append(_chunk(wid, first + len(docs) * CHUNK, chunk))
            chunk = []
    if chunk:
        docs.append(_chunk(wid, first + len(docs) * CHUNK, chunk))
    if docs:
        await db.job_names.insert_many(docs, ordered=False)


def _chunk(wid: int, first: int, names: list[str]) -> dict[str, Any]:
    return {"workflow_id": wid, "first": first, "count": len(names), "names": "\n".join(names)}


async def forget(db: Database, wid: int) -> None:
    """Drop a workflow's stored names (its jobs changed): its name filters query the jobs from now on."""
    await db.job_names.delete_many({"workflow_id": wid})


async def matching_ids(db: Database, wid: int, condition: Any, total_jobs: int) -> list[int] | None:
    """The ids of the workflow's jobs whose name meets `condition` (an exact name or `{"$regex": ...}`), in id order.

    None when the stored names do not cover every job (a workflow created before they were
    kept, or edited since): the caller then queries the jobs.
    """
    chunks = [doc async for doc in db.job_names.find({"workflow_id": wid}, {"first": 1, "count": 1, "names": 1})]
    if sum(doc["count"] for doc in chunks) != total_jobs:
        return None
    if isinstance(condition, dict):
        pattern = re.compile(condition["$regex"])
        keep = lambda name: pattern.search(name) is not None  # noqa: E731 - the two tests read alike
    else:
        keep = lambda name: name == condition  # noqa: E731
    ids = [doc["first"] + i for doc in chunks for i, name in enumerate(doc["names"].split("\n")) if keep(name)]
    ids.sort()
    return ids


async def with_status(db: Database, ids: list[int], status: str) -> list[int]:
    """Those of `ids` whose job has `status` (read by id, a batch at a time), in id order."""
    found: list[int] = []
    for start in range(0, len(ids), STATUS_BATCH):
        batch = ids[start : start + STATUS_BATCH]
        found += [doc["_id"] async for doc in db.jobs.find({"_id": {"$in": batch}, "status": status}, {"_id": 1})]
    found.sort()
    return found
