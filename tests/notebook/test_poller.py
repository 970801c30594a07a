"""The poller: one thread, ended by its tick, by stop(), and never by an error."""

from __future__ import annotations

import threading

from torc_client.notebook.poller import Poller

WAIT = 10.0


def test_poller_stops_when_its_tick_says_the_workflow_ended() -> None:
    ticks: list[int] = []
    poller = Poller(lambda: ticks.append(1) or len(ticks) < 3, interval=0.01)
    poller.start()
    poller.join(WAIT)
    assert not poller.running and len(ticks) == 3


def test_stop_ends_a_poller_that_would_go_on_forever() -> None:
    ticked = threading.Event()
    poller = Poller(lambda: ticked.set() or True, interval=0.01)
    poller.start()
    assert ticked.wait(WAIT)
    poller.stop()
    assert not poller.running


def test_errors_are_reported_and_polling_goes_on() -> None:
    errors: list[Exception] = []
    calls: list[int] = []

    def tick() -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("server down")
        return False

    poller = Poller(tick, interval=0.001, on_error=errors.append)
    poller.start()
    poller.join(WAIT)
    assert [str(e) for e in errors] == ["server down"] and len(calls) == 2


def test_start_while_running_is_a_no_op_and_start_after_the_end_polls_again() -> None:
    release = threading.Event()
    calls: list[str] = []

    def tick() -> bool:
        calls.append(threading.current_thread().name)
        release.wait(WAIT)
        return False

    poller = Poller(tick, interval=0.01, name="p")
    poller.start()
    poller.start()
    release.set()
    poller.join(WAIT)
    assert calls == ["p"]
    poller.start()
    poller.join(WAIT)
    assert calls == ["p", "p"] and not poller.running
