"""Shares at their edges: when an overloaded process starts, moves and ends its rate, each rule played exactly at the
boundary it draws, and the shares and paces it hands out where the fleet or the pace is next to nothing."""

from __future__ import annotations

import math

import pytest

from api import shares
from api.pacing import Pacer
from api.shares import Shares
from tests.pacing.play import Clock
from tests.pacing.test_shares import FLEET, TARGET, _overloaded, _queued_fleet, _window


def _first(asked: int, handled: int, typical: float = 2.0, elapsed: float = 0.5, fleet: float = FLEET) -> Shares:
    """A process's first adjustment: `asked` jobs asked for, `handled` handed out or reported, a queue throughout."""
    s = Shares(60.0, rand=lambda: 0.0)
    s.asked(asked)
    s.handled(handled)
    s.adjust(elapsed, elapsed, typical, TARGET, True, True, 30.0, fleet)
    return s


@pytest.mark.parametrize(("asked", "handled", "typical", "starts"), [
    (100, 10, 2.0, True),
    (100, 10, TARGET, False),  # at the target: not slow
    (5, 2, 2.0, False),  # asked (a fifth of it, averaged from nothing) no more than half of what was handled
    (2, 1, 2.0, False),
    (100, 0, 2.0, False),  # nothing handled: no job is ready, and no share would help
])  # fmt: skip
def test_shares_start_only_when_slow_and_asked_for_more_than_half_of_what_is_handled(
    asked: int, handled: int, typical: float, starts: bool
) -> None:  # fmt: skip
    assert (_first(asked, handled, typical).rate is not None) is starts


def test_one_slow_runner_handed_next_to_nothing_still_gets_a_share_at_the_longest_pace() -> None:
    s = _first(100, 2, elapsed=10.0, fleet=1)  # 0.2 jobs a second handled
    assert s.rate == pytest.approx(shares.SHARE_JOBS * 1 / 60.0)


def test_after_a_long_stall_the_rate_starts_from_what_was_handled_lately_not_from_the_stall_alone() -> None:
    s = Shares(60.0, rand=lambda: 0.0)
    s.asked(10_000)
    s.handled(100)
    s.adjust(0.5, 0.5, 0.1, TARGET, True, True, 30.0, 10)  # 200 jobs a second, quickly: no shares
    assert s.rate is None
    s.asked(600_000)
    s.handled(600)
    s.adjust(60.5, 60.0, 2.0, TARGET, True, True, 30.0, 10)  # a minute with a queue throughout: 10 a second
    # Handled lately: 200, moved a fifth of the way to 10; half of that.
    assert s.rate == pytest.approx((200.0 + shares.SMOOTHING * (10.0 - 200.0)) / 2)


def test_shares_do_not_end_at_the_first_adjustment_without_a_queue_at_any_hour() -> None:
    s = Shares(60.0, rand=lambda: 0.0)
    _window(s, 1000.0, 1000, 100, typical=0.1)
    _window(s, 1000.5, 1000, 100, typical=2.0)
    assert s.rate is not None
    _window(s, 1001.0, 1000, 100, typical=0.05, queued=False)
    assert s.rate is not None


def test_a_fleet_that_asks_for_exactly_the_rate_for_a_whole_pace_ends_the_shares() -> None:
    s = _overloaded()
    s.rate = s.asked_rate = 20.0
    s.handled_rate = 0.0
    t = 1.0
    while t <= 31.0:
        _window(s, t, asked=10, handed=0, typical=0.05)  # 20 jobs a second asked: no more than the rate
        t += 0.5
    assert s.rate is None


def test_shares_end_exactly_a_pace_after_the_fleet_last_asked_for_more() -> None:
    s = _overloaded()  # overloaded at 0.5, the fleet asking for more than the rate
    s.asked_rate = 0.0
    t = 1.0
    while t < 30.5:
        _window(s, t, asked=0, handed=100, typical=0.05)
        assert s.rate is not None
        t += 0.5
    _window(s, 30.5, asked=0, handed=100, typical=0.05)
    assert s.rate is None


@pytest.mark.parametrize("typical", [shares.QUICK * TARGET, 0.9 * TARGET])
def test_exchanges_between_quick_and_the_target_hold_the_rate(typical: float) -> None:
    s = _overloaded()
    rate = s.rate
    _window(s, 1.0, 3000, 100, typical=typical)
    _window(s, 1.5, 3000, 100, typical=typical)
    assert s.rate == rate


def test_exchanges_at_the_target_are_not_slow_and_do_not_put_off_the_next_cut() -> None:
    s = _overloaded()  # lowered last at 0.5
    rate = s.rate
    _window(s, 2.0, 3000, 100, typical=TARGET)
    assert s.rate == rate
    _window(s, 2.5, 3000, 100, typical=2.0)  # slow, one exchange time (2 s) after the rate was set: cut
    assert s.rate == pytest.approx(rate * shares.DECREASE)


def test_the_rate_rises_while_the_fleet_takes_exactly_its_used_part_and_not_below() -> None:
    s = _overloaded()
    s.rate, s.handled_rate = 100.0, 140.0
    # 140 jobs a second handled (70 handed out, 70 reported): the fleet takes 70% of the rate, enough to raise it.
    _window(s, 1.0, 3000, 35, typical=0.05)
    assert s.rate == pytest.approx(100.0 + shares.RISE * FLEET)
    # Now it takes 58% of the higher rate: held until it takes more.
    _window(s, 1.5, 3000, 35, typical=0.05)
    assert s.rate == pytest.approx(100.0 + shares.RISE * FLEET)


def test_the_pace_of_a_process_that_is_not_overloaded_or_hands_out_nothing_is_none() -> None:
    s = Shares(60.0)
    assert s.pace(FLEET) == 0.0
    s.rate = 0.0
    assert s.pace(FLEET) == 0.0
    s.rate = 0.5  # half a job a second, to one runner: 16 jobs every 32 s
    assert s.pace(1) == pytest.approx(shares.SHARE_JOBS / 0.5)


def test_a_share_needs_a_fleet_and_a_pace_however_small() -> None:
    s = Shares(60.0, rand=lambda: 0.0)
    s.rate = 10.0
    assert s.share(30.0, 0, 0) is None  # no runner paced here yet: all it asks
    assert s.share(0.0, FLEET, 0) is None  # told no pace: all it asks
    assert s.share(30.0, 1, 300) == 300  # the whole rate, to the one runner there is
    assert s.share(0.8, 1, 8) == 8  # 10 jobs a second for 0.8 s


def test_an_overloaded_pacer_rounds_its_shares_with_its_own_draws() -> None:
    clock = Clock()
    pacer = Pacer(clock, rand=lambda: 0.0)
    _queued_fleet(pacer, clock)
    rate = pacer.shares.rate
    assert rate is not None
    pacer.shares.rate = rate = 7.7 * pacer.fleet / pacer.pace  # an equal part of 7.7 jobs
    got = {pacer.share(40, 0) for _ in range(50)}
    assert got == {math.floor(1.5 * 7.7)}  # back with nothing: half as much again, rounded by the draw (0: down)
