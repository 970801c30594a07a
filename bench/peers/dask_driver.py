"""Dask distributed: a LocalCluster of P single-threaded workers; each task runs the command (persists nothing)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from dask.distributed import Client, LocalCluster, wait


def noop(i: int) -> int:
    return subprocess.run(["bash", "-c", "true"], stdin=subprocess.DEVNULL).returncode


def main(n: int, parallelism: int, workdir: str) -> None:
    with LocalCluster(n_workers=parallelism, threads_per_worker=1, processes=True, dashboard_address=None,
                      local_directory=workdir) as cluster, Client(cluster) as client:  # fmt: skip
        client.wait_for_workers(parallelism)
        ready = time.time()
        futures = client.map(noop, range(n), pure=False)
        wait(futures)
        failed = sum(1 for code in client.gather(futures) if code != 0)
        end = time.time()
    print(json.dumps({"ready": ready, "end": end, "failed": failed}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
