"""What one update by `_id` costs on the embedded database, as the collection grows.

The storage layer updates documents it names by `_id` (a runner's compute node at every
exchange, a workflow's counts, a queue's head). When it needs the document back it can ask
for both at once (`find_one_and_update`, findAndModify) or update and then read
(`Database.update_and_read`). On the embedded database findAndModify reads every document of
the collection, so its cost grows with the collection while the other two do not: this
workload times each, per call, at 100 and 2,000 documents (a fleet's compute nodes, a
server's workflows), side by side.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from pymongo import MongoClient, ReturnDocument

from api.embedded import EmbeddedDatabase
from bench import harness
from bench.config import Config
from bench.harness import Figure

NAME = "writes"
SIZES = (100, 2000)
CALLS = 100


def _per_call_ms(call, calls: int = CALLS) -> float:
    t0 = time.perf_counter()
    for i in range(calls):
        call(i)
    return (time.perf_counter() - t0) / calls * 1000


def one_run(size: int) -> dict[str, float]:
    """Milliseconds per call of each way, on a fresh collection of `size` compute-node-like documents."""
    with tempfile.TemporaryDirectory(prefix="torc-bench-writes-") as tmp, EmbeddedDatabase(Path(tmp) / "db") as db:
        with MongoClient(db.uri, directConnection=True) as mongo:
            nodes = mongo["bench"].compute_nodes
            nodes.create_index([("workflow_id", 1)])
            nodes.insert_many([{"_id": i, "workflow_id": 1, "is_active": True, "lease_until": 0.0}
                               for i in range(size)])  # fmt: skip
            renew = {"$inc": {"lease_until": 1.0}}

            def update_and_read(i: int) -> None:
                nodes.update_one({"_id": i, "is_active": True}, renew)
                nodes.find_one({"_id": i})

            return {
                "find_one_and_update": _per_call_ms(lambda i: nodes.find_one_and_update(
                    {"_id": i, "is_active": True}, renew, return_document=ReturnDocument.AFTER)),
                "update_one then find_one": _per_call_ms(update_and_read),
                "update_one": _per_call_ms(lambda i: nodes.update_one({"_id": i, "is_active": True}, renew)),
            }  # fmt: skip


def run(cfg: Config) -> list[Figure]:
    out = []
    for size in SIZES:
        runs = harness.repeat(cfg.repeat, f"updates by _id among {size:,} documents", lambda _: one_run(size), cfg.log)
        for way in runs[0]:
            key = f"writes.{way.replace(' ', '_')}.n{size}"
            out.append(Figure(key, f"One {way} by _id among {size:,} documents", "ms",
                              [r[way] for r in runs], higher_is_better=False,
                              params={"documents": size, "calls": CALLS}))  # fmt: skip
    return out
