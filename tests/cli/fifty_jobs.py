"""A workflow of 50 jobs in which 10 fail with two different causes, run to its end by a real runner.

- `bad_input_0` .. `bad_input_4` read an input that is not there yet: they print a
  `ValueError` and exit 2 (until the file `fixed` exists in the working directory);
- `gpu_0` .. `gpu_4` need a GPU (runners must be given `--num-gpus`), hit a CUDA error and exit 1;
- `report_0` depends on `bad_input_0` (so it is canceled) and 39 `ok_*` jobs complete.
"""

from __future__ import annotations

import uuid

from torc_client import Client

BAD_INPUT = ("test -f fixed || {{ echo 'ValueError: bad input: column \"load\" missing in inputs/{i}.csv' >&2; "
             "exit 2; }}; echo read {i}")  # fmt: skip
GPU = "echo 'RuntimeError: CUDA error: an illegal memory access was encountered' >&2; exit 1"
BAD = [f"bad_input_{i}" for i in range(5)]
GPU_JOBS = [f"gpu_{i}" for i in range(5)]
OK = [f"ok_{i}" for i in range(39)]


def spec() -> dict:
    jobs = [{"name": name, "command": BAD_INPUT.format(i=i)} for i, name in enumerate(BAD)]
    jobs += [{"name": name, "command": GPU, "resource_requirements": "gpu"} for name in GPU_JOBS]
    jobs += [{"name": name, "command": f"echo done {name}"} for name in OK]
    jobs += [{"name": "report_0", "command": "echo report", "depends_on": ["bad_input_0"]}]
    # Its runs stand for two Slurm allocations (a recorded SLURM_JOB_ID, no real one): jobs run as the runner's children,
    # not as job steps of an allocation that does not exist.
    return {"name": f"fifty_{uuid.uuid4().hex[:6]}", "jobs": jobs, "execution_config": {"mode": "direct"},
            "resource_requirements": [{"name": "gpu", "num_gpus": 1, "memory": "10m", "runtime": "PT1M"}]}


def statuses(client: Client, workflow_id: int) -> dict[str, str]:
    return {job.name: job.status for job in client.list_jobs(workflow_id)}


def ids(client: Client, workflow_id: int) -> dict[str, int]:
    return {job.name: job.id for job in client.list_jobs(workflow_id)}


def expected_after_first_run() -> dict[str, str]:
    return {**{n: "failed" for n in BAD + GPU_JOBS}, **{n: "completed" for n in OK}, "report_0": "canceled"}
