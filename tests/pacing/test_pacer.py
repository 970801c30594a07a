"""The server's pace (how long a runner is told to wait) and the runner's obedience to it, played step by step."""

from __future__ import annotations

from api import pacing
from api.pacing import Pacer
from runner.pace import PACE_COVER, Pace, exchange_due, heartbeat_seconds, wanted
from torc_client.core.resources import Capacity
from tests.pacing.play import Clock, exchanges




def test_an_idle_server_asks_for_no_pace() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    exchanges(pacer, clock, 0.01, 100)
    assert pacer.advice(10_000.0) is None


def test_slow_exchanges_lengthen_the_pace_and_fast_ones_shorten_it_back_to_none() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    paces = []
    for _ in range(6):
        exchanges(pacer, clock, pacing.TARGET_SECONDS * 2, 20, together=10)
        paces.append(pacer.advice(10_000.0))
    assert paces[0] is not None and all(b >= a for a, b in zip(paces, paces[1:])) and paces[-1] > paces[0]
    for _ in range(200):
        exchanges(pacer, clock, 0.01, 60)
    assert pacer.advice(10_000.0) is None


def test_the_pace_stays_within_its_ceiling_and_a_paced_runner_is_leased_for_several_paces() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 1.0)
    assert pacer.lease(60.0) == 60.0  # unpaced: the server's lease
    for _ in range(2000):
        exchanges(pacer, clock, 30.0, 20, together=10)
    assert pacer.ceiling() == pacing.MAX_SECONDS
    longest = pacer.advice(10_000.0)
    assert longest == pacing.MAX_SECONDS * (1 + pacing.JITTER)
    # The longest pace a runner may be told, even grown by half before its answer is sent, and the time its next
    # exchange waits here (30 s now), end well inside its lease.
    assert pacer.typical == 30.0
    # (Leased as if told with the wider jitter of an overloaded process, `api.shares`, which it may be by its answer.)
    assert pacer.lease(60.0) == pacing.LEASE_PACES * (1 + pacing.SHARED_JITTER) * pacing.MAX_SECONDS + 30.0
    assert pacer.lease(60.0) > pacing.GROWTH * longest + 30.0
    assert pacer.lease(10_000.0) == 10_000.0
    # A runner leased before the pace grew (its exchange arrived then) is told no more than its lease covers.
    assert pacer.advice(60.0) == 60.0 / pacing.LEASE_PACES


def test_a_lone_runner_on_a_slow_host_is_not_paced() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    exchanges(pacer, clock, pacing.TARGET_SECONDS * 4, 50, together=1)
    assert pacer.advice(10_000.0) is None


def test_a_burst_in_flight_paces_before_any_answer_is_timed() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    for _ in range(1000):
        pacer.started()
    assert pacer.advice(10_000.0) == 1000 * pacing.PER_IN_FLIGHT_SECONDS


def test_the_pace_is_jittered_so_runners_told_together_come_back_apart() -> None:
    clock = Clock()
    low, high = Pacer(clock, rand=lambda: 0.0), Pacer(clock, rand=lambda: 1.0)
    for p in (low, high):
        p.pace = 10.0
    assert low.advice(10_000.0) == 10.0 * (1 - pacing.JITTER) and high.advice(10_000.0) == 10.0 * (1 + pacing.JITTER)


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
    # Unpaced, 5 s jobs leave no backlog. Told to come back in 8 s, the next pace may be up to 1.875 times as long
    # (the jitter, and the pace growing by half within one pace); answered in 1.5 s, 4 slots get through
    # round(4 x (0.5 + 1.875 x 8 + 1.5) / 5) = 14 jobs before the next jobs arrive.
    assert PACE_COVER == 1.25 * pacing.GROWTH
    assert wanted(pace, None, 4, 0, busy) == (0, 0)
    assert wanted(pace, None, 4, 0, busy, 8.0) == (0, 14)
    # What is already waiting counts, and a paced runner tops its backlog up at every request.
    assert wanted(pace, None, 4, 7, busy, 8.0) == (0, 7)
    assert wanted(pace, None, 4, 14, busy, 8.0) == (0, 0)
    # Free slots are filled now and the backlog topped up in the same request.
    assert wanted(pace, None, 2, 0, Capacity.from_gb(2, 8.0, 0, 1), 8.0) == (2, 14)


def test_the_lull_between_two_waves_of_a_paced_fleet_does_not_shorten_the_pace() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    for _ in range(12):  # a fleet's requests queue: the pace grows
        exchanges(pacer, clock, pacing.TARGET_SECONDS * 4, 40, together=20)
    paced = pacer.pace
    assert paced > 4.0
    # The fleet comes back a pace later: until then, a few quick exchanges only.
    exchanges(pacer, clock, 0.01, int(paced * 0.9 / 0.01))
    assert pacer.pace == paced
    # A whole pace of calm: the server is idle now, and the pace halves.
    exchanges(pacer, clock, 0.01, int(paced * 0.2 / 0.01) + 60)
    assert pacer.pace == paced * pacing.SHRINK


def test_the_pace_grows_at_most_by_half_within_one_pace() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    pacer.pace = 6.0
    start = clock.t
    # Exchanges ten times slower than the target, many in flight: the pace grows, but a runner told 6 s is told at
    # most 9 s when it comes back 6 s later (what its backlog covers, with the jitter: `runner.pace.PACE_COVER`).
    while clock.t - start < 6.0:
        exchanges(pacer, clock, 0.25, 40, together=20)
        pacer.finished(pacer.started())  # a slow one keeps the median above the target
        exchanges(pacer, clock, pacing.TARGET_SECONDS * 10, 40, together=20)
    grown = pacer.pace
    assert 6.0 < grown <= 6.0 * pacing.GROWTH ** ((clock.t - start) / 6.0 + pacing.ADJUST_SECONDS) + 1e-9


def _fleet_queues(pacer: Pacer, clock: Clock, runners: int, per_second: float, seconds: float) -> None:
    """`runners` runners whose exchanges queue here (a few hundred in flight), answered `per_second`."""
    waiting = [pacer.started(r) for r in range(runners)]
    step = 1.0 / per_second
    end = clock.t + seconds
    r = 0
    while clock.t < end:
        clock.t += step
        pacer.finished(waiting.pop(0))
        waiting.append(pacer.started(r % runners))
        r += 1
    for t in waiting:
        pacer.finished(t)


def test_a_queued_fleet_is_paced_by_its_size_and_this_process_rate() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    _fleet_queues(pacer, clock, 1000, per_second=40.0, seconds=5.0)
    assert 0 < pacer.ceiling() < pacing.MAX_SECONDS  # on its way: by half at most within one pace
    _fleet_queues(pacer, clock, 1000, per_second=40.0, seconds=120.0)
    assert pacer.fleet == 1000
    assert pacer.served is not None and 35.0 <= pacer.served <= 45.0
    # 1,000 runners, each once a pace, at no more than 70% of the 40 exchanges a second served here: 36 s.
    assert pacing.UTILISATION == 0.7
    assert pacer.fleet_floor() == 1000 / (pacing.UTILISATION * pacer.served)
    assert pacing.MAX_SECONDS > pacer.fleet_floor() and pacer.ceiling() >= pacer.fleet_floor()
    # A fleet a tenth the size, served as fast, is told a tenth of the floor.
    small = Pacer(clock, rand=lambda: 0.5)
    _fleet_queues(small, clock, 100, per_second=40.0, seconds=5.0)
    assert abs(small.fleet_floor() * 10 - pacer.fleet_floor()) < 0.15 * pacer.fleet_floor()


def test_runners_gone_quiet_leave_the_fleet() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    _fleet_queues(pacer, clock, 500, per_second=40.0, seconds=2.0)
    assert pacer.fleet == 500
    pacer.pace = 0.0
    clock.t += pacing.FLEET_SECONDS + 1
    exchanges(pacer, clock, 0.01, 200)  # one runner keeps exchanging, with no runner number: not counted
    pacer.finished(pacer.started(7))
    clock.t += pacing.ADJUST_SECONDS
    pacer.finished(pacer.started(7))
    assert pacer.fleet == 1


def test_what_the_server_serves_is_measured_while_a_queue_stands_not_across_idle_gaps() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    for _ in range(20):  # 50 runners' requests come together, are answered at 50 a second, then nothing for 3 s
        waiting = [pacer.started(r) for r in range(50)]
        for t in waiting:
            clock.t += 0.02
            pacer.finished(t)
        clock.t += 3.0
    # 1,000 answers in 80 s would read as 12.5 a second; while the queue stood they came at 50.
    assert pacer.served is not None and abs(pacer.served - 50.0) < 0.5


def test_the_fleet_floor_comes_down_only_after_a_whole_floor_of_calm() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    _fleet_queues(pacer, clock, 200, per_second=40.0, seconds=3.0)
    floor = pacer.fleet_floor()
    assert floor > 5.0
    # The fleet comes back, calmly (one at a time, quickly), for most of a floor: the floor holds.
    t0 = clock.t
    r = 0
    while clock.t - t0 < 0.8 * floor:
        pacer.finished(pacer.started(r % 200))
        clock.t += 0.05
        r += 1
    assert pacer.fleet_floor() == floor
    # A whole floor of calm: this process served them all well, and is taken to serve twice as many.
    while clock.t - t0 < 1.2 * floor:
        pacer.finished(pacer.started(r % 200))
        clock.t += 0.05
        r += 1
    assert pacer.fleet_floor() == floor * pacing.SHRINK


def test_a_calm_fleet_is_not_paced_longer_towards_a_floor_measured_in_a_burst() -> None:
    """50 runners start together and queue for a few seconds (a burst of first claims, answered slowly): this process
    measures a low rate, and so a floor of several seconds. Then the fleet exchanges calmly (one at a time, quickly):
    the floor holds the pace where it is, and does not raise it, or a small fleet of short jobs is told to wait longer
    and longer while nothing queues (seen: 4 s growing to 11 s, 50 runners served 30 jobs a second of their 40)."""
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    _fleet_queues(pacer, clock, 50, per_second=8.0, seconds=4.0)

    def calm(seconds: float) -> list[float]:
        """One quick exchange at a time for `seconds`; the pace after each."""
        paces = []
        for r in range(int(seconds / 0.05)):
            pacer.finished(pacer.started(r % 50))
            clock.t += 0.05
            paces.append(pacer.pace)
        return paces

    calm(1.0)  # the burst's last answers are timed in the first adjustment after it
    held = pacer.pace
    assert pacer.fleet_floor() > 5.0 and 0 < held < pacer.fleet_floor()
    assert max(calm(20.0)) <= held
