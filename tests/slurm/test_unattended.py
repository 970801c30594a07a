"""Submit and walk away, on a real Slurm: stranded work gets allocations, idle queued allocations are cancelled,
no job starts that cannot finish, and the end of an allocation honours `supports_termination`."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN
from tests.slurm.conftest import squeue, wait_for
from torc_client import Client
from torc_client.hpc import slurm

pytestmark = pytest.mark.usefixtures("slurm_cluster")

ONE_CPU = {"name": "one", "num_cpus": 1, "memory": "100m"}


def submit(cli, spec: dict, tmp_path: Path) -> tuple[int, list[str]]:
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    listed = json.loads(cli("-f", "json", "submit", "spec.yaml").stdout)
    return listed[0]["workflow_id"], [str(a["scheduler_id"]) for a in listed]


def start_action(scheduler: str, **keys) -> dict:
    return {"trigger_type": "on_workflow_start", "action_type": "schedule_nodes", "scheduler": scheduler,
            "scheduler_type": "slurm", **keys}


def allocations(client: Client, workflow_id: int) -> list[str]:
    return [a.slurm_job_id for a in client.list_scheduled_compute_nodes(workflow_id)]


def runs_per_job(client: Client, workflow_id: int) -> Counter:
    return Counter((r.job_id, r.status) for r in client.list_results(workflow_id, all_runs=True))


def test_stranded_work_completes_unattended_with_watch_auto_schedule(cli, server, tmp_path: Path) -> None:
    # A one-minute allocation keeping 30 s for its end has time for two of the four 8 s jobs (declared 12 s);
    # the other two are stranded when it ends, and `torc watch --auto-schedule` asks for an allocation for them.
    spec = {"name": "stranded", "compute_node_expiration_buffer_seconds": 30,
            "resource_requirements": [{**ONE_CPU, "runtime": "PT12S"}],
            "slurm_schedulers": [{"name": "minute", "account": "test", "walltime": "1"}],
            "actions": [start_action("minute")],
            "jobs": [{"name": "w{i}", "command": "sleep 8", "resource_requirements": "one",
                      "parameters": {"i": "1:4"}}]}  # fmt: skip
    workflow_id, [first] = submit(cli, spec, tmp_path)
    watch = subprocess.run([str(BIN / "torc"), "--url", server.url, "watch", str(workflow_id), "--poll-interval", "1",
                            "--auto-schedule", "--profile", "local"], cwd=tmp_path, capture_output=True, text=True,
                           timeout=240, env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})  # fmt: skip
    assert watch.returncode == 0, watch.stderr
    with Client(server.url) as client:
        assert client.workflow_status(workflow_id).job_counts == {"completed": 4}
        jobs = [j.id for j in client.list_jobs(workflow_id)]
        assert runs_per_job(client, workflow_id) == Counter({(job, "completed"): 1 for job in jobs})
        ids = allocations(client, workflow_id)
        assert ids[0] == first and len(ids) == 2
        events = [e.message for e in client.list_events(workflow_id).items]
        # Why: jobs no allocation can take (the first one still runs), or no allocation at all (it has ended).
        assert any(m.startswith(f"submitted Slurm allocation {ids[1]}: ") and " ready " in m for m in events), events
        # Before that, the watch decided to wait: the allocation it saw could take the ready jobs.
        kinds = [e.data["kind"] for e in client.list_events(workflow_id).items if e.category == "auto_schedule"]
        assert kinds[0] == "covered", kinds
        wait_for(lambda: not squeue(ids), 60, f"allocations {ids} to leave the queue")


def test_a_job_whose_runtime_does_not_fit_the_time_left_is_not_claimed_another_allocation_runs_it(
        cli, server, tmp_path: Path) -> None:  # fmt: skip
    # Both allocations start at once; the short one has about 28 s for jobs, too little for `long` (declared 40 s).
    spec = {"name": "time-left", "compute_node_expiration_buffer_seconds": 30,
            "resource_requirements": [{**ONE_CPU, "runtime": "PT40S"}],
            "slurm_schedulers": [{"name": "short", "account": "test", "walltime": "1"},
                                 {"name": "longer", "account": "test", "walltime": "2"}],
            "actions": [start_action("short")],
            "jobs": [{"name": "long", "command": "sleep 1", "resource_requirements": "one"}]}  # fmt: skip
    workflow_id, [short] = submit(cli, spec, tmp_path)
    with Client(server.url) as client:
        wait_for(lambda: client.list_compute_nodes(workflow_id), 60, "the short allocation's runner")
        wait_for(lambda: not squeue([short]), 60, "the short allocation to give up")
        assert client.workflow_status(workflow_id).job_counts == {"ready": 1}
        longer = next(s.id for s in client.list_slurm_schedulers(workflow_id) if s.name == "longer")
        cli("slurm", "schedule-nodes", str(workflow_id), "--scheduler-id", str(longer))
        wait_for(lambda: client.workflow_status(workflow_id).is_complete, 90, "the workflow to complete")
        (result,) = client.list_results(workflow_id, all_runs=True)
        ran_in = {n.id: n.scheduler_id for n in client.list_compute_nodes(workflow_id)}[result.compute_node_id]
        assert result.status == "completed" and ran_in == allocations(client, workflow_id)[1]
        wait_for(lambda: not squeue(allocations(client, workflow_id)), 60, "the allocations to leave the queue")


def test_queued_allocations_are_cancelled_once_the_work_is_done_and_never_start(cli, server, tmp_path: Path) -> None:
    # Each allocation takes two whole nodes of three: the first runs, the other two wait in the queue.
    spec = {"name": "idle-queued", "resource_requirements": [{**ONE_CPU, "runtime": "PT10S"}],
            "slurm_schedulers": [{"name": "pair", "account": "test", "walltime": "2", "nodes": 2, "mem": "2000M"}],
            "actions": [start_action("pair", num_allocations=3)],
            "jobs": [{"name": "only", "command": "true", "resource_requirements": "one"}]}  # fmt: skip
    workflow_id, ids = submit(cli, spec, tmp_path)
    assert len(ids) == 3
    with Client(server.url) as client:
        wait_for(lambda: client.workflow_status(workflow_id).is_complete, 60, "the workflow to complete")
        wait_for(lambda: not squeue(ids), 60, "every allocation to leave the queue")
        assert {a.status for a in client.list_scheduled_compute_nodes(workflow_id)} == {"complete"}
        assert {n.scheduler_id for n in client.list_compute_nodes(workflow_id)} == {ids[0]}  # only one ever ran
        events = [e.message for e in client.list_events(workflow_id).items]
        cancelled = f"cancelled queued Slurm allocations {ids[1]}, {ids[2]}: the workflow is complete"
        assert cancelled in events, events
    rows = wait_for(lambda: len(found := json.loads(cli("-f", "json", "slurm", "sacct", str(workflow_id)).stdout))
                    == 3 and found, 30, "Slurm's accounting of the three allocations")  # fmt: skip
    assert [(row["JobID"], row["State"]) for row in rows] == [(ids[0], "COMPLETED"), (ids[1], "CANCELLED"),
                                                              (ids[2], "CANCELLED")]  # fmt: skip


def test_a_queued_allocation_no_remaining_job_fits_is_cancelled_by_the_runner_that_leaves(cli, server,
                                                                                           tmp_path: Path) -> None:
    # Both allocations keep 30 s of their minute for the end: `long` (declared 2 min) fits neither, so once the
    # running one has run `quick` and leaves, the queued one could only start, find nothing and exit.
    spec = {"name": "unfit-queued", "compute_node_expiration_buffer_seconds": 30,
            "compute_node_wait_for_new_jobs_seconds": 1,
            "resource_requirements": [{**ONE_CPU, "runtime": "PT5S"}, {**ONE_CPU, "name": "two", "runtime": "PT2M"}],
            "slurm_schedulers": [{"name": "pair", "account": "test", "walltime": "1", "nodes": 2, "mem": "2000M"}],
            "actions": [start_action("pair", num_allocations=2)],
            "jobs": [{"name": "quick", "command": "true", "resource_requirements": "one"},
                     {"name": "long", "command": "true", "resource_requirements": "two"}]}  # fmt: skip
    workflow_id, ids = submit(cli, spec, tmp_path)
    with Client(server.url) as client:
        wait_for(lambda: not squeue(ids), 60, "both allocations to leave the queue")
        assert {j.name: j.status for j in client.list_jobs(workflow_id)} == {"quick": "completed", "long": "ready"}
        assert {n.scheduler_id for n in client.list_compute_nodes(workflow_id)} == {ids[0]}
        events = [e.message for e in client.list_events(workflow_id).items]
        assert f"cancelled queued Slurm allocation {ids[1]}: no remaining job fits them" in events, events
        cli("cancel", str(workflow_id))


def test_supports_termination_job_gets_sigterm_and_checkpoints_the_other_is_killed_both_requeued_once(
        cli, server, tmp_path: Path) -> None:  # fmt: skip
    # Slurm's warning signal (`--signal=B:TERM@N` in a real run) is sent at once with `scancel --batch --signal`.
    checkpointing = ("if [ -f ckpt ]; then echo resumed > resumed; exit 0; fi; "
                     "trap 'echo saved > ckpt; exit 0' TERM; touch ckpt_started; sleep 300 & wait")  # fmt: skip
    plain = ("if [ -f plain_started ]; then exit 0; fi; "
             "trap 'echo got TERM > plain_term; exit 0' TERM; touch plain_started; sleep 300 & wait")  # fmt: skip
    spec = {"name": "graceful-end", "compute_node_expiration_buffer_seconds": 5,
            "resource_requirements": [{**ONE_CPU, "runtime": "PT1M"}],
            "slurm_schedulers": [{"name": "two", "account": "test", "walltime": "00:05:00",
                                  "extra": "--cpus-per-task=2"}],
            "actions": [start_action("two")],
            "jobs": [{"name": "checkpointing", "command": checkpointing, "resource_requirements": "one",
                      "supports_termination": True},
                     {"name": "plain", "command": plain, "resource_requirements": "one"}]}  # fmt: skip
    workflow_id, [first] = submit(cli, spec, tmp_path)
    with Client(server.url) as client:
        wait_for(lambda: (tmp_path / "ckpt_started").exists() and (tmp_path / "plain_started").exists(), 60,
                 "both jobs to run")  # fmt: skip
        subprocess.run(["scancel", "--batch", "--signal=TERM", first], check=True)
        wait_for(lambda: client.workflow_status(workflow_id).job_counts == {"ready": 2}, 30, "both jobs requeued")
        assert (tmp_path / "ckpt").read_text() == "saved\n"
        assert not (tmp_path / "plain_term").exists()  # SIGKILL: no chance to react
        assert sorted(r.status for r in client.list_results(workflow_id, all_runs=True)) == ["terminated"] * 2
        assert {j.attempt_id for j in client.list_jobs(workflow_id)} == {2}
        wait_for(lambda: not squeue([first]), 30, "the first allocation to end")
        # The runner ended gracefully (exit 0): Slurm records the allocation COMPLETED, not FAILED.
        assert slurm.states([first]).get(first) == "COMPLETED"
        planned = json.loads(cli("-f", "json", "slurm", "regenerate", str(workflow_id), "--submit", "--profile",
                                 "local").stdout)  # fmt: skip
        assert [(p["allocations"], p["jobs"]) for p in planned] == [(1, 2)]
        wait_for(lambda: client.workflow_status(workflow_id).is_complete, 90, "the rerun to complete")
        assert client.workflow_status(workflow_id).job_counts == {"completed": 2}
        jobs = [j.id for j in client.list_jobs(workflow_id)]
        assert runs_per_job(client, workflow_id) == Counter({(job, s): 1 for job in jobs
                                                            for s in ("terminated", "completed")})  # fmt: skip
        assert (tmp_path / "resumed").exists()
        wait_for(lambda: not squeue(allocations(client, workflow_id)), 60, "the allocations to leave the queue")
