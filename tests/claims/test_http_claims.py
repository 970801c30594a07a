"""Claims, starts and completions through the API: exactly once, within resources, fenced."""

from __future__ import annotations

import concurrent.futures
import os
import socket
import subprocess
import sys
import time

import pytest

from torc_client import Client
from torc_client import contract as c
from torc_client.core.errors import LeaseExpiredError, ValidationError


def register(client: Client, workflow_id: int) -> int:
    node = client.register_compute_node(c.ComputeNodeCreate(workflow_id=workflow_id, hostname=socket.gethostname(),
                                                            pid=os.getpid(), num_cpus=4, memory_gb=8))  # fmt: skip
    return node.id


def claim(client: Client, wid: int, node: int, limit: int = 10, **resources) -> list[c.ClaimedJob]:
    fields = {"num_cpus": 64, "memory_gb": 512.0, "num_gpus": 0, **resources}
    return client.claim(wid, c.ClaimRequest(compute_node_id=node, limit=limit, **fields)).jobs


def finish(client: Client, wid: int, node: int, jobs: list[c.ClaimedJob], status: str = "completed",
           return_code: int = 0) -> c.ReportResponse:  # fmt: skip
    client.report_start(wid, c.StartReport(compute_node_id=node, jobs=[
        c.JobStart(job_id=j.id, claim_token=j.claim_token) for j in jobs]))  # fmt: skip
    return client.report_complete(wid, c.CompleteReport(compute_node_id=node, outcomes=[
        c.JobOutcome(job_id=j.id, claim_token=j.claim_token, status=status, return_code=return_code,
                     exec_time_minutes=0.01, completion_time="2026-01-01T00:00:00.000Z") for j in jobs]))  # fmt: skip


def independent(n: int, **job) -> dict:
    return {"name": "flat", "jobs": [{"name": "j{i}", "command": "true", "parameters": {"i": f"1:{n}"}, **job}]}


def test_claim_hands_out_at_most_the_limit(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(30), initialize=True)
    node = register(client, wf.id)
    assert len(claim(client, wf.id, node, limit=7)) == 7
    assert client.workflow_status(wf.id).job_counts == {"ready": 23, "pending": 7}


def test_claim_refuses_before_initialisation(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(3))
    node = register(client, wf.id)
    answer = client.claim(wf.id, c.ClaimRequest(compute_node_id=node, limit=5, num_cpus=4, memory_gb=4))
    assert answer.jobs == [] and "not initialized" in answer.reason


def test_claim_skips_jobs_that_exceed_free_memory(client: Client, make_workflow) -> None:
    spec = {"name": "mem", "jobs": [
        {"name": "big", "command": "true", "resource_requirements": "big"},
        {"name": "small_{i}", "command": "true", "resource_requirements": "small", "parameters": {"i": "1:3"}}],
        "resource_requirements": [{"name": "big", "num_cpus": 1, "memory": "16g"},
                                  {"name": "small", "num_cpus": 1, "memory": "1g"}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    node = register(client, wf.id)
    got = claim(client, wf.id, node, limit=10, memory_gb=8)
    assert sorted(j.name for j in got) == ["small_1", "small_2", "small_3"]


def test_claim_packs_greedily_largest_gpu_jobs_first(client: Client, make_workflow) -> None:
    spec = {"name": "gpu", "jobs": [
        {"name": "cpu_{i}", "command": "true", "resource_requirements": "cpu", "parameters": {"i": "1:4"}},
        {"name": "gpu_{i}", "command": "true", "resource_requirements": "gpu", "parameters": {"i": "1:3"}}],
        "resource_requirements": [{"name": "cpu", "num_cpus": 2, "memory": "1g"},
                                  {"name": "gpu", "num_cpus": 2, "num_gpus": 1, "memory": "4g"}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    node = register(client, wf.id)
    got = claim(client, wf.id, node, limit=10, num_cpus=6, memory_gb=64, num_gpus=2)
    assert sorted(j.name for j in got) == ["cpu_1", "gpu_1", "gpu_2"]


def test_claim_respects_the_time_limit(client: Client, make_workflow) -> None:
    spec = {"name": "time", "jobs": [{"name": "long", "command": "true", "resource_requirements": "long"},
                                     {"name": "short", "command": "true", "resource_requirements": "short"}],
            "resource_requirements": [{"name": "long", "num_cpus": 1, "memory": "1m", "runtime": "PT4H"},
                                      {"name": "short", "num_cpus": 1, "memory": "1m", "runtime": "PT5M"}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    node = register(client, wf.id)
    assert [j.name for j in claim(client, wf.id, node, time_limit_seconds=3600)] == ["short"]


def test_queue_depth_claim_ignores_resources(client: Client, make_workflow) -> None:
    wf = make_workflow({**independent(5), "resource_requirements": [{"name": "huge", "num_cpus": 512,
                                                                     "memory": "4t"}],
                        "jobs": [{"name": "j{i}", "command": "true", "resource_requirements": "huge",
                                  "parameters": {"i": "1:5"}}]}, initialize=True)  # fmt: skip
    node = register(client, wf.id)
    assert claim(client, wf.id, node) == []
    answer = client.claim(wf.id, c.ClaimRequest(compute_node_id=node, limit=3, ignore_resources=True))
    assert len(answer.jobs) == 3


def test_concurrent_claimers_never_share_a_job(client: Client, make_workflow, server) -> None:
    wf = make_workflow(independent(400), initialize=True)
    nodes = [register(client, wf.id) for _ in range(8)]

    def drain(node: int) -> list[int]:
        with Client(server.url) as own:
            ids = []
            while batch := claim(own, wf.id, node, limit=7):
                ids.extend(j.id for j in batch)
            return ids

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        claimed = [jid for ids in pool.map(drain, nodes) for jid in ids]
    assert len(claimed) == len(set(claimed)) == 400


CLAIMER = """
import json, sys
from torc_client import Client, contract as c
client = Client(sys.argv[1]); wid = int(sys.argv[2]); node = int(sys.argv[3]); ids = []
while True:
    jobs = client.claim(wid, c.ClaimRequest(compute_node_id=node, limit=9, num_cpus=64, memory_gb=64)).jobs
    if not jobs:
        break
    ids += [j.id for j in jobs]
print(json.dumps(ids))
"""


def test_claimers_in_separate_processes_on_two_api_servers_share_nothing(client, make_workflow, server, tmp_path):
    from tests.conftest import start_server, stop_server

    second = start_server(server.mongo_uri, server.database, tmp_path)
    try:
        wf = make_workflow(independent(600), initialize=True)
        procs = [subprocess.Popen([sys.executable, "-c", CLAIMER, url, str(wf.id), str(register(client, wf.id))],
                                  stdout=subprocess.PIPE, text=True)
                 for url in (server.url, second.url, server.url, second.url)]  # fmt: skip
        claimed = [jid for p in procs for jid in __import__("json").loads(p.communicate(timeout=300)[0])]
    finally:
        stop_server(second)
    assert len(claimed) == len(set(claimed)) == 600


def test_completion_releases_dependents_at_once(client: Client, make_workflow) -> None:
    spec = {"name": "chain", "jobs": [{"name": "a", "command": "true"},
                                      {"name": "b", "command": "true", "depends_on": ["a"]},
                                      {"name": "c", "command": "true", "depends_on": ["a", "b"]}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    node = register(client, wf.id)
    (a,) = claim(client, wf.id, node)
    finish(client, wf.id, node, [a])
    (b,) = claim(client, wf.id, node)
    assert b.name == "b"
    finish(client, wf.id, node, [b])
    (last,) = claim(client, wf.id, node)
    assert last.name == "c"
    finish(client, wf.id, node, [last])
    assert client.workflow_status(wf.id).is_complete


def test_repeated_completion_report_stores_one_result(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(1), initialize=True)
    node = register(client, wf.id)
    jobs = claim(client, wf.id, node)
    first = finish(client, wf.id, node, jobs)
    again = client.report_complete(wf.id, c.CompleteReport(compute_node_id=node, outcomes=[
        c.JobOutcome(job_id=jobs[0].id, claim_token=jobs[0].claim_token, status="completed", return_code=0,
                     exec_time_minutes=0.0, completion_time="2026-01-01T00:00:00.000Z")]))  # fmt: skip
    assert first.accepted == again.accepted == [jobs[0].id]
    assert len(client.list_results(wf.id, all_runs=True)) == 1
    assert client.workflow_status(wf.id).job_counts == {"completed": 1}


def test_report_with_a_stale_claim_token_is_refused(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(1), initialize=True)
    node = register(client, wf.id)
    (job,) = claim(client, wf.id, node)
    answer = client.report_start(wf.id, c.StartReport(compute_node_id=node, jobs=[
        c.JobStart(job_id=job.id, claim_token="not-the-token")]))  # fmt: skip
    assert answer.accepted == [] and "no longer held" in answer.rejected[0].reason


def test_runner_may_not_report_a_status_it_does_not_own(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(1), initialize=True)
    node = register(client, wf.id)
    (job,) = claim(client, wf.id, node)
    with pytest.raises(ValidationError):
        finish(client, wf.id, node, [job], status="ready")


@pytest.mark.parametrize("cancel_flag, expected", [(True, "canceled"), (False, "ready")])
def test_failed_upstream_cancels_or_releases_by_flag(client, make_workflow, cancel_flag, expected) -> None:
    spec = {"name": "fail", "jobs": [
        {"name": "a", "command": "false"},
        {"name": "b", "command": "true", "depends_on": ["a"], "cancel_on_blocking_job_failure": cancel_flag},
        {"name": "c", "command": "true", "depends_on": ["b"]}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    node = register(client, wf.id)
    finish(client, wf.id, node, claim(client, wf.id, node), status="failed", return_code=1)
    statuses = {j.name: j.status for j in client.list_jobs(wf.id)}
    assert statuses["b"] == expected
    assert statuses["c"] == ("canceled" if cancel_flag else "blocked")


@pytest.fixture()
def lease_client(short_lease_server) -> Client:
    with Client(short_lease_server.url) as client:
        yield client


def test_expired_lease_requeues_jobs_once_and_fences_the_old_runner(lease_client: Client) -> None:
    client = lease_client
    wf = client.create_workflow_from_spec(independent(2))
    client.initialize_workflow(wf.id)
    dead = register(client, wf.id)
    jobs = claim(client, wf.id, dead)
    client.report_start(wf.id, c.StartReport(compute_node_id=dead, jobs=[
        c.JobStart(job_id=j.id, claim_token=j.claim_token) for j in jobs]))  # fmt: skip
    alive = register(client, wf.id)
    deadline = time.monotonic() + 30
    again: list[c.ClaimedJob] = []
    while not again and time.monotonic() < deadline:
        time.sleep(0.5)
        again = claim(client, wf.id, alive)
    assert sorted(j.id for j in again) == sorted(j.id for j in jobs)
    assert all(j.attempt_id == 1 for j in again)
    late = client.report_complete(wf.id, c.CompleteReport(compute_node_id=dead, outcomes=[
        c.JobOutcome(job_id=j.id, claim_token=j.claim_token, status="completed", return_code=0,
                     exec_time_minutes=0.0, completion_time="2026-01-01T00:00:00.000Z") for j in jobs]))  # fmt: skip
    assert late.accepted == [] and len(late.rejected) == 2
    with pytest.raises(LeaseExpiredError):
        client.heartbeat(dead)
    events = client.list_events(wf.id).items
    assert any("stopped renewing its lease" in e.message for e in events)


def test_events_are_readable_since_a_cursor(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(2), initialize=True)
    first = client.list_events(wf.id)
    assert [e.id for e in first.items] == list(range(1, len(first.items) + 1))
    client.add_event(wf.id, "checkpoint reached", step=3)
    newer = client.list_events(wf.id, after=first.items[-1].id).items
    assert [(e.category, e.message, e.data) for e in newer] == [("user", "checkpoint reached", {"step": 3})]


def test_event_stream_delivers_new_events(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(1), initialize=True)
    last = client.list_events(wf.id).items[-1].id
    stream = client.follow_events(wf.id, after=last)
    client.add_event(wf.id, "hello from a job")
    event = next(stream)
    stream.close()
    assert event.message == "hello from a job" and event.id == last + 1


def test_cancel_stops_claims_and_cancels_waiting_jobs(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(5), initialize=True)
    node = register(client, wf.id)
    claim(client, wf.id, node, limit=2)
    status = client.cancel_workflow(wf.id)
    assert status.is_canceled and status.is_complete
    assert status.job_counts == {"canceled": 5}
    answer = client.claim(wf.id, c.ClaimRequest(compute_node_id=node, limit=5, num_cpus=4, memory_gb=4))
    assert answer.jobs == [] and answer.is_canceled


def test_claim_with_start_hands_out_running_jobs(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(4), initialize=True)
    node = register(client, wf.id)
    answer = client.claim(wf.id, c.ClaimRequest(compute_node_id=node, limit=3, num_cpus=8, memory_gb=8, start=True))
    assert answer.started and len(answer.jobs) == 3
    assert client.workflow_status(wf.id).job_counts == {"ready": 1, "running": 3}
    done = client.report_complete(wf.id, c.CompleteReport(compute_node_id=node, outcomes=[
        c.JobOutcome(job_id=j.id, claim_token=j.claim_token, status="completed", return_code=0,
                     exec_time_minutes=0.0, completion_time="2026-01-01T00:00:00.000Z") for j in answer.jobs]))  # fmt: skip
    assert len(done.accepted) == 3


def test_claim_carries_the_previous_outcomes_and_releases_their_dependents(client: Client, make_workflow) -> None:
    spec = {"name": "exchange", "jobs": [{"name": "a", "command": "true"},
                                         {"name": "b", "command": "true", "depends_on": ["a"]}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    node = register(client, wf.id)
    (a,) = client.claim(wf.id, c.ClaimRequest(compute_node_id=node, limit=2, num_cpus=4, memory_gb=4, start=True)).jobs
    outcome = c.JobOutcome(job_id=a.id, claim_token=a.claim_token, status="completed", return_code=0,
                           exec_time_minutes=0.0, completion_time="2026-01-01T00:00:00.000Z")
    answer = client.claim(wf.id, c.ClaimRequest(compute_node_id=node, limit=2, num_cpus=4, memory_gb=4, start=True,
                                                outcomes=[outcome]))  # fmt: skip
    assert answer.report.accepted == [a.id]
    assert [j.name for j in answer.jobs] == ["b"]
    assert len(client.list_results(wf.id)) == 1


def outcome_of(job: c.ClaimedJob, status: str = "completed", return_code: int = 0) -> c.JobOutcome:
    return c.JobOutcome(job_id=job.id, claim_token=job.claim_token, status=status, return_code=return_code,
                        exec_time_minutes=0.0, completion_time="2026-01-01T00:00:00.000Z")


def test_claim_adds_a_backlog_beyond_what_fits_now(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(20), initialize=True)
    node = register(client, wf.id)  # 4 CPUs in total
    answer = client.claim(wf.id, c.ClaimRequest(compute_node_id=node, limit=2, num_cpus=2, memory_gb=8, backlog=5))
    assert len(answer.jobs) == 7
    assert client.workflow_status(wf.id).job_counts == {"ready": 13, "pending": 7}


def test_backlog_holds_only_jobs_that_fit_the_node(client: Client, make_workflow) -> None:
    spec = {"name": "sizes", "jobs": [
        {"name": "wide_{i}", "command": "true", "resource_requirements": "wide", "parameters": {"i": "1:3"}},
        {"name": "narrow_{i}", "command": "true", "resource_requirements": "narrow", "parameters": {"i": "1:3"}}],
        "resource_requirements": [{"name": "wide", "num_cpus": 16, "memory": "1g"},
                                  {"name": "narrow", "num_cpus": 1, "memory": "1g"}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    node = register(client, wf.id)  # 4 CPUs: a wide job can never run on it
    answer = client.claim(wf.id, c.ClaimRequest(compute_node_id=node, limit=0, num_cpus=0, memory_gb=0, backlog=10))
    assert sorted(j.name for j in answer.jobs) == ["narrow_1", "narrow_2", "narrow_3"]


def test_a_job_reported_without_a_start_completes_from_pending(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(3), initialize=True)
    node = register(client, wf.id)
    jobs = claim(client, wf.id, node, limit=3)
    answer = client.claim(wf.id, c.ClaimRequest(compute_node_id=node, limit=0, outcomes=[outcome_of(jobs[0])],
                                                starts=[c.JobStart(job_id=jobs[1].id, claim_token=jobs[1].claim_token)]))
    assert answer.report.accepted == [jobs[0].id] and answer.report.rejected == []
    assert client.workflow_status(wf.id).job_counts == {"completed": 1, "running": 1, "pending": 1}
    assert [r.job_id for r in client.list_results(wf.id)] == [jobs[0].id]


def test_returned_jobs_are_ready_again_for_any_runner(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(4), initialize=True)
    first, second = register(client, wf.id), register(client, wf.id)
    jobs = claim(client, wf.id, first, limit=4)
    back = [c.JobStart(job_id=j.id, claim_token=j.claim_token) for j in jobs[2:]]
    client.report_complete(wf.id, c.CompleteReport(compute_node_id=first, outcomes=[], returned=back))
    assert client.workflow_status(wf.id).job_counts == {"ready": 2, "pending": 2}
    assert sorted(j.id for j in claim(client, wf.id, second)) == sorted(j.id for j in jobs[2:])
    assert any("2 jobs requeued: compute node" in e.message and "returned them unstarted" in e.message
               for e in client.list_events(wf.id).items)  # fmt: skip


def test_a_start_for_a_job_held_by_another_claim_is_refused(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(1), initialize=True)
    node = register(client, wf.id)
    (job,) = claim(client, wf.id, node, limit=1)
    answer = client.claim(wf.id, c.ClaimRequest(compute_node_id=node, limit=0,
                                                starts=[c.JobStart(job_id=job.id, claim_token="not-the-token")]))
    assert [r.job_id for r in answer.report.rejected] == [job.id]
    assert client.workflow_status(wf.id).job_counts == {"pending": 1}


def test_a_repeated_claim_gets_the_same_jobs_not_more(client: Client, make_workflow) -> None:
    # A runner whose answer was lost on the way retries the same request: it must not strand the first jobs.
    wf = make_workflow(independent(10), initialize=True)
    node = register(client, wf.id)
    request = c.ClaimRequest(compute_node_id=node, limit=3, num_cpus=8, memory_gb=8, request_id="r-1")
    first = client.claim(wf.id, request)
    again = client.claim(wf.id, request)
    assert [j.id for j in again.jobs] == [j.id for j in first.jobs] and len(first.jobs) == 3
    assert [j.claim_token for j in again.jobs] == [j.claim_token for j in first.jobs]
    assert client.workflow_status(wf.id).job_counts == {"ready": 7, "pending": 3}
    fresh = client.claim(wf.id, c.ClaimRequest(compute_node_id=node, limit=3, num_cpus=8, memory_gb=8,
                                               request_id="r-2"))  # fmt: skip
    assert not {j.id for j in fresh.jobs} & {j.id for j in first.jobs}


def test_a_node_that_signs_off_holding_jobs_gives_them_back(client: Client, make_workflow) -> None:
    # A runner whose last report failed still signs off: nothing may stay pending under a node nobody renews.
    wf = make_workflow(independent(5), initialize=True)
    node = register(client, wf.id)
    jobs = claim(client, wf.id, node, limit=3)
    client.report_start(wf.id, c.StartReport(compute_node_id=node, jobs=[
        c.JobStart(job_id=jobs[0].id, claim_token=jobs[0].claim_token)]))  # fmt: skip
    assert client.workflow_status(wf.id).job_counts == {"ready": 2, "pending": 2, "running": 1}
    client.deactivate_compute_node(node)
    assert client.workflow_status(wf.id).job_counts == {"ready": 5}
    assert len(claim(client, wf.id, register(client, wf.id), limit=10)) == 5
