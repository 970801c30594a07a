"""GPUs of their own: a runner given GPUs hands each running job its own device ids, and shows it only those."""

from __future__ import annotations

from pathlib import Path

#: Writes the visibility variables to `<name>.gpus`, then waits (up to 60 s) until the other job has written its
#: own: both jobs are certainly running at the same time when they read their devices.
TOGETHER = ("echo \"$CUDA_VISIBLE_DEVICES $ROCR_VISIBLE_DEVICES $HIP_VISIBLE_DEVICES\" > {me}.gpus; "
            "for i in $(seq 600); do [ -e {other}.gpus ] && exit 0; sleep 0.1; done; exit 1")  # fmt: skip


def test_two_one_gpu_jobs_running_together_get_different_devices(client, server, make_workflow, start_runner,
                                                                  tmp_path: Path) -> None:  # fmt: skip
    spec = {"name": "gpus", "resource_requirements": [{"name": "one_gpu", "num_gpus": 1, "memory": "100m"}],
            "jobs": [{"name": "a", "command": TOGETHER.format(me="a", other="b"), "resource_requirements": "one_gpu"},
                     {"name": "b", "command": TOGETHER.format(me="b", other="a"), "resource_requirements": "one_gpu"},
                     {"name": "cpu_only", "command": "echo \"[$CUDA_VISIBLE_DEVICES]\" > cpu_only.gpus"}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    # This machine has no GPU: the runner is told it has two, and still numbers them.
    runner = start_runner(server.url, wf.id, "--num-gpus", "2", "--num-cpus", "2")
    assert runner.wait(120) == 0, runner.output()
    seen = {name: (tmp_path / f"{name}.gpus").read_text().split() for name in ("a", "b")}
    assert sorted(seen.values()) == [["0", "0", "0"], ["1", "1", "1"]]
    assert (tmp_path / "cpu_only.gpus").read_text().strip() == "[]"
    assert "GPUs 0-1: each job sees only its own" in runner.output()


def test_a_gpu_freed_by_a_finished_job_goes_to_the_next(client, server, make_workflow, start_runner,
                                                        tmp_path: Path) -> None:  # fmt: skip
    spec = {"name": "gpu_reuse", "resource_requirements": [{"name": "one_gpu", "num_gpus": 1}],
            "jobs": [{"name": f"j{i}", "command": f"echo $CUDA_VISIBLE_DEVICES > j{i}.gpus",
                      "resource_requirements": "one_gpu"} for i in range(3)]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    runner = start_runner(server.url, wf.id, "--num-gpus", "1")
    assert runner.wait(120) == 0, runner.output()
    assert [(tmp_path / f"j{i}.gpus").read_text().strip() for i in range(3)] == ["0", "0", "0"]
