"""What this machine offers: CPUs, memory and NVIDIA GPUs."""

from __future__ import annotations

import shutil
import subprocess

import psutil


def detect_cpus() -> int:
    try:
        import os

        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return psutil.cpu_count() or 1


def detect_memory_gb() -> float:
    return psutil.virtual_memory().total / (1 << 30)


def detect_gpus() -> int:
    """NVIDIA GPUs visible to `nvidia-smi` (0 when there is none or no driver)."""
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def overstated(cpus: int | None, memory_gb: float | None, gpus: int | None) -> list[str]:
    """What a runner was told it has beyond what this machine has (None: not given, so detected)."""
    said = []
    if cpus is not None and cpus > (have := detect_cpus()):
        said.append(f"{cpus} CPU{'s were' if cpus != 1 else ' was'} given but this machine offers {have}")
    if memory_gb is not None and memory_gb > (have_gb := detect_memory_gb()):
        said.append(f"{memory_gb:g} GiB of memory was given but this machine has {have_gb:.1f} GiB")
    if gpus and gpus > (have_gpus := detect_gpus()):
        said.append(f"{gpus} GPU{'s' if gpus != 1 else ''} {'were' if gpus != 1 else 'was'} given but this machine "
                    f"has {have_gpus}")
    return said
