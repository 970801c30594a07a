"""Shares: what an overloaded API process hands each runner, so that its answers stay quick.

A fleet can ask for more jobs a second than the database can hand out and take back (a
thousand runners of 4 slots and 5 s jobs ask for 800). Pacing alone does not stop that:
each runner keeps a backlog that covers its pace, so a longer pace only makes each
exchange bigger, and the requests queue at the server (tens of seconds, until leases
lapse). So once this process is overloaded (its exchanges are slow while a queue stands,
and runners ask for more than it hands out), it hands out jobs at a `rate` of its own and
splits that rate among the runners it paces: a runner gets its equal part,
`rate x pace / fleet` jobs an exchange, whatever it asks for (`share`). The jobs handed out
now are the jobs reported a pace later, so the rate decides nearly all the work that
reaches the database.

- **The rate starts** at half of what this process handled lately at best (each job
  handed out is also reported, at about the same cost), and no lower than gives each
  runner `SHARE_JOBS` at the longest pace. Shares start only in a saturated adjustment (a
  queue stood throughout, and more than a handful were answered), so what it handled is
  what this process hands out at full stretch. A burst that ends is no overload: a small
  fleet's first claims arrive at once, its runners run those jobs and come back together,
  and an adjustment that spanned that lull, or saw one answer while a transaction of the
  rest committed, once set the rate from next to nothing (50 runners paced at 30 to 60 s,
  served at a tenth to a half of their demand while the database sat idle).
- **It is steered by the exchanges' time** (arrival to answer, the median of each
  adjustment): up by `RISE` jobs a second per runner while exchanges are quick and the
  fleet takes what it is given; down in proportion while they are slower than the target,
  once per exchange time at most (what is timed meanwhile arrived before). Up in steps,
  down in proportion, as congestion control does: two API processes on one database see
  the same times and so come to hand out alike.
- **Waves die out.** A runner that reports more than its equal part (jobs handed out while
  the rate was higher, or a wave of runners told the same pace) is handed half that much
  less, so a wave is halved at each return instead of coming back whole a pace later.
- **The pace follows from the rate**: each runner should bring back about `SHARE_JOBS`
  jobs per exchange, so that what an exchange costs whatever it carries stays a small part
  of it (`pace`).
- **Overload ends** once the fleet has asked for no more than the rate for a whole pace
  (fewer runners, or a faster database), or once no queue has stood for a whole pace (the
  fleet left: a client that keeps asking for more than the rate then waits behind no one,
  and would only be held back): every runner gets all it asks for again.
"""

from __future__ import annotations

import math
import random

import msgspec

from torc_client.contract import ClaimRequest

#: Jobs an overloaded process hands a runner per exchange, about: the pace is set so that each gets this many.
SHARE_JOBS = 16
#: How the rate moves each adjustment: up by RISE jobs a second per runner while exchanges are quick, down by a
#: part (DECREASE at most) while they are slow. Up in steps, down in proportion: two API processes on one database
#: see the same exchange times, and so end up handing out alike whatever they started from.
RISE = 0.02
DECREASE = 0.7
#: The rate is lowered once per exchange time at most, and no more often than this: the exchanges timed meanwhile
#: arrived before it was lowered.
LOWER_SECONDS = 1.0
#: Exchanges quicker than this part of the target raise the rate.
QUICK = 0.8
#: How fast the best hand-out rate seen is forgotten (per second).
PEAK_DECAY = 0.95
#: The rate is raised only while the fleet takes at least this part of it (runners come back a pace after the rate
#: rose: raising it blindly meanwhile would hand out a wave when they do).
USED = 0.7
#: Weight of the latest adjustment in the rates measured.
SMOOTHING = 0.2
#: Shares end once no queue has stood for a pace, and no sooner than this (a short pace is a small fleet's, whose
#: exchanges may not overlap in every adjustment even while they overload this process).
UNQUEUED_SECONDS = 5.0


class Shares:
    """The hand-out rate of one API process while it is overloaded (`rate`; None: not overloaded)."""

    def __init__(self, longest_pace: float, rand=random.random) -> None:
        self.longest_pace, self.rand = longest_pace, rand
        self.rate: float | None = None
        #: Jobs a second asked for (what fits now and the backlogs), and handled (handed out, and reported), lately.
        self.asked_rate = 0.0
        self.handled_rate: float | None = None
        self._asked = 0
        self._handled = 0
        self._lowered = self._content_since = self._queued_at = 0.0
        self._peak = 0.0

    def asked(self, jobs: int) -> None:
        self._asked += jobs

    def handled(self, jobs: int) -> None:
        """Jobs handed out or reported in one exchange."""
        self._handled += jobs

    def adjust(self, now: float, elapsed: float, typical: float, target: float, queued: bool, saturated: bool,
               pace: float, fleet: float) -> None:  # fmt: skip
        """Once an adjustment (at `now`, `elapsed` seconds since the last): `typical` is the exchanges' median time,
        `target` what it should stay under, `queued` whether a queue stood at some point and `saturated` whether this
        process worked at full stretch (a queue throughout, answered), `pace` the pace told lately, `fleet` the
        runners paced."""
        asked, handled = self._asked / elapsed, self._handled / elapsed
        self._asked = self._handled = 0
        self.asked_rate += SMOOTHING * (asked - self.asked_rate)
        last = handled if self.handled_rate is None else self.handled_rate
        self.handled_rate = last + SMOOTHING * (handled - last)
        self._peak = max(self._peak * PEAK_DECAY**elapsed, handled)
        if self.rate is None:
            if typical > target and saturated and self.asked_rate > self.handled_rate / 2 > 0:
                # Overloaded. Each job handed out is reported too, at about the same cost: hand out half of what this
                # process handled lately at best, and no less than gives each runner its share at the longest pace.
                least = SHARE_JOBS * fleet / self.longest_pace
                self.rate = max(self.handled_rate / 2, self._peak / 2, least)
                self._lowered = self._content_since = self._queued_at = now
            return
        if queued:
            self._queued_at = now
        elif now - self._queued_at >= max(pace, UNQUEUED_SECONDS):
            # No queue for a whole pace: the fleet that caused the shares has left (every paced runner came back
            # meanwhile, and its exchanges overlapped no more than a handful). What is left waits behind no one.
            self.rate = None
            return
        if self.asked_rate > self.rate:
            self._content_since = now
        if typical > target:
            # Lowered once an exchange's time at most: the exchanges timed meanwhile arrived before the rate was
            # lowered (a queue that stood then drains), and lowering again for them would starve the fleet.
            if now - self._lowered >= max(typical, LOWER_SECONDS):
                self.rate *= max(DECREASE, math.sqrt(target / typical))
                self._lowered = now
        elif typical < QUICK * target:
            if now - self._content_since >= pace:
                # For a whole pace (every runner came back), the fleet asked for no more than it was handed: no shares.
                self.rate = None
            elif self.handled_rate / 2 >= USED * self.rate:  # raised only once the fleet takes what it is given
                self.rate += RISE * fleet

    def share(self, pace: float, fleet: float, reported: int) -> int | None:
        """The most jobs to hand a runner told `pace` in a fleet of `fleet` that reports `reported` outcomes now
        (None: all it asks).

        Its equal part of the rate, less half of what it reports beyond that: a runner that
        brings back a wave (what it was handed when the rate was higher) is handed less, so
        the wave is halved at each of its returns instead of coming back whole a pace later.
        Rounded at random, up or down in proportion, so that small shares add up to the rate.
        """
        if self.rate is None or fleet <= 0 or pace <= 0:
            return None
        equal = self.rate * pace / fleet
        return max(0, math.floor(equal - (reported - equal) / 2 + self.rand()))

    def pace(self, fleet: float) -> float:
        """The pace at which each runner of `fleet` brings back about `SHARE_JOBS` jobs (0: not overloaded)."""
        if self.rate is None or self.rate <= 0:
            return 0.0
        return SHARE_JOBS * fleet / self.rate


def trimmed(req: ClaimRequest, share: int | None) -> ClaimRequest:
    """`req`, asking for no more than `share` jobs (None: as it is): what fits now first, then the backlog."""
    if share is None or req.limit + req.backlog <= share:
        return req
    limit = min(req.limit, share)
    return msgspec.structs.replace(req, limit=limit, backlog=min(req.backlog, share - limit))
