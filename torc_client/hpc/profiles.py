"""HPC profiles: a cluster's partitions (CPUs, memory, GPUs, longest walltime) and how to recognise it.

Built in: NREL's Kestrel (as Torc describes it) and `local`, the one-machine cluster of
`scripts/slurm.sh`. More come from the config file, in Torc's layout
(`[client.hpc.custom_profiles.NAME]` with `[[...partitions]]`). `detect()` picks the
profile whose environment variable or hostname pattern matches this machine, else
describes the cluster `sinfo` reports.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from typing import Any

from torc_client.core import settings
from torc_client.core.errors import InvalidRequest
from torc_client.hpc import slurm

DAY = 86400


@dataclass(frozen=True)
class Partition:
    name: str
    cpus_per_node: int
    memory_mb: int
    max_walltime_secs: int
    gpus_per_node: int = 0
    description: str = ""
    #: Never chosen automatically (the user must name it, as with Kestrel's `shared`).
    requires_explicit_request: bool = False


@dataclass(frozen=True)
class Profile:
    name: str
    display_name: str
    partitions: tuple[Partition, ...]
    description: str = ""
    #: `NAME=VALUE` environment variables, any of which identifies the cluster.
    detect_env_vars: tuple[str, ...] = ()
    detect_hostname: str | None = None
    default_account: str | None = None

    def matches(self, env: dict[str, str], hostname: str) -> bool:
        for pair in self.detect_env_vars:
            name, _, value = pair.partition("=")
            if env.get(name) == value:
                return True
        return bool(self.detect_hostname and re.search(self.detect_hostname, hostname))

    def partition(self, name: str) -> Partition:
        for part in self.partitions:
            if part.name == name:
                return part
        raise InvalidRequest(f"profile {self.name} has no partition {name!r}; it has "
                             f"{', '.join(p.name for p in self.partitions)}")  # fmt: skip


def _kestrel() -> Profile:
    cpu = [("debug", 104, 240_000, 3600, 2), ("short", 104, 240_000, 4 * 3600, 0),
           ("standard", 104, 240_000, 2 * DAY, 0), ("long", 104, 240_000, 10 * DAY, 0),
           ("medmem", 104, 1_000_000, 10 * DAY, 0), ("bigmem", 104, 2_000_000, 2 * DAY, 0),
           ("bigmeml", 104, 2_000_000, 10 * DAY, 0), ("gpu-h100s", 128, 360_000, 4 * 3600, 4),
           ("gpu-h100", 128, 360_000, 2 * DAY, 4), ("gpu-h100l", 128, 360_000, 10 * DAY, 4)]  # fmt: skip
    explicit = [("hbw", 2 * DAY), ("hbwl", 10 * DAY), ("nvme", 2 * DAY), ("shared", 2 * DAY), ("sharedl", 10 * DAY)]
    partitions = [Partition(n, c, m, w, g) for n, c, m, w, g in cpu]
    partitions += [Partition(n, 104, 240_000, w, requires_explicit_request=True) for n, w in explicit]
    return Profile("kestrel", "NREL Kestrel", tuple(partitions), "NREL's flagship HPC system with CPU and GPU nodes",
                   detect_env_vars=("NREL_CLUSTER=kestrel",))  # fmt: skip


def _local() -> Profile:
    return Profile("local", "One-machine Slurm (scripts/slurm.sh)",
                   (Partition("debug", 2, 2000, DAY, description="three virtual nodes on this machine"),),
                   "The cluster `make slurm` starts, for trying Torc and for its tests",
                   detect_env_vars=("SLURM_CLUSTER_NAME=torc", "TORC_HPC_PROFILE=local"))  # fmt: skip


BUILT_IN = (_kestrel, _local)


def profiles(config: dict[str, Any] | None = None) -> dict[str, Profile]:
    """Every known profile: built in, then the config file's (which may replace a built-in one)."""
    found = {make().name: make() for make in BUILT_IN}
    config = settings.load_config() if config is None else config
    custom = config.get("client", {}).get("hpc", {}).get("custom_profiles", {})
    for name, entry in custom.items():
        found[name] = from_config(name, entry)
    return found


def from_config(name: str, entry: dict[str, Any]) -> Profile:
    """A profile from the config file (Torc's keys)."""
    try:
        parts = tuple(Partition(name=p["name"], cpus_per_node=int(p["cpus_per_node"]), memory_mb=int(p["memory_mb"]),
                                max_walltime_secs=int(p["max_walltime_secs"]),
                                gpus_per_node=int(p.get("gpus_per_node") or 0), description=p.get("description", ""),
                                requires_explicit_request=bool(p.get("requires_explicit_request", False)))
                      for p in entry.get("partitions", []))  # fmt: skip
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidRequest(f"HPC profile {name!r} in {settings.config_path()}: a partition needs name, "
                             f"cpus_per_node, memory_mb and max_walltime_secs ({error})") from None  # fmt: skip
    env = entry.get("detect_env_var")
    return Profile(name, entry.get("display_name", name), parts, entry.get("description", ""),
                   detect_env_vars=(env,) if env else (), detect_hostname=entry.get("detect_hostname"),
                   default_account=entry.get("default_account"))  # fmt: skip


def detect(env: dict[str, str] | None = None, known: dict[str, Profile] | None = None) -> Profile | None:
    """The profile of the cluster this machine belongs to: by variable or hostname, else from `sinfo`."""
    env = dict(os.environ if env is None else env)
    known = profiles() if known is None else known
    explicit = env.get("TORC_HPC_PROFILE")
    if explicit in known:
        return known[explicit]
    for profile in known.values():
        if profile.matches(env, socket.gethostname()):
            return profile
    return from_sinfo()


def from_sinfo() -> Profile | None:
    """A profile describing the Slurm cluster `sinfo` reports, or None without Slurm."""
    try:
        rows = slurm.partitions()
    except slurm.SlurmError:
        return None
    if not rows:
        return None
    parts = tuple(Partition(r["name"], r["cpus"], r["memory_mb"], r["max_walltime_secs"] or 10 * DAY, r["gpus"])
                  for r in rows)  # fmt: skip
    return Profile("slurm", "This Slurm cluster (from sinfo)", parts, "Partitions as sinfo reports them")


def get(name: str | None) -> Profile:
    """The profile named, or the detected one; a clear error when there is none."""
    known = profiles()
    if name is not None:
        if name not in known:
            raise InvalidRequest(f"no HPC profile {name!r}; known: {', '.join(sorted(known))} (see `torc hpc list`)")
        return known[name]
    found = detect(known=known)
    if found is None:
        raise InvalidRequest("no HPC profile matches this machine and no Slurm answers: name one with --profile "
                             f"({', '.join(sorted(known))})")  # fmt: skip
    return found
