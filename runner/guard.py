"""A job never outlives its runner: one small watcher process per runner kills its jobs when it dies.

Each job runs in its own session, so that stopping it reaches its whole process tree
and a Ctrl-C meant for the runner does not reach it. That also means nothing stops a
job when the runner itself is killed (SIGKILL, the out-of-memory killer, a node going
down around it), and after its lease expires the job would run a second time elsewhere
while the first copy goes on.

So the runner starts one guard (`Guard()`), tells it each job's process group as it
launches and reaps the job, and keeps the write end of a pipe that is the guard's
stdin. Each watches the other: the runner checks its guard on every turn of its loop
(`Guard.revive`), and starts a new one told of every job still running if the guard died. However the runner ends, the kernel closes that pipe: the guard reads
end-of-file, stops every group it still knows (SIGTERM, then SIGKILL after
`GRACE_SECONDS`), and exits. The guard runs in a session of its own, so a signal to
the runner's process group does not take it down too. It is started by path with `-I`
and imports only the standard library, so it costs the runner a few milliseconds once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

#: Seconds between SIGTERM and SIGKILL for the jobs of a runner that died.
GRACE_SECONDS = 2.0


class Guard:
    """The runner's side: start the watcher, tell it about process groups, close it on the way out."""

    def __init__(self) -> None:
        self._groups: set[int] = set()
        self._start()

    def _start(self) -> None:
        self._proc = subprocess.Popen([sys.executable, "-I", os.path.abspath(__file__)], stdin=subprocess.PIPE,
                                      start_new_session=True)  # fmt: skip
        self._fd = self._proc.stdin.fileno()
        for pgid in sorted(self._groups):
            self._send(f"+{pgid}\n")

    @property
    def pid(self) -> int:
        return self._proc.pid

    def watch(self, pgid: int) -> None:
        self._groups.add(pgid)
        self._send(f"+{pgid}\n")

    def forget(self, pgid: int) -> None:
        self._groups.discard(pgid)
        self._send(f"-{pgid}\n")

    def revive(self) -> int | None:
        """If the guard died (someone killed it), start a new one watching every job; returns the dead one's pid."""
        if self._proc.poll() is None:
            return None
        dead = self._proc.pid
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._start()
        return dead

    def close(self, timeout: float = GRACE_SECONDS + 1.0) -> None:
        """The runner is done: jobs it still ran (none, when it ended cleanly) are stopped by the guard."""
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def _send(self, line: str) -> None:
        try:
            os.write(self._fd, line.encode())
        except OSError:  # the guard is gone (someone killed it): `revive` starts another on the loop's next turn
            pass


def watch(lines) -> set[int]:
    """Follow `+PGID` / `-PGID` lines until end-of-file; returns the groups still alive then."""
    groups: set[int] = set()
    for line in lines:
        sign, pgid = line[:1], line[1:].strip()
        if pgid.isdigit():
            (groups.add if sign == b"+" else groups.discard)(int(pgid))
    return groups


def stop(groups: set[int], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM every group, then SIGKILL those still alive after `grace` seconds."""
    alive = {pgid for pgid in groups if _signal(pgid, signal.SIGTERM)}
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = {pgid for pgid in alive if _signal(pgid, 0)}
    for pgid in alive:
        _signal(pgid, signal.SIGKILL)


def _signal(pgid: int, sig: int) -> bool:
    """Send `sig` to a process group; whether any process of it was there."""
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop(watch(sys.stdin.buffer))
