"""The pacer at its edges: each rule of `api.pacing` played exactly at the boundary it draws (a time, a count in
flight, the shortest pace), so that moving the boundary either way fails a test."""

from __future__ import annotations

import pytest

from api import pacing
from api.pacing import Pacer
from tests.pacing.play import Clock, exchanges


def _rolling(pacer: Pacer, clock: Clock, in_flight: int, per_second: float, seconds: float,
             waiting: list[float] | None = None) -> list[float]:  # fmt: skip
    """`in_flight` requests stand at every moment (or those `waiting` already): each answer (`per_second` of them)
    is followed at once by a new request, so no fewer than `in_flight - 1` are ever in flight."""
    waiting = [pacer.started(r) for r in range(in_flight)] if waiting is None else waiting
    end = clock.t + seconds
    r = in_flight
    while clock.t < end:
        clock.t += 1.0 / per_second
        pacer.finished(waiting.pop(0))
        waiting.append(pacer.started(r % 1000))
        r += 1
    return waiting


def test_a_burst_is_leased_for_four_of_its_widest_paces_before_any_answer_is_timed() -> None:
    pacer = Pacer(Clock(), rand=lambda: 0.5)
    for _ in range(1000):
        pacer.started()
    # 1,000 in flight: a pace of 4 s, told with the wide jitter at most, four times over; nothing timed yet to add.
    paced = 1000 * pacing.PER_IN_FLIGHT_SECONDS
    assert pacer.lease(1.0) == pytest.approx(pacing.LEASE_PACES * (1 + pacing.SHARED_JITTER) * paced, rel=1e-12)


@pytest.mark.parametrize(("seconds_each", "together", "held"), [
    (pacing.TARGET_SECONDS, 10, True),  # at the target, many in flight: not slow
    (pacing.TARGET_SECONDS / 2, 10, True),  # at half the target: not calm either
    (0.8 * pacing.TARGET_SECONDS, 10, True),  # between: the pace holds
    (0.4 * pacing.TARGET_SECONDS, 10, False),  # below half the target, many in flight: calm
    (0.02, 10, False),
    (0.8 * pacing.TARGET_SECONDS, pacing.QUIET_IN_FLIGHT, False),  # a handful in flight is calm, whatever it takes
    (2 * pacing.TARGET_SECONDS, pacing.QUIET_IN_FLIGHT, False),  # and no reason to pace: nothing queues
])  # fmt: skip
def test_exchanges_between_quick_and_slow_hold_the_pace_and_calm_ones_shorten_it(
    seconds_each: float, together: int, held: bool
) -> None:  # fmt: skip
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    pacer.pace = 2.0
    exchanges(pacer, clock, seconds_each, int(6.0 / seconds_each) * together, together)
    assert (pacer.pace == 2.0) is held
    assert pacer.pace <= 2.0  # never longer: none of these is slow with a queue


def test_exchanges_at_the_target_ask_no_pace_of_a_server_that_has_none() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    exchanges(pacer, clock, pacing.TARGET_SECONDS, 10 * 12, together=10)
    assert pacer.pace == 0.0 and pacer.advice(10_000.0) is None


def test_exchanges_neither_quick_nor_slow_restart_the_wait_for_a_whole_pace_of_calm() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    pacer.pace = 4.0
    exchanges(pacer, clock, 0.8 * pacing.TARGET_SECONDS, 10 * 25, together=10)  # 10 s, longer than the pace
    assert pacer.pace == 4.0
    # Calm now, but not yet for a whole pace since the last exchanges that were not: the pace holds.
    exchanges(pacer, clock, 0.01, 300)
    assert pacer.pace == 4.0
    exchanges(pacer, clock, 0.01, 150)
    assert pacer.pace == 4.0 * pacing.SHRINK


def test_the_pace_is_adjusted_every_half_second_and_halved_after_exactly_a_pace_of_calm() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    pacer.pace = 2.0
    for at in (0.5, 1.0, 1.5):
        clock.t = at - 0.125
        started = pacer.started()
        clock.t = at
        pacer.finished(started)
        assert pacer.typical == 0.125  # adjusted at this answer: exactly half a second after the last
        assert pacer.pace == 2.0
    clock.t = 2.0
    pacer.finished(pacer.started())
    assert pacer.pace == 1.0  # 2 s of calm, the whole pace


def test_the_pace_follows_the_median_exchange_not_the_quicker_third() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    slow = [pacer.started() for _ in range(6)]
    clock.t = 2.0
    pacer.finished(pacer.started())  # an adjustment, to start a window
    clock.t = 2.05
    quick = [pacer.started() for _ in range(4)]
    clock.t = 2.1
    for t in slow + quick[:3]:
        pacer.finished(t)
    clock.t = 2.5
    pacer.finished(quick[3])
    # Six of ten exchanges took 2.1 s, four took 0.05 s or so: the median is slow, and with a queue the pace grows.
    assert pacer.typical == pytest.approx(2.1)
    assert pacer.pace > 0.0


def test_four_standing_is_no_queue_and_five_is() -> None:
    clock = Clock()
    lone, queued = Pacer(clock, rand=lambda: 0.5), Pacer(clock, rand=lambda: 0.5)
    _rolling(lone, clock, pacing.QUIET_IN_FLIGHT + 1, per_second=40.0, seconds=5.0)  # never fewer than four
    _rolling(queued, clock, pacing.QUIET_IN_FLIGHT + 2, per_second=40.0, seconds=5.0)  # never fewer than five
    assert lone.served is None
    assert queued.served == pytest.approx(40.0, rel=0.1)


def test_what_this_process_serves_is_averaged_over_the_windows_a_queue_stood_through() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    waiting = _rolling(pacer, clock, 20, per_second=40.0, seconds=5.0)
    assert pacer.served == pytest.approx(40.0, rel=0.05)
    # The database slows to half: a window at the new rate moves the figure half way, not all the way.
    _rolling(pacer, clock, 20, per_second=20.0, seconds=0.7, waiting=waiting)
    assert 25.0 < pacer.served < 35.0


def test_a_pace_below_the_shortest_is_none_and_the_shortest_is_kept_and_told() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    pacer.pace = 1.5 * pacing.MIN_SECONDS
    exchanges(pacer, clock, 0.01, 400)  # calm for 4 s: halved below the shortest pace, so none
    assert pacer.pace == 0.0
    # Ten in flight would ask for 0.04 s: below the shortest, no pace.
    for _ in range(10):
        pacer.started()
    assert pacer.ceiling() == 0.0 and pacer.advice(10_000.0) is None
    held = Pacer(clock, rand=lambda: 0.5)
    held.pace = pacing.MIN_SECONDS
    exchanges(held, clock, 0.8 * pacing.TARGET_SECONDS, 10 * 5, together=10)  # neither quick nor slow: held
    assert held.pace == pacing.MIN_SECONDS
    assert held.ceiling() == pacing.MIN_SECONDS and held.advice(10_000.0) == pacing.MIN_SECONDS


def test_the_pace_is_told_to_the_millisecond() -> None:
    pacer = Pacer(Clock(), rand=lambda: 0.123456789)
    pacer.pace = 10.0
    assert pacer.advice(10_000.0) == 8.494  # 10 s x (0.8 + 0.4 x 0.1235)


def test_the_pace_grows_by_half_at_most_per_adjustment_below_half_a_second_and_within_a_pace_above() -> None:
    """A big fleet queued at a slow process: the floor from its size asks for a long pace at once, but each step is
    limited, so a runner's backlog (claimed for the pace it was told) outlasts the longer pace it is told next."""
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    waiting = [pacer.started(r) for r in range(1000)]
    steps, r = [], 0
    while clock.t < 100.0:
        before = pacer.pace
        clock.t += 0.05
        pacer.finished(waiting.pop(0))
        waiting.append(pacer.started(r % 1000))
        r += 1
        if pacer.pace != before:
            steps.append((before, pacer.pace))
    grown = [(a, b) for a, b in steps if b > a]
    assert len(grown) > 10 and pacer.pace > 20.0
    for before, after in grown:
        base = max(before, pacing.MIN_SECONDS)
        most = base * (pacing.GROWTH ** (pacing.ADJUST_SECONDS / base) if base > pacing.ADJUST_SECONDS else 1.5)
        assert after <= most * (1 + 1e-9)
    # Both regimes were crossed: steps of half from a short pace, and steps within a pace from a long one.
    assert any(a < pacing.ADJUST_SECONDS and b == pytest.approx(max(a, pacing.MIN_SECONDS) * 1.5) for a, b in grown)
    assert any(a > 2.0 and b < a * 1.5 and b == pytest.approx(a * pacing.GROWTH ** (0.5 / a)) for a, b in grown)


def test_runners_are_forgotten_three_of_their_paces_after_their_last_exchange() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    for r in range(10):
        pacer.finished(pacer.started(r))
    clock.t = 10.0
    pacer.finished(pacer.started(10))
    pacer.pace = 20.0  # three paces: 60 s, longer than FLEET_SECONDS
    clock.t = 70.0
    pacer.finished(pacer.started(11))
    # Seen 70 s ago: gone. Seen exactly 60 s ago: still counted. Just seen: counted.
    assert pacer.fleet == 2


def test_runners_returns_are_measured_only_while_this_process_is_overloaded() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.5)
    pacer.pace = 10.0
    told = pacer.advice(10_000.0, runner=1)
    assert told == 10.0
    # Not overloaded: the runner need not come back when told (it talks when it has news), so its return says
    # nothing about how its exchanges spread over the processes.
    clock.t = 30.0
    pacer.finished(pacer.started(1))
    assert pacer.returns.paces == 1.0
