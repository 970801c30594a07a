"""`torc logs analyze`, `torc slurm parse-logs` and `torc logs bundle` on a workflow of 50 jobs, 10 of which failed
with two different causes: each command sorts them into the two families."""

from __future__ import annotations

import json
import tarfile

import pytest

from tests.cli import fifty_jobs
from tests.cli.fifty_jobs import BAD, GPU_JOBS

#: What Slurm wrote to the error file of the allocation the GPU jobs ran in.
GPU_ALLOCATION_ERRORS = """\
srun: error: node2: task 0: Exited with exit code 1
RuntimeError: CUDA error: an illegal memory access was encountered
"""
CPU_ALLOCATION, GPU_ALLOCATION = "7001", "7002"


@pytest.fixture()
def triaged(client, make_workflow, cli, tmp_path):
    """The 50-job workflow run in two (recorded) Slurm allocations: the GPU jobs in the second, the rest in the first."""
    wf = make_workflow(fifty_jobs.spec(), initialize=True)
    wid = str(wf.id)
    for allocation, gpus in ((CPU_ALLOCATION, "0"), (GPU_ALLOCATION, "1")):
        cli("run", wid, "--poll-interval", "0.2", "--num-gpus", gpus, check=False, timeout=300,
            env={"SLURM_JOB_ID": allocation})  # fmt: skip
    assert fifty_jobs.statuses(client, wf.id) == fifty_jobs.expected_after_first_run()
    output = tmp_path / "output"
    (output / f"slurm_output_wf{wid}_sl{GPU_ALLOCATION}.e").write_text(GPU_ALLOCATION_ERRORS)
    (output / f"slurm_output_wf{wid}_sl{CPU_ALLOCATION}.e").write_text("")
    (output / f"slurm_output_wf{wid}_sl{CPU_ALLOCATION}.o").write_text("workflow complete\n")
    return wf


def _families(stdout: str, names: dict[int, str]) -> dict[str, tuple[list[str], list[int]]]:
    found = json.loads(stdout)["families"]
    return {f["cause"]: (sorted(names[j] for j in f["job_ids"]), sorted(set(f["return_codes"]))) for f in found}


def test_logs_analyze_sorts_the_failures_into_their_two_families(client, cli, triaged) -> None:
    names = {v: k for k, v in fifty_jobs.ids(client, triaged.id).items()}
    out = cli("-f", "json", "logs", "analyze", str(triaged.id))
    assert _families(out.stdout, names) == {"python exception": (BAD, [2]), "CUDA error": (GPU_JOBS, [1])}
    assert json.loads(out.stdout)["jobs_scanned"] == 10
    family = json.loads(out.stdout)["families"][0]
    assert family["signature"] == "ValueError: bad input: column \"…\" missing in inputs/N.csv"
    table = cli("logs", "analyze", str(triaged.id)).stdout
    assert "CUDA error" in table and "python exception" in table and "2 families" in table


def test_slurm_parse_logs_names_the_gpu_allocation_and_its_jobs(client, cli, triaged) -> None:
    out = json.loads(cli("-f", "json", "slurm", "parse-logs", str(triaged.id)).stdout)
    assert (out["files_scanned"], out["total_issues"]) == (3, 2)
    assert [(i["slurm_job_id"], i["cause"], i["node"]) for i in out["issues"]] == [
        (GPU_ALLOCATION, "srun error", "node2"), (GPU_ALLOCATION, "CUDA error", None)]
    assert sorted((j["job_name"], tuple(j["causes"]), tuple(j["slurm_job_ids"])) for j in out["jobs"]) == [
        (name, ("srun error", "CUDA error"), (GPU_ALLOCATION,)) for name in GPU_JOBS]


def test_logs_bundle_holds_the_logs_and_analyze_reads_it_back(client, cli, triaged, tmp_path) -> None:
    made = cli("logs", "bundle", str(triaged.id), "--bundle-dir", "bundles")
    archive = tmp_path / "bundles" / f"wf{triaged.id}.tar.gz"
    assert made.stdout.strip() == f"bundles/{archive.name}" and archive.is_file()
    with tarfile.open(archive) as tar:
        members = set(tar.getnames())
    assert {"workflow.json", "jobs.json", "results.json", "bundle_metadata.json"} <= members
    assert f"logs/output/slurm_output_wf{triaged.id}_sl{GPU_ALLOCATION}.e" in members
    assert sum(name.startswith("logs/job_stdio/") for name in members) == 2 * 49  # .o and .e of each job that ran
    names = {v: k for k, v in fifty_jobs.ids(client, triaged.id).items()}
    ids = {name: jid for jid, name in names.items()}
    back = json.loads(cli("-f", "json", "logs", "analyze", str(archive)).stdout)
    found = {f["cause"]: sorted(f["job_ids"]) for f in back["families"]}
    assert found["python exception"] == sorted(ids[n] for n in BAD)
    assert found["CUDA error"] == sorted(ids[n] for n in GPU_JOBS)
    assert back["workflow_id"] == triaged.id
