"""The runner's one request in flight: sent from a worker thread while jobs keep running.

The runner loop never waits on the network while it has work: it hands a request to
`Exchange.send`, goes on launching jobs from its backlog and reaping them, and picks
the answer up with `Exchange.answer` once `fileno()` turns readable (the loop waits
on it together with its jobs' pidfds). Only one request is in flight at a time, so
reports reach the server in the order the runner made them; whatever happens while
one is in flight goes into the next, which is how reports batch themselves under
load and stay immediate when the runner is quiet.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from torc_client.core import errors

#: How long the runner keeps retrying while the server does not answer (the workflow's
#: `compute_node_wait_for_healthy_database_minutes` replaces it once known).
SERVER_WAIT_SECONDS = 20 * 60.0
#: Seconds before the first retry; each wait doubles, up to `RETRY_MAX_SECONDS`.
RETRY_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0


def patiently(method: Callable[..., Any], *args: Any, say: Callable[[str], None], stopping: Callable[[], bool],
              wait_seconds: float = SERVER_WAIT_SECONDS, first_retry: float = RETRY_SECONDS) -> Any:  # fmt: skip
    """Call the API, waiting out a server or database that does not answer, with backoff, for up to
    `wait_seconds` (the runner's requests are safe to repeat)."""
    deadline = time.monotonic() + wait_seconds
    pause = first_retry
    while True:
        try:
            return method(*args)
        except errors.ServerUnavailable as error:
            left = deadline - time.monotonic()
            if left <= 0 or stopping():
                raise
            pause = min(pause, left)
            say(f"{error.message}; retrying in {pause:.0f} s (giving up in {left / 60:.1f} min)")
            time.sleep(pause)
            pause = min(pause * 2, RETRY_MAX_SECONDS)


class Exchange:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="torc-exchange")
        self._future: Future | None = None
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)

    @property
    def busy(self) -> bool:
        """A request was sent and its answer not yet taken."""
        return self._future is not None

    def fileno(self) -> int:
        """Readable once the request in flight has an answer."""
        return self._read

    def send(self, call: Callable[..., Any], *args: Any) -> None:
        if self._future is not None:
            raise RuntimeError("a request is already in flight")
        self._future = self._pool.submit(call, *args)
        self._future.add_done_callback(lambda _: os.write(self._write, b"."))

    def answer(self, wait: bool = False) -> Any | None:
        """The answer to the request in flight if it has come (or, with `wait`, once it comes).

        Returns None when nothing was sent or the answer is not in yet; an error the
        request raised is raised here, in the runner's thread.
        """
        try:  # drained on every call: a wake-up byte may land just after its answer was taken
            os.read(self._read, 64)
        except BlockingIOError:
            pass
        future = self._future
        if future is None or not (wait or future.done()):
            return None
        self._future = None
        return future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        os.close(self._read)
        os.close(self._write)
