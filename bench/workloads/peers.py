"""3. The same no-op shell jobs through Parsl, Dask distributed and Snakemake, P at a time.

Each peer runs in a fresh process in a fresh temp directory. The clock starts when
that process is launched (as Torc's starts when `torc run` is launched) and stops when
the last job's result is back: so every rate includes the tool's own start-up (Parsl's
interchange and workers, Dask's scheduler and workers, Snakemake's DAG). The rate after
start-up is kept as a parameter.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import harness
from bench.config import Config
from bench.harness import Figure

NAME = "peers"
BIN = Path(sys.executable).parent
SNAKEFILE = Path(__file__).resolve().parent.parent / "peers" / "Snakefile"
TIMEOUT = 3600.0

#: What each peer keeps after a run (Torc keeps every job, result and event in its database).
PERSISTS = {
    "parsl": "nothing about tasks (only logs under runinfo/; no task database unless monitoring is enabled)",
    "dask": "nothing (task state lives in the scheduler's memory)",
    "snakemake": "files: one output file per job plus .snakemake/ metadata records",
}
TITLES = {"parsl": "Parsl (HighThroughputExecutor, bash_app)", "dask": "Dask distributed (LocalCluster, subprocess)",
          "snakemake": "Snakemake (one rule instance per job)"}  # fmt: skip


def _env() -> dict[str, str]:
    # Parsl starts `interchange.py` and `process_worker_pool.py` from PATH: the venv's bin must be on it.
    # The drivers are `bench.peers.*` modules, run from a temp directory: the checkout must be importable.
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", "PYTHONPATH": path}


def _command(peer: str, n: int, p: int, workdir: Path) -> list[str]:
    if peer == "snakemake":
        return [str(BIN / "snakemake"), "all", "-s", str(SNAKEFILE), "--cores", str(p), "--quiet",
                "--scheduler", "greedy", "--config", f"njobs={n}"]  # fmt: skip
    return [sys.executable, "-m", f"bench.peers.{peer}_driver", str(n), str(p), str(workdir)]


def one_run(peer: str, n: int, p: int, time_limit: float | None = None) -> dict[str, Any]:
    """One run; a peer still busy after `time_limit` seconds is stopped and rated on the jobs it finished."""
    workdir = Path(tempfile.mkdtemp(prefix=f"torc-bench-{peer}-"))
    try:
        with open(workdir / "driver.log", "wb") as log:
            t0 = time.time()
            proc = harness.spawn(_command(peer, n, p, workdir), cwd=workdir, env=_env(), stdout=subprocess.PIPE,
                                 stderr=log)  # fmt: skip
            finished = True
            try:
                out, _ = proc.communicate(timeout=time_limit or TIMEOUT)
            except subprocess.TimeoutExpired:
                if time_limit is None:
                    raise
                finished, out = False, b""
            finally:
                harness.stop(proc)
            exit_time = time.time()
        if finished and proc.returncode != 0:
            tail = (workdir / "driver.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{peer} exited {proc.returncode}:\n{tail}")
        if peer == "snakemake":
            # Its own start-up (building the DAG) cannot be separated from outside.
            done = sum(1 for _ in (workdir / "out").glob("*.done")) if (workdir / "out").is_dir() else 0
            if finished and done != n:
                raise RuntimeError(f"snakemake produced {done} of {n} outputs")
            end, ready = exit_time, None
        elif not finished:
            raise RuntimeError(f"{peer} did not finish within {time_limit:.0f} s")
        else:
            line = json.loads(out.decode().strip().splitlines()[-1])
            if line["failed"]:
                raise RuntimeError(f"{peer}: {line['failed']} jobs failed")
            end, ready, done = line["end"], line["ready"], n
        return {"rate": done / (end - t0), "seconds": end - t0, "done": done, "finished": finished,
                "startup": None if ready is None else ready - t0}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def installed(peer: str) -> bool:
    if peer == "snakemake":
        return (BIN / "snakemake").exists()
    return importlib.util.find_spec("distributed" if peer == "dask" else peer) is not None


def run(cfg: Config) -> list[Figure]:
    out = []
    n, p = cfg.noop_jobs, cfg.parallelism
    for peer in cfg.peers:
        if not installed(peer):
            cfg.notes.append(f"{peer} is not installed, so it was not measured: `pip install -e '.[bench]'`")
            cfg.log(cfg.notes[-1])
            continue
        limit = cfg.snakemake_time_limit if peer == "snakemake" else None
        repeats = cfg.snakemake_repeat if peer == "snakemake" else cfg.repeat
        runs = harness.repeat(repeats, peer, lambda _: one_run(peer, n, p, limit), cfg.log)
        fig = Figure(f"peers.{peer}", f"{TITLES[peer]}, {n:,} no-op jobs", "jobs/s", [r["rate"] for r in runs],
                     params={"jobs": n, "parallelism": p, "persists": PERSISTS[peer],
                             "seconds": [round(r["seconds"], 2) for r in runs],
                             "startup_seconds": [r["startup"] and round(r["startup"], 2) for r in runs]})  # fmt: skip
        if peer == "snakemake":
            fig.params["scheduler"] = "greedy (the default ILP scheduler is slower still at this size)"
        unfinished = [r for r in runs if not r["finished"]]
        if unfinished:
            fig.params["jobs_done_when_stopped"] = [r["done"] for r in runs]
            fig.notes.append(f"stopped after {limit:.0f} s with {unfinished[0]['done']:,} of {n:,} jobs done; the "
                             "rate is over the jobs it finished (its pace varies along the run)")
            cfg.notes.append(f"{peer}: {fig.notes[-1]}")
        out.append(fig)
    return out
