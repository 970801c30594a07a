"""The closing lines of `torc run`: the summary and the flags that would let unfit jobs run (no server)."""

from __future__ import annotations

from runner.loop import RunSummary
from runner.report import unfit_text
from torc_client import contract as c
from torc_client.cli import progress


def _status(**counts: int) -> c.WorkflowStatus:
    return c.WorkflowStatus(workflow_id=3, run_id=1, is_initialized=True, is_canceled=False, is_archived=False,
                            is_complete=False, num_jobs=sum(counts.values()), job_counts=counts)  # fmt: skip


def _unfit(name: str, jobs: list[str], shortfalls: list[str]) -> c.UnfitGroup:
    rr = c.ResourceRequirements(id=1, workflow_id=3, name=name)
    return c.UnfitGroup(resource_requirements=rr, num_jobs=len(jobs), job_names=jobs, shortfalls=shortfalls)


def test_summary_line_counts_the_workflows_jobs() -> None:
    summary = RunSummary(3, 1, counts={"completed": 2}, workflow_status=_status(completed=3))
    assert progress.summary_line(summary, 4.24) == "workflow 3: 3 completed, 0 failed, 0 canceled in 4.2 s"


def test_summary_line_says_how_many_jobs_are_not_finished() -> None:
    summary = RunSummary(3, 1, workflow_status=_status(completed=1, failed=1, canceled=1, ready=2))
    assert progress.summary_line(summary, 1.0) == (
        "workflow 3: 1 completed, 1 failed, 1 canceled, 2 not finished in 1.0 s")


def test_jobs_stopped_by_a_signal_are_terminated_not_failed() -> None:
    summary = RunSummary(3, 1, interrupted=True, workflow_status=_status(completed=1, terminated=2, ready=1))
    assert progress.summary_line(summary, 1.0) == (
        "workflow 3: 1 completed, 0 failed, 2 terminated, 0 canceled, 1 not finished (interrupted) in 1.0 s")


def test_a_runner_that_gave_its_allocation_back_to_others_exits_0_unless_a_job_failed() -> None:
    left = RunSummary(3, 1, workflow_status=_status(completed=1, running=1, ready=1))
    assert left.exit_code == 2  # work remains that this runner cannot do
    left.handed_over = True
    assert left.exit_code == 0
    assert progress.summary_line(left, 1.0) == (
        "workflow 3: 1 completed, 0 failed, 0 canceled, 2 not finished (left to other runners) in 1.0 s")
    failed = RunSummary(3, 1, counts={"failed": 1}, handed_over=True, workflow_status=_status(failed=1, running=1))
    assert failed.exit_code == 1


def test_unfit_text_names_the_jobs_and_the_flags() -> None:
    group = _unfit("gpu_large", ["train_model"], ["needs 2 GPUs, runner has 0 (--num-gpus 2)"])
    assert unfit_text(group) == ("1 job can never run on this runner (train_model): resource requirements "
                                 "'gpu_large' needs 2 GPUs, runner has 0 (--num-gpus 2)")  # fmt: skip


def test_the_closing_lines_name_a_bigger_runner_only_for_jobs_still_waiting(capsys) -> None:
    summary = RunSummary(3, 1, workflow_status=_status(completed=3))
    progress.print_summary(summary, 1.0)
    assert capsys.readouterr().err == "workflow 3: 3 completed, 0 failed, 0 canceled in 1.0 s\n"
    summary.unfit = [_unfit("gpu_large", ["train_model"], ["needs 2 GPUs, runner has 0 (--num-gpus 2)"])]
    progress.print_summary(summary, 1.0)
    assert capsys.readouterr().err.splitlines()[1] == (
        "1 job could not run on this runner; to run it, start a runner with: torc run 3 --num-gpus 2")


def test_rerun_flags_take_the_largest_value_of_each_flag() -> None:
    groups = [
        _unfit("gpu_small", ["evaluate_model"], ["needs 4 CPUs, runner has 2 (--num-cpus 4)",
                                                 "needs 1 GPU, runner has 0 (--num-gpus 1)"]),
        _unfit("gpu_large", ["train_model"], ["needs 8 CPUs, runner has 2 (--num-cpus 8)",
                                              "needs 32g memory, runner has 23.5 GiB (--memory-gb 32)",
                                              "needs 2 GPUs, runner has 0 (--num-gpus 2)"]),
    ]  # fmt: skip
    assert progress.rerun_flags(groups) == "--num-cpus 8 --num-gpus 2 --memory-gb 32"
