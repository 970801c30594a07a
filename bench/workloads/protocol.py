"""Diagnostic: what one job costs in the runner protocol, request by request.

A runner makes one kind of request: an exchange that reports the jobs finished since
its last request and claims the next ones (`POST /claim` with `outcomes`). One
client here does what a runner of no-op jobs does, with 1, P, 100 and 250 jobs per
exchange: each request reports the previous batch completed (straight from pending:
jobs that start and end between two requests are reported once) and claims the next.
For each size: the latency, the commands the database served (the server's
`opcounters`, read before and after) and the rate that latency allows. Also timed:
one point read and one findAndModify on the database, and an HTTP ping of the API.
"""

from __future__ import annotations

import os
import socket
import statistics
import time

from pymongo import MongoClient

from bench import harness, specs
from bench.config import Config
from bench.harness import Figure
from bench.stack import Stack
from torc_client import contract as c

NAME = "protocol"


def _timed(fn, counter) -> tuple[float, int]:
    before = counter()
    t0 = time.perf_counter()
    fn()
    ms = (time.perf_counter() - t0) * 1000
    return ms, counter() - before - 1  # the second serverStatus counts itself


def one_run(cfg: Config) -> dict[str, float]:
    """Both batch sizes (1 and P jobs per request) on one fresh stack; keys are suffixed with the size."""
    out = {}
    with Stack("protocol") as stack:
        client = stack.client
        sizes = _batches(cfg)
        wf = client.create_workflow_from_spec(specs.noop(sum(_turn_count(cfg, b) * b for b in sizes) + 10),
                                              working_dir=str(stack.dir))  # fmt: skip
        client.initialize_workflow(wf.id)
        mongo = MongoClient(stack.db.uri, directConnection=True)
        for batch in sizes:
            measured = _turns(client, mongo, wf.id, batch, _turn_count(cfg, batch))
            out.update({f"{k}.{batch}": v for k, v in measured.items()})
        out.update(_per_document(mongo.bench))
        # The API writes with journal=True (acknowledged changes survive a killed database): what that costs.
        journaled = MongoClient(stack.db.uri, directConnection=True, journal=True)
        out.update({f"{k}_journaled": v for k, v in _per_document(journaled.bench).items()})
        out.update({"find_one_ms": _per_call(lambda: mongo.bench.jobs.find_one({"_id": 1})),
                    "find_one_and_update_ms": _per_call(lambda: mongo.bench.counters.find_one_and_update(
                        {"_id": "bench"}, {"$inc": {"n": 1}}, upsert=True)),
                    "find_one_and_update_journaled_ms": _per_call(lambda: journaled.bench.counters.find_one_and_update(
                        {"_id": "bench"}, {"$inc": {"n": 1}}, upsert=True)),
                    "http_ping_ms": _per_call(client.ping)})  # fmt: skip
        journaled.close()
        mongo.close()
    return out


def _batches(cfg: Config) -> list[int]:
    """Jobs per request: 1, P (a runner with P slots) and the batches a runner of short jobs sends."""
    return sorted({1, cfg.parallelism, 100, 250})


def _turn_count(cfg: Config, batch: int) -> int:
    return cfg.protocol_turns if batch < 100 else max(cfg.protocol_turns // 5, 5)


def _turns(client, mongo, wid: int, batch: int, turns: int) -> dict[str, float]:
    """`turns` exchanges of `batch` jobs; median latency and database commands."""
    node = client.register_compute_node(c.ComputeNodeCreate(
        workflow_id=wid, hostname=socket.gethostname(), pid=os.getpid(), num_cpus=batch, memory_gb=8.0)).id  # fmt: skip
    ops = lambda: sum(mongo.admin.command("serverStatus")["opcounters"].values())  # noqa: E731
    latencies, commands = [], []
    held: list[c.ClaimedJob] = client.claim(wid, c.ClaimRequest(compute_node_id=node, limit=batch, num_cpus=batch,
                                                                memory_gb=8.0)).jobs  # fmt: skip
    for _ in range(turns):
        request = c.ClaimRequest(compute_node_id=node, limit=batch, num_cpus=batch, memory_gb=8.0, outcomes=[
            c.JobOutcome(job_id=j.id, claim_token=j.claim_token, status="completed", return_code=0,
                         exec_time_minutes=0.0, completion_time="2026-01-01T00:00:00.000Z") for j in held])  # fmt: skip
        got: list[c.ClaimedJob] = []
        ms, n = _timed(lambda: got.extend(client.claim(wid, request).jobs), ops)
        latencies.append(ms)
        commands.append(n)
        held = got
    return {"exchange_ms": statistics.median(latencies), "exchange_cmds": statistics.median(commands)}


def _per_document(db) -> dict[str, float]:
    """What the database spends per document on the writes a job needs: the floor under every rate above.

    On copies of real job documents (with the jobs collection's index) and result
    documents (with the results collection's index), in collections of their own.
    """
    from api.storage.indexes import INDEXES

    jobs, results = db.scratch_jobs, db.scratch_results
    for coll, name in ((jobs, "jobs"), (results, "results")):
        for keys, unique in INDEXES[name]:
            coll.create_index(keys, unique=unique)
    docs = [{**d, "status": "ready"} for d in db.jobs.find({}).limit(5000)]
    jobs.insert_many(docs)
    ids = [d["_id"] for d in docs]
    batches = [ids[i : i + 50] for i in range(0, len(ids), 50)]
    per_doc = {}
    t0 = time.perf_counter()
    for part in batches:
        jobs.update_many({"_id": {"$in": part}, "status": "ready"}, {"$set": {"status": "pending", "claim_token": "x"}})
    per_doc["update_doc_ms"] = (time.perf_counter() - t0) * 1000 / len(ids)
    t0 = time.perf_counter()
    for part in batches:
        list(jobs.find({"_id": {"$in": part}}))
    per_doc["find_doc_ms"] = (time.perf_counter() - t0) * 1000 / len(ids)
    rows = [{"_id": i, "workflow_id": 1, "job_id": i, "run_id": 1, "attempt_id": 1, "return_code": 0,
             "status": "completed", "exec_time_minutes": 0.0, "completion_time": "2026-01-01T00:00:00.000Z"}
            for i in ids]  # fmt: skip
    t0 = time.perf_counter()
    for i in range(0, len(rows), 250):
        results.insert_many(rows[i : i + 250], ordered=False)
    per_doc["insert_result_ms"] = (time.perf_counter() - t0) * 1000 / len(rows)
    jobs.drop()
    results.drop()
    return per_doc


def _per_call(fn, n: int = 200) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) * 1000 / n


def run(cfg: Config) -> list[Figure]:
    runs = harness.repeat(cfg.repeat, "protocol", lambda _: one_run(cfg), cfg.log)
    out = []
    for batch in _batches(cfg):
        jobs = f"{batch} job{'s' if batch > 1 else ''}"
        ms = [x[f"exchange_ms.{batch}"] for x in runs]
        out.append(Figure(f"protocol.exchange.{batch}", f"exchange: report {jobs} done and claim {jobs}, latency",
                          "ms", ms, higher_is_better=False,
                          params={"database_commands": [x[f"exchange_cmds.{batch}"] for x in runs],
                                  "bound_jobs_per_s": [round(1000 * batch / m, 1) for m in ms],
                                  "turns": _turn_count(cfg, batch)}))  # fmt: skip
    for k, title in (("update_doc", "Database: one job's status update (update_many of 50 ids by `$in`), per job"),
                     ("find_doc", "Database: one job read (find of 50 ids by `$in`), per job"),
                     ("insert_result", "Database: one result stored (insert_many of 250), per result")):  # fmt: skip
        ms = [x[f"{k}_ms"] for x in runs]
        out.append(Figure(f"protocol.{k}", title, "ms", ms, higher_is_better=False,
                          params={"per_second_on_one_core": [round(1000 / m) for m in ms]}))
        if k == "find_doc":  # reads are not journaled
            continue
        journaled = [x[f"{k}_ms_journaled"] for x in runs]
        out.append(Figure(f"protocol.{k}.journaled", f"{title}, journaled (as the API writes)", "ms", journaled,
                          higher_is_better=False, params={"ratio_to_unjournaled": [round(j / m, 2) for j, m in
                                                                                     zip(journaled, ms)]}))
    for k, title in (("find_one", "Database point read (find_one by _id)"),
                     ("find_one_and_update", "Database findAndModify ($inc on one document)"),
                     ("find_one_and_update_journaled", "Database findAndModify ($inc on one document), journaled"),
                     ("http_ping", "API round trip (GET /ping)")):  # fmt: skip
        out.append(Figure(f"protocol.{k}", title, "ms", [x[f"{k}_ms"] for x in runs], higher_is_better=False))
    return out
