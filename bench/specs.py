"""The workflow specs the benchmarks create (plain dicts in the spec format)."""

from __future__ import annotations

import os
from typing import Any


def noop(n: int, name: str = "noop") -> dict[str, Any]:
    """`n` independent jobs running `true`; $BENCH_GRANULARITY sets their resource monitor's granularity (to measure
    what `time_series` costs: `BENCH_GRANULARITY=time_series python -m bench.ab REV`)."""
    spec: dict[str, Any] = {"name": name, "jobs": [{"name": "j{i}", "command": "true", "parameters": {"i": f"1:{n}"}}]}
    if os.environ.get("BENCH_GRANULARITY"):
        spec["resource_monitor"] = {"granularity": os.environ["BENCH_GRANULARITY"]}
    return spec


def sweep(n_jobs: int, name: str = "sweep") -> dict[str, Any]:
    """A parameter sweep with file dependencies: `prep_{i}` writes `raw_{i}`, `sim_{i}` reads it (n_jobs in all)."""
    half = max(n_jobs // 2, 1)
    param = {"i": f"1:{half}"}
    return {
        "name": name,
        "jobs": [
            {"name": "prep_{i}", "command": "echo {i} > ${files.output.raw_{i}}", "parameters": param},
            {"name": "sim_{i}", "command": "cat ${files.input.raw_{i}} > /dev/null", "parameters": param},
        ],
        "files": [{"name": "raw_{i}", "path": "data/raw_{i}.txt", "parameters": param}],
    }


def chain(n: int, name: str = "chain") -> dict[str, Any]:
    """`n` jobs, each depending on the one before."""
    jobs = [{"name": "c1", "command": "true"}]
    jobs += [{"name": f"c{i}", "command": "true", "depends_on": [f"c{i - 1}"]} for i in range(2, n + 1)]
    return {"name": name, "jobs": jobs}


def race(n: int, name: str = "race") -> dict[str, Any]:
    """Small queues that drain in waves: roots in one queue, each with a chain of two dependents across both
    queues (released while claimers race for the last jobs), and `n` independent jobs (4n jobs in all)."""
    small = {"name": "small", "num_cpus": 1, "memory": "1m", "runtime": "PT1M"}
    large = {"name": "large", "num_cpus": 2, "memory": "2m", "runtime": "PT1M"}
    each = {"i": f"1:{n}"}
    return {"name": name, "resource_requirements": [small, large], "jobs": [
        {"name": "root{i}", "command": "true", "resource_requirements": "small", "parameters": each},
        {"name": "next{i}", "command": "true", "resource_requirements": "large", "depends_on": ["root{i}"],
         "parameters": each},
        {"name": "last{i}", "command": "true", "resource_requirements": "small", "depends_on": ["next{i}"],
         "parameters": each},
        {"name": "free{i}", "command": "true", "resource_requirements": "large", "parameters": each},
    ]}  # fmt: skip
