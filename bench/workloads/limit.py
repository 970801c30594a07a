"""1. The limit: how fast this machine starts and reaps `bash -c true`, P at a time.

Two spawners, each keeping P processes in flight: a Python loop (`subprocess.Popen` +
`os.wait`, as a Python runner spawns) and `xargs -P`. The faster of the two is the
physical ceiling for no-op jobs that every other rate is compared with.
"""

from __future__ import annotations

import os
import subprocess
import time

from bench import harness
from bench.config import Config
from bench.harness import Figure

NAME = "limit"


def python_spawner(n: int, parallel: int) -> float:
    """Jobs per second of a tight Popen/os.wait loop."""
    running: dict[int, subprocess.Popen] = {}
    started = done = 0
    t0 = time.perf_counter()
    while done < n:
        while len(running) < parallel and started < n:
            proc = subprocess.Popen(["bash", "-c", "true"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)  # fmt: skip
            running[proc.pid] = proc
            started += 1
        pid, status = os.wait()
        proc = running.pop(pid, None)
        if proc is not None:
            proc.returncode = os.waitstatus_to_exitcode(status)
            done += 1
    return n / (time.perf_counter() - t0)


def xargs_spawner(n: int, parallel: int) -> float:
    """Jobs per second of `xargs -P` running `bash -c true` n times."""
    t0 = time.perf_counter()
    subprocess.run(["xargs", "-P", str(parallel), "-n", "1", "bash", "-c", "true"], input=b"x\n" * n, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return n / (time.perf_counter() - t0)


def run(cfg: Config) -> list[Figure]:
    n, p = cfg.noop_jobs, cfg.parallelism
    out = []
    for key, fn, label in (("limit.python", python_spawner, "Python Popen/os.wait loop"),
                           ("limit.xargs", xargs_spawner, "xargs -P")):  # fmt: skip
        samples = harness.repeat(cfg.repeat, f"spawn {label}", lambda _: fn(n, p), cfg.log)
        out.append(Figure(key, f"Raw spawn rate, {label}", "jobs/s", samples,
                          params={"jobs": n, "parallelism": p, "command": "bash -c true"}))  # fmt: skip
    best = max(out, key=lambda f: f.median)
    out.append(Figure("limit.spawn", "Raw spawn limit (faster spawner)", "jobs/s", best.samples,
                      params={"jobs": n, "parallelism": p, "spawner": best.title}))  # fmt: skip
    return out
