"""A clock the pacing tests move by hand, and exchanges played on it, so that every adjustment happens at a time
the test chose."""

from __future__ import annotations

from api.pacing import Pacer


class Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def exchanges(pacer: Pacer, clock: Clock, seconds_each: float, count: int, together: int = 1) -> None:
    """`count` exchanges of `seconds_each`, `together` of them in flight at a time."""
    for _ in range(0, count, together):
        started = [pacer.started() for _ in range(together)]
        clock.t += seconds_each
        for t in started:
            pacer.finished(t)
