"""Pacing: how long this API process tells each runner to wait before its next request.

Every claim answer carries a pace (`ClaimResponse.next_exchange_seconds`). It comes from
what this process sees of its own load, with no shared state: the time its exchanges
take (arrival to answer) and how many are in flight. While exchanges answer well within
`TARGET_SECONDS`, or hardly any are in flight at once, the pace shrinks towards nothing (an idle server is asked nothing: a
runner talks as soon as it has news, as a lone runner of short jobs must); when they take
longer, it grows, so a growing fleet makes fewer, larger exchanges instead of a queue.
A paced runner's lease is made at least four paces long (`lease`), so it always renews in
time however long the pace; the pace is jittered, so runners told at the same moment do not
come back together. Each API process paces the runners it answers; a runner obeys the last
answer it got.

It also has a floor from the fleet's size (Little's law): with N runners each coming back
once a pace, N / pace exchanges a second arrive, and they must stay below what this process
answers in a second while busy (measured only over windows in which a queue stood
throughout: `served`). So the pace tends to at least N / (UTILISATION x served): a bigger
fleet is paced proportionally longer, rather than by trial while its exchanges queue.

The pace grows quickly, but by half at most within one pace (a runner's backlog covers
that much: `runner.pace.PACE_COVER`), whatever asks for more. It shrinks slowly: a runner
told a pace comes back only that much later, so what a change does is seen a pace after
it, and the pace is shortened only once a whole pace has passed in calm, and then halved.
Shortened sooner, the lull between two waves of a paced fleet read as an idle server and
the pace collapsed under the next wave (measured with 250 runners: 17 s, then 8 s, 1 s and
0.5 s within seconds, and back up).

A process whose fleet asks for more jobs than it can hand out is overloaded; then its
shares (`api.shares`) set both what each runner gets and the pace: the pace at which each
brings back about `api.shares.SHARE_JOBS` jobs, told with a wider jitter
(`SHARED_JITTER`) so that runners told at once come back spread over a whole pace.
"""

from __future__ import annotations

import random
import time

from api.shares import Shares

#: Exchange time (arrival to answer) the pace aims at.
TARGET_SECONDS = 0.5
#: Shortest pace worth asking for; below it, none.
MIN_SECONDS = 0.1
#: Longest pace, whatever the load.
MAX_SECONDS = 60.0
#: A paced runner's lease lasts this many of its paces (jittered) at least: the pace grows by half at most before its
#: answer.
LEASE_PACES = 4
#: How often the pace is adjusted.
ADJUST_SECONDS = 0.5
#: How much a pace may grow within one pace: runners claim enough to cover this much (`runner.pace.PACE_COVER`).
GROWTH = 1.5
#: What a pace is multiplied by once a whole pace has passed in calm.
SHRINK = 0.5
#: A pace at least this long per exchange in flight (reacts to a burst before its answers are timed).
PER_IN_FLIGHT_SECONDS = 0.004
#: Most of its measured rate this process is asked to serve (the rest absorbs bursts).
UTILISATION = 0.7
#: A runner counts towards the fleet until this long after its last exchange, or three paces if longer (it comes
#: back within a pace and its jitter, and its queue).
FLEET_SECONDS = 30.0
#: Spread of the pace handed out: x (1 - JITTER .. 1 + JITTER).
JITTER = 0.2
#: Spread of the pace handed out while overloaded (`api.shares`): wide enough that runners told at once come back
#: spread over a whole pace, not as a wave.
SHARED_JITTER = 0.5
#: With no more exchanges than this in flight at once, nothing waits behind anything: slow answers then come from
#: the host, not from a queue, and pacing would only hold a lone runner back.
QUIET_IN_FLIGHT = 4


class Pacer:
    """The pace of one API process: `started()` when an exchange arrives, `finished(t)` when it is answered."""

    def __init__(self, clock=time.monotonic, rand=random.random) -> None:
        self.clock, self.rand = clock, rand
        self.pace = 0.0
        self.in_flight = 0
        self._peak = 0
        #: The fewest exchanges in flight since the last adjustment: above `QUIET_IN_FLIGHT`, a queue stood throughout.
        self._trough = 0
        self._window: list[float] = []
        self._adjusted = clock()
        #: Since when exchanges have been calm (fast, or hardly any in flight at once).
        self._calm_since = self._adjusted
        #: Each runner's (compute node's) last exchange here, and the exchanges a second this process answers when
        #: a queue stands (None: not measured yet).
        self._seen: dict[int, float] = {}
        self.served: float | None = None
        #: How long exchanges took here lately (the median, arrival to answer).
        self.typical = 0.0
        self.shares = Shares(MAX_SECONDS, rand)

    def started(self, runner: int | None = None) -> float:
        if runner is not None:
            self._seen[runner] = self.clock()
        self.in_flight += 1
        self._peak = max(self._peak, self.in_flight)
        return self.clock()

    def finished(self, started: float) -> None:
        self.in_flight -= 1
        self._trough = min(self._trough, self.in_flight)
        now = self.clock()
        self._window.append(now - started)
        if now - self._adjusted >= ADJUST_SECONDS:
            self._adjust(now)

    def _adjust(self, now: float) -> None:
        times = sorted(self._window)
        peak, self._peak = self._peak, self.in_flight
        trough, self._trough = self._trough, self.in_flight
        elapsed = now - self._adjusted
        self._window, self._adjusted = [], now
        self._forget(now)
        if not times:
            return
        shares = self.shares
        typical = times[len(times) // 2]  # the median: one slow exchange does not move the fleet
        shares.adjust(now, elapsed, typical, TARGET_SECONDS, peak > QUIET_IN_FLIGHT, self.pace, len(self._seen))
        if shares.rate is not None:  # overloaded: the rate keeps the exchanges quick, the pace keeps them big
            self.typical = typical
            self.pace = min(max(shares.pace(len(self._seen)), MIN_SECONDS), MAX_SECONDS)
            self._calm_since = now
            return
        if trough > QUIET_IN_FLIGHT:  # a queue stood throughout: the answers came as fast as this process gives them
            rate = len(times) / elapsed
            self.served = rate if self.served is None else 0.5 * (self.served + rate)
        self.typical = typical
        pace = self.pace
        if typical > TARGET_SECONDS and peak > QUIET_IN_FLIGHT:
            wanted = max(pace, MIN_SECONDS) * min(1.5, typical / TARGET_SECONDS)
            self._calm_since = now
        elif typical < TARGET_SECONDS / 2 or peak <= QUIET_IN_FLIGHT:
            wanted = pace
            if now - self._calm_since >= max(pace, self.fleet_floor()):  # every runner came back, calmly
                wanted = pace * SHRINK
                if self.served is not None:  # and this process answered all of them well: it can serve more
                    self.served /= SHRINK
                self._calm_since = now
        else:
            wanted = pace
            self._calm_since = now  # neither slow nor calm: hold the pace
        wanted = max(wanted, self.fleet_floor())
        if wanted > pace:
            # Grown by half at most within one pace: a runner told a pace claims for it (`runner.pace`) and must not
            # run dry before its next request because the pace grew meanwhile.
            base = max(pace, MIN_SECONDS)
            wanted = min(wanted, base * GROWTH ** (ADJUST_SECONDS / base) if base > ADJUST_SECONDS else base * 1.5)
        self.pace = 0.0 if wanted < MIN_SECONDS else min(wanted, MAX_SECONDS)

    @property
    def fleet(self) -> int:
        """Runners that exchanged here lately."""
        return len(self._seen)

    def fleet_floor(self) -> float:
        """The shortest pace at which this fleet's exchanges arrive no faster than this process serves them."""
        if not self.served:
            return 0.0
        return len(self._seen) / (UTILISATION * self.served)

    def _forget(self, now: float) -> None:
        window = max(FLEET_SECONDS, 3 * self.pace)
        if self._seen and now - min(self._seen.values()) > window:
            self._seen = {r: t for r, t in self._seen.items() if now - t <= window}

    def share(self, asked: int, reported: int) -> int | None:
        """The most jobs to hand now to a runner that asks for `asked` and reports `reported` outcomes (None: all it
        asks; `api.shares`)."""
        self.shares.asked(asked)
        return self.shares.share(self.pace, len(self._seen), reported)

    def handled(self, jobs: int) -> None:
        """Jobs handed out and reported in one exchange."""
        self.shares.handled(jobs)

    @property
    def jitter(self) -> float:
        return SHARED_JITTER if self.shares.rate is not None else JITTER

    def ceiling(self) -> float:
        """The pace now, before the jitter (0: none)."""
        pace = max(self.pace, self.in_flight * PER_IN_FLIGHT_SECONDS)
        return 0.0 if pace < MIN_SECONDS else min(pace, MAX_SECONDS)

    def lease(self, lease_seconds: float) -> float:
        """The lease to give a runner that exchanges now: the server's, or `LEASE_PACES` of the longest pace it may be
        told, whichever is longer. A paced runner renews only when the pace lets it talk, so its lease must outlast
        the pace (with its jitter, the wider one of an overloaded process included, and its growth before the answer
        is sent)."""
        return max(lease_seconds, LEASE_PACES * (1 + SHARED_JITTER) * self.ceiling() + self.typical)

    def advice(self, lease_seconds: float) -> float | None:
        """The pace to hand out now to a runner leased for `lease_seconds` (from `lease`, when its exchange arrived):
        at most a `LEASE_PACES`th of it, whatever happened meanwhile (None: no pace, talk when there is news)."""
        jitter = self.jitter
        pace = min(self.ceiling(), lease_seconds / LEASE_PACES / (1 + jitter))
        if pace < MIN_SECONDS:
            return None
        return round(pace * (1 - jitter + 2 * jitter * self.rand()), 3)


#: This process's pacer (each API process paces on its own).
PACER = Pacer()
