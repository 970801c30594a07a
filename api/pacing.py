"""Pacing: how long this API process tells each runner to wait before its next request.

Every claim answer carries a pace (`ClaimResponse.next_exchange_seconds`). It comes from
what this process sees of its own load, with no shared state: the time its exchanges
take (arrival to answer) and how many are in flight. While exchanges answer well within
`TARGET_SECONDS`, or hardly any are in flight at once, the pace shrinks towards nothing (an idle server is asked nothing: a
runner talks as soon as it has news, as a lone runner of short jobs must); when they take
longer, it grows, so a growing fleet makes fewer, larger exchanges instead of a queue.
It is bounded by a quarter of the lease, so a paced runner always renews in time, and
jittered, so runners told at the same moment do not come back together. Each API process
paces the runners it answers; a runner obeys the last answer it got.

It grows at once and shrinks slowly. A runner told a pace comes back only that much later,
so what a change does is seen a pace after it: the pace is shortened only once a whole pace
has passed in calm, and then halved. Shortened sooner, the lull between two waves of a paced
fleet read as an idle server and the pace collapsed under the next wave (measured with 250
runners: 17 s, then 8 s, 1 s and 0.5 s within seconds, and back up).
"""

from __future__ import annotations

import random
import time

#: Exchange time (arrival to answer) the pace aims at.
TARGET_SECONDS = 0.5
#: Shortest pace worth asking for; below it, none.
MIN_SECONDS = 0.1
#: Longest pace, whatever the load (it is also capped at a quarter of the lease).
MAX_SECONDS = 20.0
#: How often the pace is adjusted.
ADJUST_SECONDS = 0.5
#: What a pace is multiplied by once a whole pace has passed in calm.
SHRINK = 0.5
#: A pace at least this long per exchange in flight (reacts to a burst before its answers are timed).
PER_IN_FLIGHT_SECONDS = 0.004
#: Spread of the pace handed out: x (1 - JITTER .. 1 + JITTER).
JITTER = 0.2
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
        self._window: list[float] = []
        self._adjusted = clock()
        #: Since when exchanges have been calm (fast, or hardly any in flight at once).
        self._calm_since = self._adjusted

    def started(self) -> float:
        self.in_flight += 1
        self._peak = max(self._peak, self.in_flight)
        return self.clock()

    def finished(self, started: float) -> None:
        self.in_flight -= 1
        now = self.clock()
        self._window.append(now - started)
        if now - self._adjusted >= ADJUST_SECONDS:
            self._adjust(now)

    def _adjust(self, now: float) -> None:
        times = sorted(self._window)
        peak, self._peak = self._peak, self.in_flight
        self._window, self._adjusted = [], now
        if not times:
            return
        typical = times[len(times) // 2]  # the median: one slow exchange does not move the fleet
        if typical > TARGET_SECONDS and peak > QUIET_IN_FLIGHT:
            self.pace = min(MAX_SECONDS, max(self.pace, MIN_SECONDS) * min(1.5, typical / TARGET_SECONDS))
            self._calm_since = now
        elif typical < TARGET_SECONDS / 2 or peak <= QUIET_IN_FLIGHT:
            if now - self._calm_since >= self.pace:  # every runner has come back under this pace, calmly
                self.pace *= SHRINK
                self._calm_since = now
                if self.pace < MIN_SECONDS:
                    self.pace = 0.0
        else:
            self._calm_since = now  # neither slow nor calm: hold the pace

    def advice(self, lease_seconds: float) -> float | None:
        """The pace to hand out now (None: none, talk when there is news)."""
        pace = max(self.pace, self.in_flight * PER_IN_FLIGHT_SECONDS)
        if pace < MIN_SECONDS:
            return None
        pace = min(pace, MAX_SECONDS, lease_seconds / 4)
        return round(pace * (1 - JITTER + 2 * JITTER * self.rand()), 3)


#: This process's pacer (each API process paces on its own).
PACER = Pacer()
