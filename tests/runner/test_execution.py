"""Real runner processes against a real server: dependencies, failures, limits, cancellation, crashes."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from pathlib import Path

import psutil

from tests.conftest import start_server, stop_server
from tests.runner.conftest import wait_until
from torc_client import Client

EXAMPLES = Path(__file__).parents[2] / "examples"


def statuses(client: Client, wid: int) -> dict[str, str]:
    return {j.name: j.status for j in client.list_jobs(wid)}


#: A job command that records each execution: its job id and the compute node that ran it, one line per run.
RECORD_RUN = 'echo "$TORC_JOB_ID $TORC_COMPUTE_NODE_ID" >> runs.txt'


def executions(directory: Path) -> list[int]:
    """The job id of every execution recorded by `RECORD_RUN` in `directory`, once per execution."""
    return [int(line.split()[0]) for line in (directory / "runs.txt").read_text().splitlines()]


def executions_by_node(directory: Path) -> dict[int, list[int]]:
    runs: dict[int, list[int]] = {}
    for line in (directory / "runs.txt").read_text().splitlines():
        job, node = line.split()
        runs.setdefault(int(node), []).append(int(job))
    return runs


def test_diamond_runs_in_dependency_order_with_logs(client, server, make_workflow, start_runner, tmp_path) -> None:
    (tmp_path / "inputs.json").write_text(json.dumps({"a": [1, 2], "b": [3, 4]}))
    wf = client.create_workflow_from_file(EXAMPLES / "diamond_workflow.yaml", working_dir=str(tmp_path))
    runner = start_runner(server.url, wf.id)
    assert runner.wait() == 0, runner.output()
    assert set(statuses(client, wf.id).values()) == {"completed"}
    assert json.loads((tmp_path / "work" / "result.json").read_text()) == {"total": 10}
    results = client.list_results(wf.id)
    assert [r.return_code for r in results] == [0, 0, 0, 0]
    post = client.list_jobs(wf.id, name="postprocess")[0]
    log = tmp_path / "output" / "job_stdio" / f"job_wf{wf.id}_j{post.id}_r1_a1.o"
    assert log.read_text().strip() == "total 10"
    times = {f.name: f.st_mtime for f in client.list_files(wf.id)}
    assert times["result"] is not None and times["inputs"] is not None


def test_job_sees_its_torc_environment(client, server, make_workflow, start_runner, tmp_path) -> None:
    names = ["TORC_API_URL", "TORC_WORKFLOW_ID", "TORC_JOB_ID", "TORC_JOB_NAME", "TORC_RUN_ID", "TORC_ATTEMPT_ID",
             "TORC_OUTPUT_DIR"]  # fmt: skip
    wf = make_workflow({"name": "env", "jobs": [{"name": "show", "command": "env | grep ^TORC_ | sort > env.txt"}]},
                       initialize=True)  # fmt: skip
    assert start_runner(server.url, wf.id).wait() == 0
    env = dict(line.split("=", 1) for line in (tmp_path / "env.txt").read_text().splitlines())
    job = client.list_jobs(wf.id)[0]
    assert set(names) <= set(env)
    assert (env["TORC_JOB_ID"], env["TORC_JOB_NAME"], env["TORC_ATTEMPT_ID"]) == (str(job.id), "show", "1")
    assert env["TORC_API_URL"] == server.url


def test_missing_output_file_fails_the_job(client, server, make_workflow, start_runner) -> None:
    wf = make_workflow({"name": "liar", "jobs": [{"name": "liar", "command": "echo 'I promise' # ${files.output.f}"}],
                        "files": [{"name": "f", "path": "never_written.txt"}]}, initialize=True)  # fmt: skip
    runner = start_runner(server.url, wf.id)
    assert runner.wait() == 1
    (result,) = client.list_results(wf.id)
    assert (result.status, result.return_code) == ("failed", 1)
    assert "never_written.txt" in runner.output()


def test_failure_cancels_dependents_unless_they_opt_out(client, server, start_runner, tmp_path) -> None:
    wf = client.create_workflow_from_file(EXAMPLES / "failure_propagation.yaml", working_dir=str(tmp_path))
    runner = start_runner(server.url, wf.id)
    assert runner.wait() == 1
    assert statuses(client, wf.id) == {"flaky_step": "failed", "needs_flaky": "canceled", "after_that": "canceled",
                                       "cleanup": "completed"}  # fmt: skip
    assert client.workflow_status(wf.id).is_complete


def test_job_past_its_runtime_is_terminated(client, server, make_workflow, start_runner) -> None:
    spec = {"name": "slow", "jobs": [{"name": "sleeper", "command": "sleep 60", "resource_requirements": "short"}],
            "resource_requirements": [{"name": "short", "num_cpus": 1, "memory": "10m", "runtime": "PT1S"}]}
    wf = make_workflow(spec, initialize=True)
    runner = start_runner(server.url, wf.id, "--kill-grace", "1")
    assert runner.wait(60) == 1
    (result,) = client.list_results(wf.id)
    assert result.status == "terminated" and result.return_code < 0
    assert "exceeded its run time" in runner.output()


def test_cancel_terminates_running_jobs_and_stops_the_runner(client, server, make_workflow, start_runner) -> None:
    spec = {"name": "cancel_me", "jobs": [{"name": "long_{i}", "command": "sleep 60", "parameters": {"i": "1:4"}}]}
    wf = make_workflow(spec, initialize=True)
    runner = start_runner(server.url, wf.id, "--num-cpus", "2", "--kill-grace", "1")
    wait_until(lambda: client.workflow_status(wf.id).job_counts.get("running") == 2)
    client.cancel_workflow(wf.id)
    assert runner.wait(60) == 1
    counts = client.workflow_status(wf.id).job_counts
    assert counts == {"terminated": 2, "canceled": 2}


def test_sigterm_terminates_jobs_and_reports_them(client, server, make_workflow, start_runner) -> None:
    wf = make_workflow({"name": "stop", "jobs": [{"name": "long", "command": "sleep 60"}]}, initialize=True)
    runner = start_runner(server.url, wf.id, "--kill-grace", "1")
    wait_until(lambda: client.workflow_status(wf.id).job_counts.get("running") == 1)
    runner.signal(signal.SIGTERM)
    assert runner.wait(60) != 0
    (result,) = client.list_results(wf.id)
    assert result.status == "terminated"
    assert not client.list_compute_nodes(wf.id, is_active=True)


def test_a_second_ctrl_c_kills_the_jobs_without_their_grace_period(client, server, make_workflow,
                                                                  start_runner) -> None:  # fmt: skip
    spec = {"name": "stubborn", "jobs": [{"name": "ignores_term", "command": "trap '' TERM; sleep 120"}]}
    wf = make_workflow(spec, initialize=True)
    runner = start_runner(server.url, wf.id, "--kill-grace", "300")
    wait_until(lambda: client.workflow_status(wf.id).job_counts.get("running") == 1)
    runner.signal(signal.SIGINT)
    wait_until(lambda: "terminating 1 running job:" in runner.output(), what="the runner to start stopping its job")
    assert runner.popen.poll() is None  # the job ignores SIGTERM: the runner waits out the grace period
    runner.signal(signal.SIGINT)
    assert runner.wait(30) == 130
    output = runner.output()
    assert "interrupted again: killing 1 running job now" in output
    assert "0 failed, 1 terminated, 0 canceled" in output and "(interrupted)" in output
    (result,) = client.list_results(wf.id)
    assert result.status == "terminated"


def test_a_runner_says_jobs_can_never_run_here_only_when_true(client, server, make_workflow, start_runner) -> None:
    spec = {"name": "gpu", "resource_requirements": [{"name": "gpu", "num_gpus": 1}],
            "jobs": [{"name": "on_gpu", "command": "true", "resource_requirements": "gpu"},
                     {"name": "on_cpu", "command": "sleep 2"}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    small = start_runner(server.url, wf.id, "--num-gpus", "0")
    wait_until(lambda: "1 job can never run on this runner (on_gpu)" in small.output(), what="the unfit notice")
    big = start_runner(server.url, wf.id, "--num-gpus", "1")
    assert (small.wait(120), big.wait(120)) == (0, 0)
    assert small.output().count("can never run") == 1  # said once, at the start, while true
    assert "could not run on this runner" not in small.output()  # the other runner ran it: no advice at the end

    ignored = make_workflow({**spec, "name": "gpu_parallel"}, initialize=True)
    parallel = start_runner(server.url, ignored.id, "--num-gpus", "0", "--max-parallel-jobs", "2")
    assert parallel.wait(120) == 0  # requirements are ignored: every job runs here
    assert "can never run" not in parallel.output()


def test_four_runners_share_a_workflow_and_run_each_job_once(client, server, make_workflow, start_runner,
                                                              tmp_path) -> None:
    spec = {"name": "shared", "jobs": [{"name": "j{i}", "command": RECORD_RUN, "parameters": {"i": "1:2000"}}]}
    wf = make_workflow(spec, initialize=True)
    runners = [start_runner(server.url, wf.id, "--max-parallel-jobs", "8") for _ in range(4)]
    assert [r.wait(600) for r in runners] == [0, 0, 0, 0]
    # Executions, not results (a result is stored once per job and attempt, whatever ran).
    runs = executions(tmp_path)
    assert sorted(runs) == sorted(j.id for j in client.list_jobs(wf.id)) and len(set(runs)) == len(runs) == 2000
    results = client.list_results(wf.id, all_runs=True)
    assert len(results) == 2000
    assert len({r.compute_node_id for r in results}) == 4


def test_killed_runner_job_reruns_once_elsewhere(short_lease_server, start_runner, tmp_path) -> None:
    with Client(short_lease_server.url) as client:
        spec = {"name": "crash", "jobs": [{"name": "victim",
                                           "command": "echo $$ >> pids.txt; sleep 3; echo done >> runs.txt"}]}
        wf = client.create_workflow_from_spec(spec, working_dir=str(tmp_path))
        client.initialize_workflow(wf.id)
        doomed = start_runner(short_lease_server.url, wf.id)
        wait_until(lambda: (tmp_path / "pids.txt").exists())
        doomed.kill()
        first = int((tmp_path / "pids.txt").read_text().split()[0])
        wait_until(lambda: not alive(first), timeout=10)
        rescuer = start_runner(short_lease_server.url, wf.id)
        assert rescuer.wait(120) == 0, rescuer.output()
        results = client.list_results(wf.id, all_runs=True)
        assert [(r.status, r.attempt_id) for r in results] == [("completed", 1)]
        assert results[0].compute_node_id != doomed_node(client, wf.id)
        assert any("stopped renewing its lease" in e.message for e in client.list_events(wf.id).items)
    # Executions, not results: the killed runner's copy died with it and never finished.
    assert (tmp_path / "runs.txt").read_text() == "done\n"
    assert len((tmp_path / "pids.txt").read_text().split()) == 2


def test_jobs_and_their_children_die_with_a_killed_runner(client, server, make_workflow, start_runner, tmp_path):
    command = "sleep 300 & echo $! > child.pid; echo $$ > job.pid; wait"
    wf = make_workflow({"name": "orphans", "jobs": [{"name": "parent", "command": command}]}, initialize=True)
    runner = start_runner(server.url, wf.id)
    wait_until(lambda: (tmp_path / "job.pid").exists() and (tmp_path / "child.pid").exists())
    pids = [int((tmp_path / name).read_text()) for name in ("job.pid", "child.pid")]
    assert all(alive(pid) for pid in pids)
    runner.kill()
    wait_until(lambda: not any(alive(pid) for pid in pids), timeout=10)


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie waiting for its reaper does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def doomed_node(client: Client, wid: int) -> int:
    return min(n.id for n in client.list_compute_nodes(wid))


def test_runners_on_two_api_processes_share_one_database(client, server, make_workflow, start_runner, tmp_path):
    second = start_server(server.mongo_uri, server.database, tmp_path)
    try:
        spec = {"name": "two_apis", "jobs": [
            {"name": "first_{i}", "command": "true", "parameters": {"i": "1:300"}},
            {"name": "last", "command": "true", "depends_on_regexes": ["^first_"]}]}  # fmt: skip
        wf = make_workflow(spec, initialize=True)
        runners = [start_runner(url, wf.id, "--max-parallel-jobs", "4") for url in (server.url, second.url)] * 1
        runners += [start_runner(second.url, wf.id, "--max-parallel-jobs", "4")]
        assert [r.wait(600) for r in runners] == [0, 0, 0]
    finally:
        stop_server(second)
    results = client.list_results(wf.id, all_runs=True)
    assert len(results) == 301 and len({r.job_id for r in results}) == 301
    assert statuses(client, wf.id)["last"] == "completed"


def test_resource_use_is_measured(client, server, make_workflow, start_runner) -> None:
    spec = {"name": "measure", "resource_monitor": {"sample_interval_seconds": 0.2}, "jobs": [
        {"name": "hog", "command": "python3 -c \"import time; x = bytearray(80 * 2**20); time.sleep(1.5)\""}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    assert start_runner(server.url, wf.id).wait() == 0
    (result,) = client.list_results(wf.id)
    assert result.peak_memory_bytes > 80 * 2**20
    assert result.avg_memory_bytes is not None and result.peak_cpu_percent is not None


def test_runner_names_jobs_it_can_never_fit(client, server, make_workflow, start_runner) -> None:
    spec = {"name": "too_big", "jobs": [{"name": "gpu_job", "command": "true", "resource_requirements": "gpu"},
                                        {"name": "cpu_job", "command": "true"}],
            "resource_requirements": [{"name": "gpu", "num_cpus": 1, "num_gpus": 2, "memory": "1g"}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    runner = start_runner(server.url, wf.id, "--num-gpus", "0")
    assert runner.wait() != 0
    assert "gpu_job" in runner.output() and "--num-gpus 2" in runner.output()
    assert statuses(client, wf.id) == {"gpu_job": "ready", "cpu_job": "completed"}


def test_runner_given_more_than_the_machine_has_says_so_at_start(server, make_workflow, start_runner) -> None:
    wf = make_workflow({"name": "big", "jobs": [{"name": "j", "command": "true"}]}, initialize=True)
    cpus, memory = os.cpu_count() * 32, psutil.virtual_memory().total / 2**30 * 4
    runner = start_runner(server.url, wf.id, "--num-cpus", str(cpus), "--memory-gb", str(round(memory)))
    assert runner.wait() == 0
    said = runner.output()
    assert f"warning: {cpus} CPUs were given but this machine offers" in said
    assert "GiB of memory was given but this machine has" in said


SHORT_JOBS = {"name": "short", "jobs": [{"name": "j{i}", "command": "sleep 0.02", "parameters": {"i": "1:600"}}]}


def test_sigterm_gives_the_unstarted_backlog_back(client, server, make_workflow, start_runner) -> None:
    wf = make_workflow(SHORT_JOBS, initialize=True)
    runner = start_runner(server.url, wf.id, "--max-parallel-jobs", "2")
    wait_until(lambda: client.workflow_status(wf.id).job_counts.get("completed", 0) >= 60)
    runner.signal(signal.SIGTERM)
    assert runner.wait(60) != 0
    counts = client.workflow_status(wf.id).job_counts
    assert "pending" not in counts and "running" not in counts, counts
    assert "returned" in runner.output() and counts.get("ready", 0) > 0
    # What it gave back, another runner finishes; it exits 1 if the jobs the first one stopped remain terminated.
    rescued = start_runner(server.url, wf.id).wait(120)
    status = client.workflow_status(wf.id)
    assert status.is_complete and rescued == (1 if status.job_counts.get("terminated") else 0), status


def test_killed_runner_backlog_runs_exactly_once_elsewhere(short_lease_server, start_runner, tmp_path) -> None:
    spec = {"name": "short", "jobs": [{"name": "j{i}", "command": f"sleep 0.02; {RECORD_RUN}", "parameters": {"i": "1:600"}}]}
    with Client(short_lease_server.url) as client:
        wf = client.create_workflow_from_spec(spec, working_dir=str(tmp_path))
        client.initialize_workflow(wf.id)
        doomed = start_runner(short_lease_server.url, wf.id, "--max-parallel-jobs", "2")
        wait_until(lambda: client.workflow_status(wf.id).job_counts.get("pending", 0) >= 10)
        doomed.kill()
        rescuer = start_runner(short_lease_server.url, wf.id, "--max-parallel-jobs", "2")
        assert rescuer.wait(180) == 0, rescuer.output()
        results = {r.job_id: r.compute_node_id for r in client.list_results(wf.id, all_runs=True)
                   if r.status == "completed"}  # fmt: skip
        job_ids = sorted(j.id for j in client.list_jobs(wf.id))
    # Executions, not results. Each runner ran a job at most once; the rescuer ran exactly the jobs whose results it
    # reported, and the only jobs that ran twice are those the killed runner finished without its report arriving.
    runs = executions_by_node(tmp_path)
    assert sorted(results) == job_ids and set(runs) <= set(results.values())
    for node, jobs in runs.items():
        assert len(jobs) == len(set(jobs)), f"compute node {node} ran a job twice"
    rescued = runs.get(max(runs), [])
    assert sorted(rescued) == sorted(jid for jid, node in results.items() if node == max(runs))
    assert sorted(set(executions(tmp_path))) == job_ids
    twice = [jid for jid, n in Counter(executions(tmp_path)).items() if n > 1]
    assert all(results[jid] == max(runs) for jid in twice)


def test_runner_rides_out_an_api_server_restart(server, start_runner, tmp_path) -> None:
    # The runner keeps running its backlog while the server is away, retries the request it had in flight
    # (the same claim, answered with the same jobs), and reports everything once the server is back.
    own = start_server(server.mongo_uri, server.database, tmp_path)
    port = int(own.url.split(":")[2].split("/")[0])
    try:
        with Client(own.url) as client:
            spec = {"name": "restart", "jobs": [{"name": "j{i}", "command": f"sleep 0.1; {RECORD_RUN}",
                                                 "parameters": {"i": "1:120"}}]}  # fmt: skip
            wf = client.create_workflow_from_spec(spec, working_dir=str(tmp_path))
            client.initialize_workflow(wf.id)
            runner = start_runner(own.url, wf.id, "--max-parallel-jobs", "2")
            wait_until(lambda: client.workflow_status(wf.id).job_counts.get("completed", 0) >= 10)
        stop_server(own)
        own = start_server(server.mongo_uri, server.database, tmp_path, port=port)
        assert runner.wait(180) == 0, runner.output()
        assert "retrying" in runner.output()
        with Client(own.url) as client:
            completed = [r.job_id for r in client.list_results(wf.id, all_runs=True) if r.status == "completed"]
            assert len(completed) == len(set(completed)) == 120
            assert client.workflow_status(wf.id).is_complete
            # Executions, not results: the retried claim handed out no job a second time.
            assert sorted(executions(tmp_path)) == sorted(completed)
    finally:
        stop_server(own)
