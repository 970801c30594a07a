"""How much work a runner keeps claimed ahead: none for long jobs, about half a second for short ones."""

from __future__ import annotations

from runner.pace import Pace
from torc_client.core.settings import DEFAULT_BACKLOG_SECONDS, MAX_BACKLOG_JOBS


def test_no_backlog_before_any_job_finished() -> None:
    assert Pace().target(slots=8) == 0


def test_long_jobs_leave_no_backlog() -> None:
    pace = Pace()
    for _ in range(5):
        pace.finished(60.0)
    assert pace.target(slots=16) == 0


def test_short_jobs_keep_half_a_second_of_work_per_slot() -> None:
    pace = Pace()
    for _ in range(50):
        pace.finished(0.05)
    assert pace.target(slots=2) == round(2 * DEFAULT_BACKLOG_SECONDS / 0.05)


def test_the_backlog_is_capped() -> None:
    pace = Pace()
    pace.finished(0.0)
    assert pace.target(slots=64) == MAX_BACKLOG_JOBS


def test_a_zero_backlog_claims_only_what_fits() -> None:
    pace = Pace(seconds=0.0)
    pace.finished(0.001)
    assert pace.target(slots=8) == 0
