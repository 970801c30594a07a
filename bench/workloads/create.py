"""6. Creation and initialisation of 1,000, 10,000 and 100,000-job workflows.

The workflow is a parameter sweep with file dependencies (`prep_{i}` writes `raw_{i}`,
`sim_{i}` reads it: N/2 of each and N/2 files), sent as one spec in one request, then
initialised. Each size and repeat gets a fresh database. Figures: seconds for create +
initialise per size, and the ratios between consecutive sizes (10x the jobs should cost
about 10x the time).
"""

from __future__ import annotations

import time

from bench import harness, specs
from bench.config import Config
from bench.harness import Figure
from bench.stack import Stack

NAME = "create"


def one_run(n: int) -> dict[str, float]:
    with Stack(f"create{n}") as stack:
        spec = specs.sweep(n)
        t0 = time.perf_counter()
        wf = stack.client.create_workflow_from_spec(spec, working_dir=str(stack.dir))
        t1 = time.perf_counter()
        result = stack.client.initialize_workflow(wf.id)
        t2 = time.perf_counter()
        total = sum(result.job_counts.values())
        if total != n:
            raise RuntimeError(f"create: {total} jobs instead of {n}: {result.job_counts}")
    return {"total": t2 - t0, "create": t1 - t0, "init": t2 - t1}


def run(cfg: Config) -> list[Figure]:
    by_size: dict[int, list[dict[str, float]]] = {}
    out = []
    for n in cfg.create_sizes:
        by_size[n] = harness.repeat(cfg.repeat, f"create {n:,}", lambda _: one_run(n), cfg.log)
        runs = by_size[n]
        out.append(Figure(f"create.{n}", f"Create + initialise a {n:,}-job sweep with file dependencies", "s",
                          [r["total"] for r in runs], higher_is_better=False,
                          params={"jobs": n, "create_s": [round(r["create"], 3) for r in runs],
                                  "initialize_s": [round(r["init"], 3) for r in runs]}))  # fmt: skip
    sizes = cfg.create_sizes
    for small, big in zip(sizes, sizes[1:]):
        ratios = [b["total"] / s["total"] for s, b in zip(by_size[small], by_size[big])]
        out.append(Figure(f"create.ratio.{big}.{small}", f"Time ratio, {big:,} jobs / {small:,} jobs (jobs ratio "
                          f"{big // small}x)", "x", ratios, higher_is_better=False,
                          params={"jobs_ratio": big / small}))  # fmt: skip
    return out
