"""A job the operating system will not start fails with the reason, and the runner goes on with the others."""

from __future__ import annotations

from runner.attempt import NOT_STARTED_CODE
from tests.runner.test_execution import statuses
from torc_client import Client


def test_a_job_too_long_for_a_command_line_fails_with_the_reason_and_the_rest_run(client: Client, server,
                                                                                  start_runner, tmp_path) -> None:  # fmt: skip
    wf = client.create_workflow_from_spec({"name": "long", "jobs": [{"name": "after", "command": "true"}]},
                                          working_dir=str(tmp_path))  # fmt: skip
    # Within the API's limit in characters, and twice Linux's 128 KiB for one argument in bytes.
    long = client.create_job(wf.id, "long", "echo " + "\u00e9" * 70_000)
    runner = start_runner(server.url, wf.id)
    assert runner.wait() != 0, runner.output()  # a job failed
    assert statuses(client, wf.id) == {"after": "completed", "long": "failed"}
    (result,) = client.list_results(wf.id, job_id=long.id)
    assert result.return_code == NOT_STARTED_CODE
    log = tmp_path / "output" / "job_stdio" / f"job_wf{wf.id}_j{long.id}_r1_a1.e"
    assert log.read_text() == "torc: job could not start: Argument list too long\n"
    assert f"failed long (job {long.id}) return code {NOT_STARTED_CODE}: could not start" in runner.output()


def test_a_killed_guard_is_replaced_and_the_jobs_still_die_with_their_runner(client: Client, server, make_workflow,
                                                                             start_runner, tmp_path) -> None:  # fmt: skip
    import signal

    import psutil

    from tests.runner.conftest import wait_until
    from tests.runner.test_execution import alive

    spec = {"name": "guarded", "jobs": [{"name": "long", "command": "echo $$ > pid.txt; sleep 120"}]}
    wf = make_workflow(spec, initialize=True)
    runner = start_runner(server.url, wf.id)
    wait_until(lambda: (tmp_path / "pid.txt").exists() and (tmp_path / "pid.txt").read_text().strip())
    job = int((tmp_path / "pid.txt").read_text())

    def guards() -> list[psutil.Process]:
        return [p for p in psutil.Process(runner.popen.pid).children() if "guard.py" in " ".join(p.cmdline())]

    (first,) = wait_until(guards, what="the runner's guard")
    first.send_signal(signal.SIGKILL)
    said = f"the job guard (pid {first.pid}) died: a new one"
    wait_until(lambda: said in runner.output(), what="the runner to replace its guard")
    assert [g.pid for g in guards()] != [first.pid] and len(guards()) == 1
    runner.kill()
    wait_until(lambda: not alive(job), timeout=30, what="the job to die with its runner")
