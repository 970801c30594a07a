"""Shares: what an overloaded API process hands each runner (`api.shares`), played adjustment by adjustment."""

from __future__ import annotations

import itertools
from collections import deque

import pytest

from api import pacing, shares
from api.pacing import Pacer
from api.shares import Shares, trimmed
from torc_client.contract import ClaimRequest
from tests.pacing.play import Clock

TARGET = 0.5


FLEET = 1000


def _window(s: Shares, now: float, asked: int, handed: int, typical: float, queued: bool = True,
            pace: float = 30.0, elapsed: float = 0.5, fleet: int = FLEET, saturated: bool | None = None) -> None:  # fmt: skip
    """One adjustment's exchanges: `handed` jobs handed out, and as many reported; a queue stood throughout if one
    stood at all, unless `saturated` says otherwise."""
    s.asked(asked)
    s.handled(2 * handed)
    s.adjust(now, elapsed, typical, TARGET, queued, queued if saturated is None else saturated, pace, fleet)


def _overloaded(handed_per_window: int = 100) -> Shares:
    """Runners ask for ten times what is handed out (200 jobs a second, and 200 reported), and exchanges are slow while
    a queue stands."""
    s = Shares(60.0, rand=lambda: 0.0)
    _window(s, 0.0, 10 * handed_per_window, handed_per_window, typical=0.1)
    _window(s, 0.5, 10 * handed_per_window, handed_per_window, typical=2.0)
    return s


def test_a_process_that_keeps_up_gives_every_runner_all_it_asks() -> None:
    s = Shares(60.0)
    for i in range(20):
        _window(s, i * 0.5, asked=100, handed=100, typical=0.05)
    assert s.rate is None and s.share(30.0, FLEET, 0) is None
    # Slow, but the runners are handed all they ask: pacing alone is the answer.
    _window(s, 10.0, asked=100, handed=100, typical=2.0)
    assert s.rate is None
    # Slow without a queue (a lone runner on a slow host): no shares either.
    _window(s, 10.5, asked=1000, handed=100, typical=2.0, queued=False)
    assert s.rate is None
    # Slow with a queue that formed and went (a burst, and a lull after it): what was handled is no measure of what
    # this process hands out at full stretch, so no shares yet.
    _window(s, 11.0, asked=1000, handed=100, typical=2.0, saturated=False)
    assert s.rate is None
    _window(s, 11.5, asked=1000, handed=100, typical=2.0)
    assert s.rate is not None


def test_an_overloaded_process_hands_out_half_what_it_handled_and_splits_it_by_pace_and_fleet() -> None:
    s = _overloaded(150)  # 300 jobs a second handed out and 300 reported
    assert s.rate == pytest.approx(300.0)
    # 1,000 runners told 30 s: 300 jobs a second is 9 jobs a runner a pace, to one that reports as many.
    assert s.share(30.0, FLEET, 9) == 9
    assert s.share(60.0, FLEET, 18) == 18
    # The pace that brings each runner about SHARE_JOBS jobs.
    assert s.pace(FLEET) == pytest.approx(shares.SHARE_JOBS * FLEET / 300.0)
    # Overloaded with a fleet too big for what was handled: at least the share at the longest pace.
    big = Shares(60.0)
    _window(big, 0.0, 100_000, 150, typical=0.1, fleet=100_000)
    _window(big, 0.5, 100_000, 150, typical=2.0, fleet=100_000)
    assert big.rate == pytest.approx(shares.SHARE_JOBS * 100_000 / 60.0)


def test_a_runner_that_brings_back_a_wave_is_handed_less_and_the_wave_dies_out() -> None:
    s = _overloaded(150)
    equal = 9  # s.share(30.0, FLEET, 9)
    assert s.share(30.0, FLEET, 0) == 13  # back with nothing (a first claim): half as much again
    assert s.share(30.0, FLEET, 3 * equal) == 0  # back with three times its part: nothing this time
    # Each return, the runner reports what it was handed the time before: the deviation halves each time.
    got, reported = [], 4 * equal
    for _ in range(8):
        reported = s.share(30.0, FLEET, reported)
        got.append(reported)
    assert got[0] == 0 and abs(got[-1] - equal) <= 1
    assert all(abs(b - equal) <= abs(a - equal) for a, b in zip(got[1:], got[2:]))


def test_shares_are_rounded_at_random_so_that_they_add_up_to_the_rate() -> None:
    s = _overloaded(150)
    s.rate = 20.0
    draws = iter([i / 100 for i in range(100)])
    s.rand = lambda: next(draws)
    # 1.5 jobs a runner each pace, to runners reporting 1: 1.75, so 2 in three answers of four and 1 in the rest.
    got = [s.share(30.0, 400, 1) for _ in range(100)]
    assert sorted(set(got)) == [1, 2] and sum(got) == 175


def test_slow_exchanges_lower_the_rate_once_per_exchange_time() -> None:
    s = _overloaded(150)
    rate = s.rate
    # Still slow: what is timed now arrived before the rate was set, so it is not lowered at once.
    _window(s, 1.0, 3000, 150, typical=2.0)
    assert s.rate == rate
    # Two seconds (the exchanges' time) later, still slow: lowered, at most by DECREASE.
    _window(s, 2.5, 3000, 150, typical=2.0)
    assert s.rate == pytest.approx(rate * max(shares.DECREASE, (TARGET / 2.0) ** 0.5))
    lowered = s.rate
    _window(s, 3.0, 3000, 150, typical=2.0)
    assert s.rate == lowered
    # Far beyond the target: by DECREASE at most, once that exchange time has passed.
    _window(s, 5.0, 3000, 150, typical=50.0)
    assert s.rate == lowered
    _window(s, 52.5, 3000, 150, typical=50.0)
    assert s.rate == pytest.approx(lowered * shares.DECREASE)
    # Just over the target: a little, and no more often than LOWER_SECONDS.
    lowered = s.rate
    _window(s, 52.5 + shares.LOWER_SECONDS / 2, 3000, 150, typical=0.6)
    assert s.rate == lowered
    _window(s, 52.5 + shares.LOWER_SECONDS, 3000, 150, typical=0.6)
    assert s.rate == pytest.approx(lowered * (TARGET / 0.6) ** 0.5)


def test_quick_exchanges_raise_the_rate_in_steps_only_while_the_fleet_takes_it() -> None:
    s = _overloaded(150)
    rate = s.rate
    # Quick, and the fleet takes all it is given: raised by a step for each runner.
    _window(s, 1.0, 3000, 150, typical=0.05)
    assert s.rate == pytest.approx(rate + shares.RISE * FLEET)
    # Two processes of one server see the same exchange times: raised alike, lowered in proportion, so they come to
    # hand out alike whatever they started from (here the database answers quickly below 600 jobs a second).
    a, b = _overloaded(), _overloaded()
    a.rate, b.rate = 100.0, 400.0
    t = 1.0
    for _ in range(400):
        typical = 0.6 if a.rate + b.rate > 600 else 0.05
        for p in (a, b):
            _window(p, t, 3000, int(p.rate / 2), typical=typical, fleet=500)
        t += 0.5
    assert abs(a.rate - b.rate) < 0.1 * (a.rate + b.rate)
    # Quick because the runners are away (told a pace, not back yet): the rate holds, or their return is a wave.
    for i in range(20):
        _window(s, 1.5 + i * 0.5, 3000, 1, typical=0.05)
    held = s.rate
    for i in range(20):
        _window(s, 11.5 + i * 0.5, 3000, 1, typical=0.05)
    assert s.rate == held


def test_shares_end_once_the_fleet_asks_for_no_more_than_the_rate_for_a_whole_pace() -> None:
    s = _overloaded()
    t = 1.0
    # The runners ask for less than the rate for most of a pace: shares go on (a lull between waves).
    while t < 1.0 + 0.9 * 30.0:
        _window(s, t, asked=10, handed=10, typical=0.05, pace=30.0)
        t += 0.5
    assert s.rate is not None
    while t < 1.0 + 45.0:
        _window(s, t, asked=10, handed=10, typical=0.05, pace=30.0)
        t += 0.5
    assert s.rate is None and s.share(30.0, FLEET, 0) is None


def test_shares_end_once_no_queue_has_stood_for_a_whole_pace_whatever_is_asked() -> None:
    s = _overloaded()
    # The fleet has left; one client keeps asking for far more than the rate, and its exchanges overlap no others.
    t = 1.0
    while t < 1.0 + 0.9 * 30.0:
        _window(s, t, asked=600, handed=600, typical=0.05, queued=False, pace=30.0)
        t += 0.5
    assert s.rate is not None  # a lull shorter than a pace: the paced fleet may still come back
    # A queue stands again for a moment: the pace without one starts over.
    _window(s, t, asked=600, handed=600, typical=0.05, queued=True, pace=30.0)
    start = t
    while t < start + 30.0:
        t += 0.5
        _window(s, t, asked=600, handed=600, typical=0.05, queued=False, pace=30.0)
    assert s.rate is None and s.share(30.0, FLEET, 0) is None
    # A short pace (a small fleet): still no sooner than UNQUEUED_SECONDS.
    s = _overloaded()
    _window(s, 1.0, asked=600, handed=600, typical=0.05, queued=False, pace=0.5)
    _window(s, 1.5, asked=600, handed=600, typical=0.05, queued=False, pace=0.5)
    assert s.rate is not None
    _window(s, 0.5 + shares.UNQUEUED_SECONDS, asked=600, handed=600, typical=0.05, queued=False, pace=0.5)
    assert s.rate is None


@pytest.mark.parametrize("clients", [1, pacing.QUIET_IN_FLIGHT])  # a handful at once is no queue either
def test_a_lone_client_after_a_big_fleet_left_is_handed_all_it_asks_within_a_pace(clients: int) -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    _queued_fleet(pacer, clock)
    assert pacer.shares.rate is not None
    pace = pacer.pace
    # The fleet leaves. `clients` claim 600 jobs at a time, together, one exchange after the other, each answered in
    # 50 ms.
    left, got = clock.t, []
    while clock.t < left + pace + 2 * pacing.ADJUST_SECONDS:
        started = [pacer.started(5000 + c) for c in range(clients)]
        got = [pacer.share(600, 0) for _ in started]
        clock.t += 0.05
        for t in started:
            pacer.handled(600)
            pacer.finished(t)
    assert got == [None] * clients  # all they ask: no longer a share of a fleet that has gone


def test_a_claim_is_trimmed_to_its_share_what_fits_now_first() -> None:
    req = ClaimRequest(compute_node_id=1, limit=4, backlog=40)
    assert trimmed(req, None) is req
    assert trimmed(req, 44) is req
    assert (trimmed(req, 10).limit, trimmed(req, 10).backlog) == (4, 6)
    assert (trimmed(req, 3).limit, trimmed(req, 3).backlog) == (3, 0)
    assert trimmed(req, 10).compute_node_id == 1



def _exchanges(pacer: Pacer, clock: Clock, runners: range, seconds: float, asked: int = 40, handed: int = 4,
               drain: bool = True) -> None:  # fmt: skip
    """`runners` come in turn, 50 a second, for `seconds`, each asking for `asked` jobs and reporting `handed`; each is
    answered (handed `handed`) 2 s after it came, so that a queue of 100 stands throughout; then the queue drains."""
    waiting: deque[float] = deque()
    turn = itertools.cycle(runners)
    end = clock.t + seconds
    while (drain and waiting) or clock.t < end:
        for _ in range(5 if clock.t < end else 0):
            waiting.append(pacer.started(next(turn)))
            pacer.share(asked, handed)
        clock.t += 0.1
        while waiting and clock.t - waiting[0] >= 2.0 - 1e-9:
            pacer.handled(2 * handed)
            pacer.finished(waiting.popleft())


def _queued_fleet(pacer: Pacer, clock: Clock) -> None:
    """100 runners' requests queue for 5 s, each asking for 40 jobs and handed 4."""
    _exchanges(pacer, clock, range(100), 5.0)


def test_a_fleet_that_comes_and_goes_in_bursts_is_no_overload_and_shares_start_on_what_is_handled_at_full_stretch(
) -> None:  # fmt: skip
    clock = Clock()
    clock.t = 100.0  # the process started long before the fleet came
    pacer = Pacer(clock, rand=lambda: 0.5)
    for _ in range(3):
        # 50 runners come at once and are answered within a second (4 jobs each, and the 4 they report), then run
        # their jobs for 5 s. Answers come as transactions commit: one at once, one while the rest still wait, the
        # rest together. The answers were slow, and a queue stood through one adjustment, but it saw one answer: it
        # did not measure what this process hands out.
        started = [pacer.started(r) for r in range(50)]
        for _ in started:
            pacer.share(8, 4)
        for answered, after in ((started[:1], 0.1), (started[1:2], 0.6), (started[2:], 0.3)):
            clock.t += after
            for t in answered:
                pacer.handled(8)
                pacer.finished(t)
        clock.t += 5.0
    assert pacer.shares.rate is None and pacer.share(8, 4) is None
    # Now a queue stands (each answered 2 s after it came, 400 jobs a second handed out and reported): shares start
    # at half of that, as measured at full stretch, not over the lulls between the bursts (which gave 13 jobs a
    # second, cut to 7 before the queue stood: a pace of a minute for 50 runners).
    _exchanges(pacer, clock, range(50), 3.0, drain=False)
    assert pacer.shares.rate == pytest.approx(400 / 2, rel=0.05)


@pytest.mark.parametrize(("standing", "answered", "starts"), [
    (pacing.QUIET_IN_FLIGHT + 1, pacing.QUIET_IN_FLIGHT + 1, True),
    (pacing.QUIET_IN_FLIGHT, pacing.QUIET_IN_FLIGHT + 1, False),  # no queue: a handful waiting is no queue
    (pacing.QUIET_IN_FLIGHT + 1, pacing.QUIET_IN_FLIGHT, False),  # a handful answered measures nothing
])  # fmt: skip
def test_shares_start_once_more_than_a_handful_wait_throughout_an_adjustment_and_more_are_answered(
    standing: int, answered: int, starts: bool
) -> None:  # fmt: skip
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    started = [pacer.started(r) for r in range(standing + answered + 1)]
    for _ in started:
        pacer.share(40, 0)
    # Slow answers: the first makes an adjustment; the next one's adjustment sees `answered` answers while `standing`
    # requests wait throughout.
    answers = [(started[0], 1.0), (started[1], 0.2)] + [(t, 0.0) for t in started[2:answered]]
    for t, after in answers + [(started[answered], 0.4)]:
        clock.t += after
        pacer.handled(8)
        pacer.finished(t)
    assert pacer.in_flight == standing
    assert (pacer.shares.rate is not None) is starts


def test_an_overloaded_pacer_paces_for_the_share_and_spreads_the_fleet_over_a_whole_pace() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 1.0)
    _queued_fleet(pacer, clock)
    rate = pacer.shares.rate
    assert rate is not None
    assert pacer.pace == pytest.approx(min(shares.SHARE_JOBS * pacer.fleet / rate, pacing.MAX_SECONDS))
    # Told with the wide jitter, and leased for LEASE_PACES of the longest pace.
    longest = pacer.advice(10_000.0)
    assert longest == pytest.approx(pacer.pace * (1 + pacing.SHARED_JITTER), abs=1e-3)
    assert pacer.lease(60.0) >= pacing.LEASE_PACES * longest
