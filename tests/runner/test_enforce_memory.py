"""`torc run --enforce-memory`: real jobs over their memory request are killed as out of memory (137, failed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from torc_client import Client
from torc_client.operations.builder import run_workflow

REQUEST = 100 * 2**20
#: Builds ~300 MB, three times its 100m request, and holds it long enough to be sampled.
HUNGRY = "python3 -c \"import time; x = bytearray(300 * 2**20); time.sleep(2)\""
#: About 10 MB of Python, well within a 200m request, and far over the 1m Torc gives jobs that ask for none.
MODEST = "python3 -c \"import time; time.sleep(1)\""


def hungry_spec(name: str, monitor: dict | None = None, **extra_jobs: str) -> dict:
    """A workflow whose job `hungry` asks for 100m; `extra_jobs` (name -> resource requirements) run `MODEST`."""
    jobs = [{"name": "hungry", "command": HUNGRY, "resource_requirements": "small"}]
    jobs += [{"name": job, "command": MODEST, **({"resource_requirements": rr} if rr else {})}
             for job, rr in extra_jobs.items()]  # fmt: skip
    return {"name": name, "resource_monitor": {"sample_interval_seconds": 0.2, **(monitor or {})}, "jobs": jobs,
            "resource_requirements": [{"name": "small", "memory": "100m"}, {"name": "enough", "memory": "200m"}]}


def results_by_name(client: Client, workflow_id: int) -> dict:
    names = {job.id: job.name for job in client.list_jobs(workflow_id)}
    return {names[r.job_id]: r for r in client.list_results(workflow_id)}


#: How each way of enforcing announces itself at the runner's start, and what it writes of the killed job.
METHODS = {
    "cgroup": ("each job runs in a cgroup of its own (cgroup v", "killed by the kernel"),
    "sampler": ("memory requests enforced by sampling each job every", "more than its 100 MiB request: killed"),
}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_enforce_memory_kills_a_job_over_its_request_as_out_of_memory(client, server, make_workflow, start_runner,
                                                                       method) -> None:  # fmt: skip
    """On this machine's memory cgroups (forced: the test fails where there are none) and with sampling forced."""
    announced, cause = METHODS[method]
    wf = make_workflow(hungry_spec(f"oom_{method}", within="enough", unstated=""), initialize=True)
    runner = start_runner(server.url, wf.id, "--enforce-memory", "--memory-limits", method)
    assert runner.wait(60) == 1, runner.output()
    assert announced in runner.output()
    results = results_by_name(client, wf.id)
    hungry = results["hungry"]
    assert (hungry.status, hungry.return_code) == ("failed", 137)
    assert hungry.peak_memory_bytes >= REQUEST
    assert {name: (r.status, r.return_code) for name, r in results.items() if name != "hungry"} == {
        "within": ("completed", 0), "unstated": ("completed", 0)}
    job_id = hungry.job_id
    said = [line for line in runner.output().splitlines() if f"job hungry ({job_id})" in line and cause in line]
    assert said and "(out of memory" in said[0], runner.output()
    stderr = Path(runner.log.parent, "output", "job_stdio", f"job_wf{wf.id}_j{job_id}_r1_a1.e").read_text()
    assert cause in stderr and "(out of memory" in stderr
    if method == "cgroup":  # the runner's cgroups went with it
        assert not list(own_memory_cgroup().glob(f"torc_runner_{runner.popen.pid}*"))


def own_memory_cgroup() -> Path:
    """This process's cgroup v1 memory directory (where a runner it starts makes its own)."""
    line = next(line for line in Path("/proc/self/cgroup").read_text().splitlines() if ":memory:" in line)
    return Path("/sys/fs/cgroup/memory", line.split(":", 2)[2].lstrip("/"))


def test_enforce_memory_announces_plain_children_without_it(client, server, make_workflow, start_runner) -> None:
    wf = make_workflow(hungry_spec("announce_plain", {"enabled": False}), initialize=True)
    runner = start_runner(server.url, wf.id)
    assert runner.wait(60) == 0, runner.output()
    assert "memory requests are not enforced" in runner.output()


def test_enforce_memory_samples_when_the_workflows_monitor_is_off(client, make_workflow, tmp_path) -> None:
    wf = make_workflow(hungry_spec("oom_unmonitored", {"enabled": False}), initialize=True)
    # Through the Python API: `run_workflow` passes its options on to `torc run`.
    status = run_workflow(client, wf.id, cwd=tmp_path, enforce_memory=True, memory_limits="sampler",
                          log=tmp_path / "runner.log")
    assert status.job_counts.get("failed") == 1, (tmp_path / "runner.log").read_text()
    (result,) = client.list_results(wf.id)
    assert result.return_code == 137 and result.peak_memory_bytes >= REQUEST
    assert "resource monitor is off" in (tmp_path / "runner.log").read_text()


def test_without_enforce_memory_a_job_over_its_request_completes(client, server, make_workflow, start_runner) -> None:
    wf = make_workflow(hungry_spec("no_oom"), initialize=True)
    runner = start_runner(server.url, wf.id)
    assert runner.wait(60) == 0, runner.output()
    (result,) = client.list_results(wf.id)
    assert (result.status, result.return_code) == ("completed", 0)
    assert result.peak_memory_bytes > REQUEST
