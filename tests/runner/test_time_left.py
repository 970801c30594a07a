"""A runner claims only jobs whose declared runtime fits the time it has left."""

from __future__ import annotations

from torc_client import Client


def test_a_job_whose_runtime_does_not_fit_the_time_left_is_not_claimed(client: Client, server, make_workflow,
                                                                       start_runner) -> None:  # fmt: skip
    spec = {"name": "time-left", "resource_requirements": [
                {"name": "quick", "num_cpus": 1, "memory": "10m", "runtime": "PT2S"},
                {"name": "long", "num_cpus": 1, "memory": "10m", "runtime": "PT25S"}],
            "jobs": [{"name": "quick", "command": "true", "resource_requirements": "quick"},
                     {"name": "long", "command": "true", "resource_requirements": "long"}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    runner = start_runner(server.url, wf.id, "--time-limit", "PT10S")
    assert runner.wait() == 2, runner.output()  # work remains that this runner cannot take
    assert {j.name: j.status for j in client.list_jobs(wf.id)} == {"quick": "completed", "long": "ready"}
    assert "needs a run time of 25 s" in runner.output()
