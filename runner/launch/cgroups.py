"""A memory cgroup per job: the kernel kills a job that outgrows its memory request, at once.

The runner makes one cgroup of its own under the cgroup it runs in (so its jobs stay
inside whatever limits the runner itself is under), and one child per job with the job's
limit. The job's shell moves itself into its cgroup before it runs the command, so every
process the job starts is confined and counted from its first byte. After the job exits,
the cgroup says whether the kernel's out-of-memory killer fired in it and the job's exact
peak; then anything left in it is killed and it is removed.

Both layouts are handled: cgroup v1 (a `memory` hierarchy of its own, as on this project's
test machines) and cgroup v2 (one unified tree; the runner first moves itself into a leaf,
because v2 lets only leaves hold processes once controllers are delegated).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

MOUNTS = Path("/proc/self/mounts")
OWN = Path("/proc/self/cgroup")
#: Seconds to wait for a killed job's last processes to leave its cgroup before removing it.
REMOVE_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class Finding:
    """What a job's cgroup recorded: whether the kernel killed for memory, and the peak it saw (None: unknown)."""

    out_of_memory: bool
    peak_bytes: int | None


class MemoryCgroups:
    """The runner's cgroup and its jobs' children; `open()` returns None where the node does not allow it."""

    version: int

    def __init__(self, root: Path) -> None:
        self.root = root
        #: Cgroups of ended jobs that still held an exiting process: removed at a later call, never waited for.
        self._leftover: list[Path] = []

    @staticmethod
    def open(label: str) -> MemoryCgroups | None:
        """A writable memory cgroup for this runner (named `label`), v1 first where the node mounts it; else None."""
        for kind in (_V1, _V2):
            try:
                cgroups = kind.create(label)
            except OSError:
                cgroups = None
            if cgroups is not None:
                return cgroups
        return None

    def job_path(self, job_id: int) -> Path:
        return self.root / f"job_{job_id}"

    def prepare(self, job_id: int, limit: int | None) -> Path:
        """Make the job's cgroup with `limit` bytes (None: no limit, only counted); returns its `cgroup.procs`."""
        path = self.job_path(job_id)
        if path.is_dir():  # a leftover of an earlier attempt of the same job on this runner
            _empty_and_remove(path)
        path.mkdir()
        if limit is not None:
            self._limit(path, limit)
        return path / "cgroup.procs"

    def finish(self, job_id: int) -> Finding:
        """What the job's cgroup recorded; then it is emptied and removed."""
        path = self.job_path(job_id)
        try:
            finding = Finding(self._oom_kills(path) > 0, self._peak(path))
        except OSError:
            finding = Finding(False, None)
        self._leftover = [p for p in [*self._leftover, path] if not _empty_and_remove(p, wait=False)]
        return finding

    def close(self) -> None:
        """Remove the runner's cgroup (jobs' cgroups first; a job still in one is killed)."""
        if not self.root.is_dir():
            return
        for child in self.root.iterdir():
            if child.is_dir():
                _empty_and_remove(child)
        self._release()

    def _release(self) -> None:
        _empty_and_remove(self.root)

    def describe(self) -> str:
        return f"cgroup v{self.version} memory controller"

    # --- per version -------------------------------------------------------------------

    def _limit(self, path: Path, limit: int) -> None:
        raise NotImplementedError

    def _oom_kills(self, path: Path) -> int:
        raise NotImplementedError

    def _peak(self, path: Path) -> int | None:
        raise NotImplementedError


class _V1(MemoryCgroups):
    version = 1

    @classmethod
    def create(cls, label: str) -> _V1 | None:
        mount = _mount_of("cgroup", "memory")
        own = _own_path("memory")
        if mount is None or own is None:
            return None
        root = mount / own.lstrip("/") / label
        root.mkdir(exist_ok=True)
        cgroups = cls(root)
        # Probe: a cgroup whose limit cannot be written is of no use (a read-only or foreign hierarchy).
        probe = root / "probe"
        probe.mkdir(exist_ok=True)
        try:
            cgroups._limit(probe, 1 << 30)
        finally:
            probe.rmdir()
        return cgroups

    def _limit(self, path: Path, limit: int) -> None:
        (path / "memory.limit_in_bytes").write_text(str(limit))
        swap = path / "memory.memsw.limit_in_bytes"  # present where swap is accounted: no escape into swap
        if swap.exists():
            swap.write_text(str(limit))
        try:
            (path / "memory.swappiness").write_text("0")
        except OSError:  # some kernels refuse it inside a hierarchy: the memsw limit already holds
            pass

    def _oom_kills(self, path: Path) -> int:
        fields = _fields(path / "memory.oom_control")
        if "oom_kill" in fields:
            return fields["oom_kill"]
        return 1 if fields.get("under_oom") or _read_int(path / "memory.failcnt") else 0

    def _peak(self, path: Path) -> int | None:
        return _read_int(path / "memory.max_usage_in_bytes")


class _V2(MemoryCgroups):
    version = 2

    def __init__(self, root: Path, home: Path) -> None:
        super().__init__(root)
        self.home = home  # where the runner was before it moved into its leaf

    @classmethod
    def create(cls, label: str) -> _V2 | None:
        mount = _mount_of("cgroup2", None)
        own = _own_path("")
        if mount is None or own is None or "memory" not in (mount / "cgroup.controllers").read_text().split():
            return None
        home = mount / own.lstrip("/")
        if "memory" not in (home / "cgroup.controllers").read_text().split():
            return None
        # Only leaves may hold processes once a cgroup delegates controllers: the runner moves to a leaf first.
        leaf = home / f"{label}_runner"
        leaf.mkdir(exist_ok=True)
        (leaf / "cgroup.procs").write_text(str(os.getpid()))
        try:
            (home / "cgroup.subtree_control").write_text("+memory")
            root = home / label
            root.mkdir(exist_ok=True)
            (root / "cgroup.subtree_control").write_text("+memory")
        except OSError:
            (home / "cgroup.procs").write_text(str(os.getpid()))
            leaf.rmdir()
            raise
        return cls(root, home)

    def _limit(self, path: Path, limit: int) -> None:
        (path / "memory.max").write_text(str(limit))
        swap = path / "memory.swap.max"
        if swap.exists():
            swap.write_text("0")

    def _oom_kills(self, path: Path) -> int:
        return _fields(path / "memory.events").get("oom_kill", 0)

    def _peak(self, path: Path) -> int | None:
        return _read_int(path / "memory.peak")  # kernels from 5.19

    def _release(self) -> None:
        super()._release()
        leaf = self.home / f"{self.root.name}_runner"
        try:
            (self.home / "cgroup.procs").write_text(str(os.getpid()))
            leaf.rmdir()
        except OSError:
            pass


def _mount_of(fstype: str, controller: str | None) -> Path | None:
    """Where a cgroup filesystem of `fstype` (with `controller` among its options, for v1) is mounted read-write."""
    for line in MOUNTS.read_text().splitlines():
        parts = line.split()
        if len(parts) < 4 or parts[2] != fstype:
            continue
        options = parts[3].split(",")
        if "rw" in options and (controller is None or controller in options):
            return Path(parts[1])
    return None


def _own_path(controller: str) -> str | None:
    """This process's cgroup path in the hierarchy of `controller` ("" names the v2 unified one)."""
    for line in OWN.read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (controller == "" and controllers == "") or (controller and controller in controllers.split(",")):
            return path
    return None


def _empty_and_remove(path: Path, wait: bool = True) -> bool:
    """Kill whatever still runs in a cgroup and remove it (a runner's leftovers never linger); whether it is gone.

    A process the kernel is still tearing down keeps its cgroup busy for a moment: without
    `wait` one attempt is made (the runner's loop must not stall on it), else it is retried.
    """
    deadline = time.monotonic() + (REMOVE_WAIT_SECONDS if wait else 0.0)
    while True:
        try:
            pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
        except OSError:
            pids = []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            path.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)


def _fields(path: Path) -> dict[str, int]:
    """`key value` lines (memory.oom_control, memory.events) as a dict."""
    out = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            out[key] = int(value)
    return out


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
