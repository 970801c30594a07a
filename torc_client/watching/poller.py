"""One background thread that refreshes a face until the workflow ends or the face closes."""

from __future__ import annotations

import threading
from collections.abc import Callable

#: Longest wait between attempts while the server keeps failing.
MAX_BACKOFF_SECONDS = 30.0


class Poller:
    """Calls `tick` every `interval` seconds in a daemon thread.

    `tick` returns whether to keep polling (False once the workflow has ended). An exception
    from `tick` goes to `on_error` and polling goes on, backing off while errors repeat.
    `stop()` ends the thread at its next wait; `start()` after that starts a new one.
    """

    def __init__(self, tick: Callable[[], bool], interval: float,
                 on_error: Callable[[Exception], None] | None = None, name: str = "torc-poller") -> None:  # fmt: skip
        self.tick = tick
        self.interval = interval
        self.on_error = on_error or (lambda error: None)
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start polling (a no-op while already polling)."""
        if self.running:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,), name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Ask the thread to end and wait for it (unless called from the thread itself)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait until polling has ended by itself (the workflow ended) or was stopped."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                keep_going = self.tick()
                failures = 0
            except Exception as error:  # noqa: BLE001 - shown in the dashboard; the next tick may succeed
                failures += 1
                self.on_error(error)
                keep_going = True
            if not keep_going:
                return
            stop.wait(min(self.interval * 2 ** min(failures, 5), max(MAX_BACKOFF_SECONDS, self.interval)))
