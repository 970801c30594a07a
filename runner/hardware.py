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
