"""The server's pace (how long a runner is told to wait) and the runner's obedience to it, played step by step."""

from __future__ import annotations

from api import pacing
from api.pacing import Pacer
from runner.pace import Pace, exchange_due, heartbeat_seconds, wanted
from torc_client.core.resources import Capacity


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _exchanges(pacer: Pacer, clock: Clock, seconds_each: float, count: int, together: int = 1) -> None:
    """`count` exchanges of `seconds_each`, `together` of them in flight at a time."""
    for _ in range(0, count, together):
        started = [pacer.started() for _ in range(together)]
        clock.t += seconds_each
        for t in started:
            pacer.finished(t)


def test_an_idle_server_asks_for_no_pace() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    _exchanges(pacer, clock, 0.01, 100)
    assert pacer.advice(60.0) is None


def test_slow_exchanges_lengthen_the_pace_and_fast_ones_shorten_it_back_to_none() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    paces = []
    for _ in range(6):
        _exchanges(pacer, clock, pacing.TARGET_SECONDS * 2, 20, together=10)
        paces.append(pacer.advice(600.0))
    assert paces[0] is not None and all(b >= a for a, b in zip(paces, paces[1:])) and paces[-1] > paces[0]
    for _ in range(200):
        _exchanges(pacer, clock, 0.01, 60)
    assert pacer.advice(600.0) is None


def test_the_pace_stays_within_a_quarter_of_the_lease_and_its_ceiling() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    for _ in range(50):
        _exchanges(pacer, clock, 30.0, 20, together=10)
    assert pacer.advice(20.0) == 5.0
    assert pacer.advice(1000.0) == pacing.MAX_SECONDS


def test_a_lone_runner_on_a_slow_host_is_not_paced() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    _exchanges(pacer, clock, pacing.TARGET_SECONDS * 4, 50, together=1)
    assert pacer.advice(600.0) is None


def test_a_burst_in_flight_paces_before_any_answer_is_timed() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    for _ in range(1000):
        pacer.started()
    assert pacer.advice(600.0) == 1000 * pacing.PER_IN_FLIGHT_SECONDS


def test_the_pace_is_jittered_so_runners_told_together_come_back_apart() -> None:
    clock = Clock()
    low, high = Pacer(clock, rand=lambda: 0.0), Pacer(clock, rand=lambda: 1.0)
    for p in (low, high):
        p.pace = 10.0
    assert low.advice(600.0) == 10.0 * (1 - pacing.JITTER) and high.advice(600.0) == 10.0 * (1 + pacing.JITTER)


def test_a_runner_holds_its_news_until_the_pace_has_passed_and_checks_in_no_more_often() -> None:
    assert exchange_due(100.0, None, 100.0)
    assert not exchange_due(100.0, 2.0, 101.9)
    assert exchange_due(100.0, 2.0, 102.0)
    assert heartbeat_seconds(5.0, None) == 5.0 and heartbeat_seconds(5.0, 12.0) == 12.0


def test_a_paced_runner_keeps_a_backlog_that_covers_the_wait() -> None:
    pace = Pace(seconds=0.5)
    pace.running(4)
    for _ in range(5):
        pace.finished(5.0)
    pace.exchanged(1.5)
    busy = Capacity.from_gb(0, 8.0, 0, 1)
    # Unpaced, 5 s jobs leave no backlog. Told to come back in 8 s (up to 10 s with the jitter) and answered in
    # 1.5 s, 4 slots get through round(4 x 12 / 5) = 10 jobs before the next jobs arrive.
    assert wanted(pace, None, 4, 0, busy) == (0, 0)
    assert wanted(pace, None, 4, 0, busy, 8.0) == (0, 10)
    # What is already waiting counts, and a paced runner tops its backlog up at every request.
    assert wanted(pace, None, 4, 7, busy, 8.0) == (0, 3)
    assert wanted(pace, None, 4, 10, busy, 8.0) == (0, 0)
    # Free slots are filled now and the backlog topped up in the same request.
    assert wanted(pace, None, 2, 0, Capacity.from_gb(2, 8.0, 0, 1), 8.0) == (2, 10)


def test_the_lull_between_two_waves_of_a_paced_fleet_does_not_shorten_the_pace() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    for _ in range(12):  # a fleet's requests queue: the pace grows
        _exchanges(pacer, clock, pacing.TARGET_SECONDS * 4, 40, together=20)
    paced = pacer.pace
    assert paced > 4.0
    # The fleet comes back a pace later: until then, a few quick exchanges only.
    _exchanges(pacer, clock, 0.01, int(paced * 0.9 / 0.01))
    assert pacer.pace == paced
    # A whole pace of calm: the server is idle now, and the pace halves.
    _exchanges(pacer, clock, 0.01, int(paced * 0.2 / 0.01) + 60)
    assert pacer.pace == paced * pacing.SHRINK
