"""Sizes and settings of a benchmark run: the full run, and the reduced `--quick` run."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Config:
    quick: bool
    repeat: int
    #: Jobs in flight everywhere (Torc runners, the raw spawner, every peer): the machine's cores.
    parallelism: int
    noop_jobs: int
    runners_many: int
    claim_jobs: int
    claimers: int
    claim_batch: int
    #: Racing rounds (small workflows, forced queue repairs) behind the double-claim figure.
    race_rounds: int
    chain_jobs: int
    create_sizes: list[int]
    big_jobs: int
    status_calls: int
    protocol_turns: int
    memory_run_seconds: float
    peers: list[str]
    #: Snakemake needs ~400 s for 10,000 jobs here: one run, stopped if it takes longer than this.
    snakemake_time_limit: float = 900.0
    #: The opt-in `million` workload's size (a quick run: 200,000).
    million_jobs: int = 1_000_000
    snakemake_repeat: int = 1
    #: An end-to-end run still going after this many seconds is stopped and rated on the jobs done by then.
    e2e_time_limit: float = 180.0
    #: What this configuration leaves out or reduces, said in the output.
    reductions: list[str] = field(default_factory=list)
    #: What happened during the run that a reader must know (a peer not installed, ...).
    notes: list[str] = field(default_factory=list)
    log: Callable[[str], None] = print

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "log"}


def make(quick: bool, repeat: int | None) -> Config:
    cores = os.cpu_count() or 1
    if not quick:
        return Config(quick=False, repeat=repeat or 3, parallelism=cores, noop_jobs=10_000, runners_many=4,
                      claim_jobs=50_000, claimers=4, claim_batch=100, race_rounds=20, chain_jobs=200,
                      create_sizes=[1_000, 10_000, 100_000], big_jobs=100_000, status_calls=50, protocol_turns=100,
                      memory_run_seconds=20.0, peers=["parsl", "dask", "snakemake"])  # fmt: skip
    return Config(
        quick=True, repeat=repeat or 1, parallelism=cores, noop_jobs=500, runners_many=4, claim_jobs=5_000,
        claimers=4, claim_batch=100, race_rounds=5, chain_jobs=50, create_sizes=[1_000, 10_000], big_jobs=10_000,
        status_calls=20, million_jobs=200_000,
        protocol_turns=30,
        memory_run_seconds=5.0, peers=["dask"],
        reductions=[
            "quick run: 500 no-op jobs instead of 10,000; 5,000 claimable jobs instead of 50,000; a chain of 50 "
            "instead of 200",
            "quick run: creation measured at 1,000 and 10,000 jobs only (no 100,000); status and memory measured "
            "at 10,000 jobs, not 100,000, so the 100,000-job targets are not judged",
            "quick run: Parsl and Snakemake skipped (slow to start or slow per job); Dask only",
            "quick run: one repeat per figure unless --repeat is given",
        ],
    )  # fmt: skip
