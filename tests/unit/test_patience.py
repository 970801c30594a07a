"""How a runner waits out a server or database that does not answer (no server needed)."""

from __future__ import annotations

import time

import pytest

from runner.exchange import patiently
from torc_client.core.errors import ServerUnavailable


class Flaky:
    """Unavailable for the first `failures` calls, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise ServerUnavailable("http://server", "database down", database=True)
        return "answer"


def test_an_outage_shorter_than_the_wait_is_ridden_out_with_growing_pauses() -> None:
    said: list[str] = []
    assert patiently(Flaky(3), say=said.append, stopping=lambda: False, wait_seconds=60, first_retry=0.01) == "answer"
    assert len(said) == 3 and all("giving up in 1.0 min" in line for line in said)
    assert all("cannot reach its database" in line for line in said)


def test_an_outage_longer_than_the_wait_gives_up_with_the_reason() -> None:
    flaky = Flaky(10**6)
    started = time.monotonic()
    with pytest.raises(ServerUnavailable, match="cannot reach its database"):
        patiently(flaky, say=lambda _: None, stopping=lambda: False, wait_seconds=0.3, first_retry=0.05)
    assert time.monotonic() - started < 2 and 3 <= flaky.calls <= 8


def test_a_stopping_runner_does_not_wait() -> None:
    flaky = Flaky(10**6)
    with pytest.raises(ServerUnavailable):
        patiently(flaky, say=lambda _: None, stopping=lambda: True, wait_seconds=60)
    assert flaky.calls == 1
