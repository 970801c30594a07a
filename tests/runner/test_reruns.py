"""Reruns after a change or a failure: only what is invalid runs again, and the reasons are shown."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from torc_client import Client

DIAMOND = {
    "name": "diamond_files",
    "jobs": [
        {"name": "preprocess", "command": "cat ${files.input.raw} > ${files.output.left}; cat ${files.input.raw} > ${files.output.right}"},
        {"name": "left", "command": "tr a-z A-Z < ${files.input.left} > ${files.output.left_out}"},
        {"name": "right", "command": "cat ${files.input.right} ${files.input.extra} > ${files.output.right_out}"},
        {"name": "join", "command": "cat ${files.input.left_out} ${files.input.right_out} > ${files.output.joined}"},
    ],
    "files": [
        {"name": "raw", "path": "raw.txt"}, {"name": "extra", "path": "extra.txt"},
        {"name": "left", "path": "mid/left.txt"}, {"name": "right", "path": "mid/right.txt"},
        {"name": "left_out", "path": "mid/left_out.txt"}, {"name": "right_out", "path": "mid/right_out.txt"},
        {"name": "joined", "path": "joined.txt"},
    ],
}  # fmt: skip


def results_per_run(client: Client, wid: int) -> Counter:
    return Counter(r.run_id for r in client.list_results(wid, all_runs=True))


def touch_later(path: Path) -> None:
    later = path.stat().st_mtime + 5
    os.utime(path, (later, later))


def run_to_completion(start_runner, url: str, wid: int) -> None:
    runner = start_runner(url, wid)
    assert runner.wait(120) == 0, runner.output()


def test_touched_input_reruns_exactly_its_downstream(client, server, make_workflow, start_runner, tmp_path) -> None:
    (tmp_path / "raw.txt").write_text("abc\n")
    (tmp_path / "extra.txt").write_text("xyz\n")
    wf = make_workflow(DIAMOND, initialize=True)
    run_to_completion(start_runner, server.url, wf.id)
    touch_later(tmp_path / "extra.txt")
    plan = client.reinitialize_workflow(wf.id, dry_run=True)
    assert {j.job_name: j.reasons for j in plan.jobs} == {
        "right": ["input file extra (extra.txt) was modified"],
        "join": ["upstream job right reruns"],
    }
    assert client.workflow_status(wf.id).job_counts == {"completed": 4}
    client.reinitialize_workflow(wf.id)
    run_to_completion(start_runner, server.url, wf.id)
    assert results_per_run(client, wf.id) == {1: 4, 2: 2}
    assert (tmp_path / "joined.txt").read_text() == "ABC\nabc\nxyz\n"


def test_nothing_reruns_when_nothing_changed(client, server, make_workflow, start_runner, tmp_path) -> None:
    (tmp_path / "raw.txt").write_text("abc\n")
    (tmp_path / "extra.txt").write_text("xyz\n")
    wf = make_workflow(DIAMOND, initialize=True)
    run_to_completion(start_runner, server.url, wf.id)
    assert client.reinitialize_workflow(wf.id, dry_run=True).jobs == []


def test_missing_output_reruns_its_producer_and_downstream(client, server, make_workflow, start_runner, tmp_path):
    (tmp_path / "raw.txt").write_text("abc\n")
    (tmp_path / "extra.txt").write_text("xyz\n")
    wf = make_workflow(DIAMOND, initialize=True)
    run_to_completion(start_runner, server.url, wf.id)
    (tmp_path / "mid" / "left_out.txt").unlink()
    reasons = {j.job_name: j.reasons for j in client.reinitialize_workflow(wf.id, dry_run=True).jobs}
    assert reasons["left"] == ["its output file mid/left_out.txt is missing"]
    assert reasons["join"] == ["input file left_out (mid/left_out.txt) disappeared"]
    assert set(reasons) == {"left", "join"}


def test_changed_command_reruns_the_job(client, server, make_workflow, start_runner, tmp_path) -> None:
    spec = {"name": "cmd", "jobs": [{"name": "a", "command": "echo one > a.txt"},
                                    {"name": "b", "command": "cat a.txt", "depends_on": ["a"]},
                                    {"name": "other", "command": "true"}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    run_to_completion(start_runner, server.url, wf.id)
    job = client.list_jobs(wf.id, name="a")[0]
    client.update_job(job.id, command="echo two > a.txt")
    plan = client.reinitialize_workflow(wf.id, dry_run=True)
    assert {j.job_name: j.reasons for j in plan.jobs} == {"a": ["its command or relationships changed"],
                                                          "b": ["upstream job a reruns"]}  # fmt: skip
    client.reinitialize_workflow(wf.id)
    run_to_completion(start_runner, server.url, wf.id)
    assert (tmp_path / "a.txt").read_text() == "two\n"
    assert results_per_run(client, wf.id) == {1: 3, 2: 2}


def test_changed_input_user_data_reruns_its_readers(client, server, make_workflow, start_runner) -> None:
    spec = {"name": "ud", "jobs": [{"name": "reader", "command": "echo ${user_data.input.settings}"},
                                   {"name": "bystander", "command": "true"}],
            "user_data": [{"name": "settings", "data": {"alpha": 1}}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    run_to_completion(start_runner, server.url, wf.id)
    (record,) = client.list_user_data(wf.id)
    client.update_user_data(record.id, data={"alpha": 2})
    plan = client.reinitialize_workflow(wf.id, dry_run=True)
    assert [(j.job_name, j.reasons) for j in plan.jobs] == [("reader", ["input user_data settings changed"])]


def test_flaky_job_with_a_handler_completes_on_attempt_three(client, server, make_workflow, start_runner, tmp_path):
    spec = {"name": "flaky", "jobs": [
        {"name": "flaky", "command": "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; "
                                     "echo attempt $n; [ $n -ge 3 ]", "failure_handler": "retry"}],
        "failure_handlers": [{"name": "retry", "rules": [
            {"match_all_exit_codes": True, "max_retries": 3, "recovery_script": "echo recovering from $TORC_RETURN_CODE"}]}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    run_to_completion(start_runner, server.url, wf.id)
    job = client.list_jobs(wf.id)[0]
    assert (job.status, job.attempt_id) == ("completed", 3)
    results = client.list_results(wf.id, all_runs=True)
    assert [(r.attempt_id, r.status) for r in results] == [(1, "failed"), (2, "failed"), (3, "completed")]
    logs = sorted(p.name for p in (tmp_path / "output" / "job_stdio").iterdir())
    assert logs == [f"job_wf{wf.id}_j{job.id}_r1_a{a}.{s}" for a in (1, 2, 3) for s in ("e", "o")]
    first = (tmp_path / "output" / "job_stdio" / f"job_wf{wf.id}_j{job.id}_r1_a1.o").read_text()
    assert "recovering from 1" in first
    assert sum("retrying as attempt" in e.message for e in client.list_events(wf.id).items) == 2


def test_out_of_attempts_fails_and_cancels_dependents(client, server, make_workflow, start_runner) -> None:
    spec = {"name": "hopeless", "jobs": [
        {"name": "always_fails", "command": "exit 7", "failure_handler": "twice"},
        {"name": "after", "command": "true", "depends_on": ["always_fails"]}],
        "failure_handlers": [{"name": "twice", "rules": [{"exit_codes": [7], "max_retries": 2}]}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    assert start_runner(server.url, wf.id).wait(120) == 1
    assert {j.name: j.status for j in client.list_jobs(wf.id)} == {"always_fails": "failed", "after": "canceled"}
    assert len(client.list_results(wf.id, all_runs=True)) == 2


def test_reset_failed_only_leaves_completed_jobs_alone(client, server, make_workflow, start_runner, tmp_path):
    wf = make_workflow({"name": "partial", "jobs": [
        {"name": "good", "command": "true"},
        {"name": "bad", "command": "test -f fixed"},
        {"name": "after_bad", "command": "true", "depends_on": ["bad"]}]}, initialize=True)  # fmt: skip
    assert start_runner(server.url, wf.id).wait(120) == 1
    reset = client.reset_workflow_status(wf.id, failed_only=True)
    assert reset.updated_count == 2
    assert {j.name: j.status for j in client.list_jobs(wf.id)} == {
        "good": "completed", "bad": "uninitialized", "after_bad": "uninitialized"}
    (tmp_path / "fixed").write_text("")
    reasons = {j.job_name for j in client.reinitialize_workflow(wf.id).jobs}
    assert reasons == {"bad", "after_bad"}
    run_to_completion(start_runner, server.url, wf.id)
    assert results_per_run(client, wf.id) == {1: 2, 2: 2}
