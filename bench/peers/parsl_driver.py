"""Parsl: a local HighThroughputExecutor with P workers, one `bash_app` per job (persists nothing)."""

from __future__ import annotations

import json
import sys
import time

import parsl
from parsl.app.app import bash_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider


@bash_app
def noop() -> str:
    return "true"


def main(n: int, parallelism: int, workdir: str) -> None:
    config = Config(
        executors=[HighThroughputExecutor(label="htex", max_workers_per_node=parallelism, cores_per_worker=1,
                                          encrypted=False, provider=LocalProvider(init_blocks=1, max_blocks=1))],
        run_dir=f"{workdir}/runinfo", initialize_logging=False, usage_tracking=0,
    )  # fmt: skip
    with parsl.load(config):
        ready = time.time()
        futures = [noop() for _ in range(n)]
        failed = sum(1 for f in futures if f.result() != 0)
        end = time.time()
    print(json.dumps({"ready": ready, "end": end, "failed": failed}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
