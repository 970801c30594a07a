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
fleet is paced proportionally longer, rather than by trial while its exchanges queue. While
exchanges are calm the floor only holds the pace where it is: nothing queues, and a rate
measured in a burst (a fleet's first claims, all at once) must not tell a small fleet to
wait longer and longer.

The pace grows quickly, but by half at most within one pace (a runner's backlog covers
that much: `runner.pace.PACE_COVER`), whatever asks for more. It shrinks slowly: a runner
told a pace comes back only that much later, so what a change does is seen a pace after
it, and the pace is shortened only once a whole pace has passed in calm, and then halved.
Shortened sooner, the lull between two waves of a paced fleet read as an idle server and
the pace collapsed under the next wave (measured with 250 runners: 17 s, then 8 s, 1 s and
0.5 s within seconds, and back up).

Several API processes (`--workers N`, or several servers on one database) each see only
part of a runner's exchanges: a paced runner's connection is closed while it waits, and its
next request reaches whichever process accepts it. So each process also measures how many
of the paces it tells pass before a runner comes back to it (`Returns`: 1 for a lone
process, about N for N of them) and counts a runner as that part of one (`fleet`). Counted
whole, a fleet shared by two processes was handed half of what each meant to hand out.

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
#: How long it takes for half of what was seen of runners' returns to be forgotten (`Returns`: long enough for tens
#: of returns of a fleet paced at a minute), and the most paces one return counts for (a runner back after a long
#: silence says little about how the fleet spreads).
RETURNS_HALF_LIFE = 10.0
MOST_PACES_BETWEEN = 8.0
#: With no more exchanges than this in flight at once, nothing waits behind anything: slow answers then come from
#: the host, not from a queue, and pacing would only hold a lone runner back.
QUIET_IN_FLIGHT = 4


class Returns:
    """How many of the paces this process tells pass before a runner comes back to it (`paces`): about 1 while every
    exchange reaches this process, about N while a fleet's exchanges spread over N processes. Measured on the runners
    an overloaded process paces (`told`), which want jobs and so come back as soon as their pace allows."""

    def __init__(self) -> None:
        self.paces = 1.0
        #: Each paced runner's last answer here: when, and the pace it was told (jitter included).
        self._told: dict[int, tuple[float, float]] = {}
        #: Seconds that passed before paced runners came back, and the paces they had been told: sums that fade
        #: by half every `RETURNS_HALF_LIFE` seconds.
        self._passed = self._paced = 0.0

    def told(self, runner: int, now: float, pace: float | None) -> None:
        if pace:
            self._told[runner] = (now, pace)
        else:
            self._told.pop(runner, None)

    def back(self, runner: int, now: float) -> None:
        """`runner` is back here; what passed beyond the pace it was told went to other processes."""
        last = self._told.pop(runner, None)
        if last is not None:
            self._passed += min(now - last[0], MOST_PACES_BETWEEN * last[1])
            self._paced += last[1]

    def adjust(self, elapsed: float) -> None:
        if self._paced:
            self.paces = max(self._passed / self._paced, 1.0)
            fade = 0.5 ** (elapsed / RETURNS_HALF_LIFE)
            self._passed *= fade
            self._paced *= fade

    def forget(self, now: float) -> None:
        """Runners not back within `MOST_PACES_BETWEEN` of their paces have left, or talk to other processes only."""
        self._told = {r: (t, p) for r, (t, p) in self._told.items() if now - t <= MOST_PACES_BETWEEN * p}


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
        self.returns = Returns()

    def started(self, runner: int | None = None) -> float:
        if runner is not None:
            self._seen[runner] = self.clock()
            self.returns.back(runner, self._seen[runner])
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
        self.returns.adjust(elapsed)
        if not times:
            return
        shares = self.shares
        typical = times[len(times) // 2]  # the median: one slow exchange does not move the fleet
        # Saturated: a queue stood throughout, and more than a handful were answered meanwhile, so what was handled is
        # what this process hands out at full stretch (one answer while a transaction of the rest commits is not).
        saturated = trough > QUIET_IN_FLIGHT and len(times) > QUIET_IN_FLIGHT
        shares.adjust(now, elapsed, typical, TARGET_SECONDS, peak > QUIET_IN_FLIGHT, saturated, self.pace, self.fleet)
        if shares.rate is not None:  # overloaded: the rate keeps the exchanges quick, the pace keeps them big
            self.typical = typical
            self.pace = min(max(shares.pace(self.fleet), MIN_SECONDS), MAX_SECONDS)
            self._calm_since = now
            return
        if trough > QUIET_IN_FLIGHT:  # a queue stood throughout: the answers came as fast as this process gives them
            rate = len(times) / elapsed
            self.served = rate if self.served is None else 0.5 * (self.served + rate)
        self.typical = typical
        pace = self.pace
        floor = self.fleet_floor()
        if typical > TARGET_SECONDS and peak > QUIET_IN_FLIGHT:
            wanted = max(pace, MIN_SECONDS) * typical / TARGET_SECONDS  # the growth's limit, below, caps it
            self._calm_since = now
        elif typical < TARGET_SECONDS / 2 or peak <= QUIET_IN_FLIGHT:
            # Calm: the floor holds the pace up, and does not raise it (nothing queues; a floor measured in a burst of
            # first claims would otherwise tell a small fleet to wait longer and longer).
            floor = min(floor, pace)
            wanted = pace
            if now - self._calm_since >= max(pace, self.fleet_floor()):  # every runner came back, calmly
                wanted = pace * SHRINK
                if self.served is not None:  # and this process answered all of them well: it can serve more
                    self.served /= SHRINK
                self._calm_since = now
        else:
            wanted = pace
            self._calm_since = now  # neither slow nor calm: hold the pace
        wanted = max(wanted, floor)
        if wanted > pace:
            # Grown by half at most within one pace: a runner told a pace claims for it (`runner.pace`) and must not
            # run dry before its next request because the pace grew meanwhile.
            base = max(pace, MIN_SECONDS)
            wanted = min(wanted, base * GROWTH ** (ADJUST_SECONDS / base) if base > ADJUST_SECONDS else base * 1.5)
        self.pace = 0.0 if wanted < MIN_SECONDS else min(wanted, MAX_SECONDS)

    @property
    def fleet(self) -> float:
        """Runners that exchanged here lately, each counted as the part of its exchanges that reach this process."""
        return len(self._seen) / self.returns.paces

    def fleet_floor(self) -> float:
        """The shortest pace at which this fleet's exchanges arrive no faster than this process serves them."""
        if not self.served:
            return 0.0
        return self.fleet / (UTILISATION * self.served)

    def _forget(self, now: float) -> None:
        # A runner whose exchanges spread over several processes comes back here less often: wait for it that much
        # longer, or the fleet would look smaller than it is.
        window = max(FLEET_SECONDS, 3 * self.pace * self.returns.paces)
        if self._seen and now - min(self._seen.values()) > window:
            self._seen = {r: t for r, t in self._seen.items() if now - t <= window}
        self.returns.forget(now)

    def share(self, asked: int, reported: int) -> int | None:
        """The most jobs to hand now to a runner that asks for `asked` and reports `reported` outcomes (None: all it
        asks; `api.shares`)."""
        self.shares.asked(asked)
        return self.shares.share(self.pace, self.fleet, reported)

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

    def advice(self, lease_seconds: float, runner: int | None = None) -> float | None:
        """The pace to hand out now to a runner leased for `lease_seconds` (from `lease`, when its exchange arrived):
        at most a `LEASE_PACES`th of it, whatever happened meanwhile (None: no pace, talk when there is news)."""
        jitter = self.jitter
        pace = min(self.ceiling(), lease_seconds / LEASE_PACES / (1 + jitter))
        told = None if pace < MIN_SECONDS else round(pace * (1 - jitter + 2 * jitter * self.rand()), 3)
        if runner is not None:  # measured while overloaded only: then every runner wants jobs and comes back when told
            self.returns.told(runner, self.clock(), told if self.shares.rate is not None else None)
        return told


#: This process's pacer (each API process paces on its own).
PACER = Pacer()
