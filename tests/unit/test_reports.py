"""Report records without a server: what a summary counts and lists, and the attempts with their log paths."""

from __future__ import annotations

import msgspec

from torc_client import contract as c
from torc_client.analysis import reports

WORKFLOW = c.Workflow(id=4, name="wf", user="me", run_id=2)
RR = c.ResourceRequirements(id=9, workflow_id=4, name="small", memory="1g", runtime="PT10M")


def make_job(id: int, status: str) -> c.Job:
    return c.Job(id=id, workflow_id=4, name=f"j{id}", command="", status=status, resource_requirements_id=9)


def make_result(id: int, job_id: int, *, minutes: float, end: str, status: str = "completed", code: int = 0,
                run_id: int = 2, attempt_id: int = 1) -> c.Result:  # fmt: skip
    return c.Result(id=id, workflow_id=4, job_id=job_id, run_id=run_id, attempt_id=attempt_id, compute_node_id=1,
                    return_code=code, status=status, exec_time_minutes=minutes, completion_time=end)  # fmt: skip


def test_summary_counts_every_status_times_the_run_and_lists_the_failed_jobs_logs() -> None:
    jobs = [make_job(1, "completed"), make_job(2, "failed"), make_job(3, "ready")]
    results = [make_result(1, 1, minutes=2.0, end="2025-01-01T00:05:00.000Z"),
               make_result(2, 2, minutes=0.5, end="2025-01-01T00:10:00.000Z", status="failed", code=137)]  # fmt: skip
    summary = reports.summary(WORKFLOW, jobs, results, {9: RR}, "out")
    assert {s: n for s, n in summary.jobs_by_status.items() if n} == {"completed": 1, "failed": 1, "ready": 1}
    assert len(summary.jobs_by_status) == 11 and not summary.all_completed
    assert (summary.total_exec_seconds, summary.walltime_seconds) == (150.0, 420.0)  # 00:03:00 to 00:10:00
    assert [a.job_name for a in summary.slowest_jobs] == ["j1", "j2"]
    (failed,) = summary.failed_jobs
    assert (failed.failure, failed.stderr) == ("oom", "out/job_stdio/job_wf4_j2_r2_a1.e")
    record = summary.to_dict()
    assert (record["total_exec_time_formatted"], record["walltime_formatted"]) == ("2m 30s", "7m 0s")


def test_summary_of_a_workflow_without_results_has_no_walltime() -> None:
    summary = reports.summary(WORKFLOW, [make_job(1, "ready")], [], {}, "output")
    assert (summary.walltime_seconds, summary.slowest_jobs, summary.failed_jobs) == (None, [], [])


def test_summary_says_all_completed_only_when_every_job_did() -> None:
    done = reports.summary(WORKFLOW, [make_job(1, "completed")], [], {}, "output")
    assert done.all_completed
    assert not reports.summary(WORKFLOW, [], [], {}, "output").all_completed


def test_attempts_list_every_result_by_job_run_and_attempt() -> None:
    results = [make_result(3, 2, minutes=1, end="", run_id=2), make_result(2, 2, minutes=1, end="", run_id=1),
               make_result(1, 1, minutes=1, end="", status="failed", code=1)]  # fmt: skip
    found = reports.attempts([make_job(1, "failed"), make_job(2, "completed")], results, {9: RR}, "output")
    assert [(a.job_name, a.run_id, a.failure) for a in found] == [("j1", 2, "other"), ("j2", 1, None), ("j2", 2, None)]
    assert found[1].stdout == "output/job_stdio/job_wf4_j2_r1_a1.o"


def test_utilization_lists_only_jobs_over_their_request_unless_asked_for_all() -> None:
    jobs = [make_job(1, "completed"), make_job(2, "completed"), make_job(3, "failed")]
    over = make_result(1, 1, minutes=11.0, end="")
    results = [over, make_result(2, 2, minutes=1.0, end=""),
               make_result(3, 3, minutes=1.0, end="", status="failed", code=152)]  # fmt: skip
    report = reports.utilization(4, jobs, results, {9: RR})
    assert [u.job_id for u in report.jobs] == [1] and report.failed is None
    assert report.to_dict()["jobs"][0]["violations"] == ["runtime"]
    full = reports.utilization(4, jobs, results, {9: RR}, show_all=True, include_failed=True)
    assert [u.job_id for u in full.jobs] == [1, 2]
    assert [(u.job_id, u.failure) for u in full.failed] == [(3, "timeout")]
    assert [(g.requirements_name, g.jobs) for g in full.groups] == [("small", 3)]


def test_log_paths_follow_the_directory_each_runner_recorded_else_the_default() -> None:
    recorded = make_result(1, 10, minutes=1, end="2026-12-01T00:01:00+00:00")  # its runner is compute node 1
    older = c.Result(**{**msgspec.structs.asdict(recorded), "id": 2, "compute_node_id": 7})
    dirs = reports.LogDirs("output", {1: "/scratch/run1"})
    assert reports.attempt_of(recorded, "a", None, dirs).stderr == "/scratch/run1/job_stdio/job_wf4_j10_r2_a1.e"
    assert reports.attempt_of(older, "a", None, dirs).stderr == "output/job_stdio/job_wf4_j10_r2_a1.e"
    assert (dirs.known(recorded), dirs.known(older)) == (True, False)
