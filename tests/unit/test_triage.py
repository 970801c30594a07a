"""Classifying log lines, grouping jobs into failure families and reading Slurm's logs: pure, no server."""

from __future__ import annotations

import pytest

from torc_client.triage import families, patterns, slurm_logs
from torc_client.triage.families import JobLogs
from torc_client.triage.slurm_logs import AffectedJob


@pytest.mark.parametrize(("line", "cause"), [
    ("RuntimeError: CUDA error: an illegal memory access was encountered", "CUDA error"),
    ("torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", "CUDA error"),
    ("MemoryError", "out of memory"),
    ("terminate called after throwing an instance of 'std::bad_alloc'", "out of memory"),
    ("Segmentation fault (core dumped)", "segmentation fault"),
    ("OSError: [Errno 28] No space left on device", "disk full"),
    ("bash: ./run.sh: Permission denied", "permission denied"),
    ("FileNotFoundError: [Errno 2] No such file or directory: 'in.csv'", "file not found"),
    ("ValueError: bad input: column 'load' missing", "python exception"),
    ("mypkg.errors.ConfigError: no solver", "python exception"),
    ("ERROR: solver diverged", "error"),
])  # fmt: skip
def test_cause_of_a_job_line_is_the_most_specific_cause(line: str, cause: str) -> None:
    found = patterns.cause_of(line, patterns.JOB_CAUSES)
    assert found is not None and found[1].name == cause


def test_cause_of_a_plain_line_is_none() -> None:
    assert patterns.cause_of("step 3 of 10 done in 1.2 s", patterns.JOB_CAUSES) is None


@pytest.mark.parametrize(("line", "cause"), [
    ("slurmstepd: error: Detected 1 oom-kill event(s) in StepId=4242.0. Some of your processes may have been killed "
     "by the cgroup out-of-memory handler.", "out of memory"),
    ("slurmstepd: error: *** JOB 4242 ON node3 CANCELLED AT 2026-12-05T10:00:00 DUE TO TIME LIMIT ***", "time limit"),
    ("slurmstepd: error: *** JOB 4242 ON node3 CANCELLED AT 2026-12-05T10:00:00 DUE TO NODE FAILURE ***",
     "node failure"),
    ("srun: error: node7: task 0: Exited with exit code 1", "srun error"),
    ("RuntimeError: CUDA error: device-side assert triggered", "CUDA error"),
    ("slurmstepd: error: execve(): python: No such file", "slurmstepd error"),
    ("slurmstepd: error: *** JOB 4242 ON node3 CANCELLED AT 2026-12-05T10:00:00 ***", "slurmstepd error"),
    ("*** JOB 4242 CANCELLED AT 2026-12-05T10:00:00 ***", "cancelled"),
])  # fmt: skip
def test_cause_of_a_slurm_line(line: str, cause: str) -> None:
    found = patterns.cause_of(line, patterns.SLURM_CAUSES)
    assert found is not None and found[1].name == cause


def test_signature_blanks_what_differs_between_jobs_of_one_family() -> None:
    a = patterns.signature("ValueError: bad value '17' in inputs/17.csv at 0x7f3a")
    b = patterns.signature("ValueError:  bad value '40' in inputs/40.csv at 0x11ee")
    assert a == b == "ValueError: bad value '…' in inputs/N.csv at ADDR"
    assert patterns.signature("x" * 500, limit=10) == "x" * 9 + "…"


def _job(jid: int, stderr: str = "", stdout: str = "", rc: int | None = 1) -> JobLogs:
    return JobLogs(jid, f"job{jid}", "failed", rc, stdout=stdout, stderr=stderr, stderr_path=f"e{jid}",
                   stdout_path=f"o{jid}")  # fmt: skip


def test_finding_prefers_the_most_specific_cause_in_stderr_over_earlier_generic_lines() -> None:
    job = _job(1, stderr="error: retrying\nTraceback (most recent call last):\nRuntimeError: CUDA error: boom\n",
               stdout="CUDA error in stdout is not looked at when stderr explains")  # fmt: skip
    found = families.finding(job)
    assert (found.cause, found.line, found.file, found.line_number) == (
        "CUDA error", "RuntimeError: CUDA error: boom", "e1", 3)


def test_finding_reads_stdout_when_stderr_shows_nothing() -> None:
    found = families.finding(_job(2, stderr="", stdout="ok\nMemoryError\n"))
    assert (found.cause, found.file, found.line_number) == ("out of memory", "o2", 2)


def test_families_group_jobs_by_cause_and_signature_largest_first() -> None:
    jobs = [_job(j, stderr=f"ValueError: bad input in inputs/{j}.csv", rc=2) for j in (5, 9, 3)]
    jobs += [_job(j, stderr="RuntimeError: CUDA error: illegal memory access") for j in (4, 8)]
    jobs += [_job(7, stderr="", rc=3), _job(6, stderr="nothing to see", rc=3)]
    analysis = families.families(jobs, workflow_id=11, files_scanned=14)
    assert [(f.cause, f.job_ids, sorted(set(f.return_codes))) for f in analysis.families] == [
        ("python exception", [3, 5, 9], [2]),
        ("CUDA error", [4, 8], [1]),
        (families.UNEXPLAINED, [6, 7], [3]),
    ]
    first = analysis.to_dict()["families"][0]
    assert (first["count"], first["signature"], first["example"]) == (
        3, "ValueError: bad input in inputs/N.csv", "ValueError: bad input in inputs/3.csv")
    assert first["files"] == ["e3:1", "e5:1", "e9:1"]
    assert (analysis.jobs_scanned, analysis.files_scanned, analysis.to_dict()["family_count"]) == (7, 14, 3)


def test_allocation_of_reads_slurm_log_names_of_one_workflow_only() -> None:
    assert slurm_logs.allocation_of("slurm_output_wf12_sl4242.e", 12) == "4242"
    assert slurm_logs.allocation_of("slurm_output_wf12_sl4242.o", 12) == "4242"
    assert slurm_logs.allocation_of("slurm_output_wf120_sl4242.e", 12) is None
    assert slurm_logs.allocation_of("job_wf12_j1_r1_a1.e", 12) is None


def test_node_of_names_the_node_a_slurm_message_names() -> None:
    assert slurm_logs.node_of("srun: error: x1000c0s1b0n0: task 3: Out Of Memory") == "x1000c0s1b0n0"
    assert slurm_logs.node_of("slurmstepd: error: *** JOB 77 ON node3 CANCELLED AT 2026 ***") == "node3"
    assert slurm_logs.node_of("slurmstepd: error: Detected 1 oom-kill event(s) in StepId=77.0") is None


def test_slurm_report_names_issues_per_allocation_and_causes_per_job() -> None:
    a, b = AffectedJob(1, "gpu_0", "failed"), AffectedJob(2, "prep", "completed")
    logs = [("d/slurm_output_wf5_sl71.e", "71", "srun: error: node2: task 0: Exited with exit code 1\n"
             "RuntimeError: CUDA error: an illegal memory access was encountered\n"),
            ("d/slurm_output_wf5_sl72.e", "72", "*** JOB 72 CANCELLED AT 2026 ***\nall good\n"),
            ("d/slurm_output_wf5_sl70.o", "70", "slurmstepd: error: *** JOB 70 ON node1 CANCELLED AT 2026 DUE TO "
             "TIME LIMIT ***\n")]  # fmt: skip
    report = slurm_logs.report(5, logs, {"71": [a], "70": [a, b]})
    assert [(i.slurm_job_id, i.line_number, i.cause, i.node) for i in report.issues] == [
        ("70", 1, "time limit", "node1"), ("71", 1, "srun error", "node2"), ("71", 2, "CUDA error", None),
        ("72", 1, "cancelled", None)]
    assert [(j.job_id, j.causes, j.slurm_job_ids) for j in report.jobs] == [
        (1, ["time limit", "srun error", "CUDA error"], ["70", "71"]), (2, ["time limit"], ["70"])]
    quiet = slurm_logs.report(5, logs, {}, errors_only=True)
    assert [i.cause for i in quiet.issues] == ["time limit", "srun error", "CUDA error"]
    assert quiet.to_dict()["errors"] == 3 and quiet.to_dict()["warnings"] == 0
