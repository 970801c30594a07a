"""A fleet whose exchanges spread over several API processes (`api.pacing.Returns`): each process counts a runner as
the part of its exchanges that reach it, so that the processes together hand out what each means to."""

from __future__ import annotations

import heapq
import random

import pytest

from api import pacing
from api.pacing import Pacer, Returns
from tests.pacing.play import Clock



def test_a_runner_back_when_told_counts_one_pace_and_one_back_after_two_counts_two() -> None:
    returns = Returns()
    for runner in range(10):
        returns.told(runner, 0.0, 10.0)
        returns.back(runner, 10.0)
    returns.adjust(0.5)
    assert returns.paces == pytest.approx(1.0)
    for _ in range(100):  # adjustments, half a second apart: what was seen before fades
        for runner in range(10):
            returns.told(runner, 100.0, 10.0 + runner)  # jittered paces: what passed over what was told, summed
            returns.back(runner, 100.0 + 2 * (10.0 + runner))
        returns.adjust(0.5)
    assert returns.paces == pytest.approx(2.0, rel=0.01)


def test_what_was_seen_fades_by_half_each_half_life() -> None:
    returns = Returns()
    returns.told(1, 0.0, 10.0)
    returns.back(1, 10.0)
    returns.adjust(pacing.RETURNS_HALF_LIFE)  # 10 s of 10 s told, then halved
    returns.told(2, 0.0, 5.0)
    returns.back(2, 20.0)  # 20 s of 5 s told
    returns.adjust(0.5)
    assert returns.paces == pytest.approx((5.0 + 20.0) / (5.0 + 5.0))


def test_only_runners_told_a_pace_are_measured_and_a_long_silence_counts_a_few_paces_at_most() -> None:
    returns = Returns()
    returns.back(1, 50.0)  # never told a pace here
    returns.told(2, 0.0, None)  # answered without a pace: comes back when it has news
    returns.back(2, 50.0)
    returns.adjust(0.5)
    assert returns.paces == 1.0
    returns.told(3, 0.0, 1.0)
    returns.back(3, 1000.0)
    returns.adjust(0.5)
    assert returns.paces == pacing.MOST_PACES_BETWEEN
    # Back sooner than told (another process told it a shorter pace): one pace, not less.
    low = Returns()
    low.told(4, 0.0, 10.0)
    low.back(4, 5.0)
    low.adjust(0.5)
    assert low.paces == 1.0


def test_what_is_forgotten_is_not_measured() -> None:
    returns = Returns()
    returns.told(1, 0.0, 10.0)
    returns.told(2, 0.0, 10.0)
    returns.forget(pacing.MOST_PACES_BETWEEN * 10.0 + 1.0)
    returns.back(1, 200.0)
    returns.adjust(0.5)
    assert returns.paces == 1.0
    returns.told(3, 0.0, 10.0)
    returns.forget(pacing.MOST_PACES_BETWEEN * 10.0)
    returns.back(3, 20.0)
    returns.adjust(0.5)
    assert returns.paces == 2.0


def test_a_runner_told_no_pace_after_a_pace_is_not_measured() -> None:
    returns = Returns()
    returns.told(1, 0.0, 10.0)
    returns.told(1, 5.0, None)
    returns.back(1, 50.0)
    returns.adjust(0.5)
    assert returns.paces == 1.0


def test_returns_seen_fade_over_the_half_life_not_at_once() -> None:
    returns = Returns()
    returns.told(1, 0.0, 10.0)
    returns.back(1, 30.0)  # back after three paces
    returns.adjust(0.5)
    assert returns.paces == 3.0
    returns.told(1, 30.0, 10.0)
    returns.back(1, 40.0)  # then after one
    returns.adjust(0.5)
    fade = 0.5 ** (0.5 / pacing.RETURNS_HALF_LIFE)
    assert returns.paces == pytest.approx((30.0 * fade + 10.0) / (10.0 * fade + 10.0))
    assert returns.paces == pytest.approx(2.0, rel=0.02)

#: Each exchange's time: slower than what raises the rate, quicker than what lowers it.
EXCHANGE_SECONDS = 0.9 * pacing.TARGET_SECONDS


def _fleet(processes: int, runners: int = 300, paces: int = 12) -> tuple[list[Pacer], float, float]:
    """`runners` that want jobs, each exchange reaching one of `processes` overloaded processes at random (as a new
    connection does), each runner back when its last pace allows. Returns the processes, and the jobs handed out and
    the jobs the processes' rates meant to hand out over the last third of the run."""
    clock, rng = Clock(), random.Random(7)
    pacers = [Pacer(clock, rand=rng.random) for _ in range(processes)]
    for p in pacers:
        p.shares.rate = 200.0  # overloaded: each hands out at a rate of its own
        p.pace = 20.0
        for _ in range(pacing.QUIET_IN_FLIGHT + 2):  # and a queue stands throughout
            p.started()
    due = [(rng.uniform(0.0, 20.0), r) for r in range(runners)]
    heapq.heapify(due)
    reported = [0] * runners
    end, handed, meant = paces * 20.0, 0.0, 0.0
    while due[0][0] < end:
        t, runner = heapq.heappop(due)
        elapsed, clock.t = t - clock.t, t
        if t > end * 2 / 3:
            meant += elapsed * sum(p.shares.rate or 0.0 for p in pacers)
        p = pacers[rng.randrange(processes)]
        lease = p.lease(60.0)
        started = p.started(runner)
        share = p.share(100, reported[runner])
        jobs = 100 if share is None else share
        p.finished(started - EXCHANGE_SECONDS)
        p.handled(jobs + reported[runner])
        if t > end * 2 / 3:
            handed += jobs
        reported[runner] = jobs
        heapq.heappush(due, (t + (p.advice(lease, runner) or 1.0), runner))
    return pacers, handed, meant


def test_a_fleet_shared_by_two_processes_is_handed_what_both_mean_to_hand_out() -> None:
    pacers, handed, meant = _fleet(2)
    for p in pacers:
        assert p.returns.paces == pytest.approx(2.0, rel=0.2)
        assert p.fleet == pytest.approx(150, rel=0.2)
    # Counted whole (each process sharing its rate among all 300 runners, of which it sees half), half was handed.
    assert handed == pytest.approx(meant, rel=0.2)


def test_a_fleet_of_one_process_counts_every_runner_whole() -> None:
    (p,), handed, meant = _fleet(1)
    assert p.returns.paces == pytest.approx(1.0, abs=0.05)
    assert p.fleet == pytest.approx(300, rel=0.05)
    assert handed == pytest.approx(meant, rel=0.2)
