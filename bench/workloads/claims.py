"""4. Claims: 4 concurrent claimer processes over HTTP on 50,000 ready jobs.

Each claimer registers a compute node, then all start together and claim batches
until nothing is left. Figure: jobs claimed per second, from the first claim sent to
the last batch received. Check: every job handed out exactly once (no id twice across
claimers, every job claimed, the server counts them all pending).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

from bench import harness, specs
from bench.config import Config
from bench.harness import Figure
from bench.stack import Stack

NAME = "claims"


def one_run(cfg: Config) -> dict[str, float]:
    with Stack("claims") as stack:
        wf = stack.client.create_workflow_from_spec(specs.noop(cfg.claim_jobs, "claims"), working_dir=str(stack.dir))
        stack.client.initialize_workflow(wf.id)
        outs = [stack.dir / f"claimer{i}.json" for i in range(cfg.claimers)]
        procs = [harness.spawn([sys.executable, "-m", "bench.agents.claimer", stack.url, str(wf.id),
                                str(cfg.claim_batch), str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                 for out in outs]  # fmt: skip
        try:
            for proc in procs:
                if proc.stdout.readline().strip() != b"ready":
                    raise RuntimeError("claims: a claimer did not start")
            for proc in procs:
                proc.stdin.write(b"go\n")
                proc.stdin.flush()
            for proc in procs:
                if proc.wait(timeout=3600) != 0:
                    raise RuntimeError(f"claims: a claimer exited {proc.returncode}")
        finally:
            for proc in procs:
                harness.stop(proc)
        results = [json.loads(out.read_text()) for out in outs]
        counts = stack.client.workflow_status(wf.id).job_counts
    ids = Counter(jid for r in results for jid in r["ids"])
    seconds = max(r["last"] for r in results) - min(r["first"] for r in results)
    return {"rate": sum(ids.values()) / seconds, "double": sum(n - 1 for n in ids.values() if n > 1),
            "unclaimed": cfg.claim_jobs - len(ids), "server_pending": counts.get("pending", 0),
            "calls": sum(r["calls"] for r in results)}  # fmt: skip


def run(cfg: Config) -> list[Figure]:
    runs = harness.repeat(cfg.repeat, f"{cfg.claimers} claimers", lambda _: one_run(cfg), cfg.log)
    params = {"jobs": cfg.claim_jobs, "claimers": cfg.claimers, "batch": cfg.claim_batch,
              "unclaimed": [r["unclaimed"] for r in runs], "server_pending": [r["server_pending"] for r in runs],
              "claim_requests": [r["calls"] for r in runs]}  # fmt: skip
    return [
        Figure("claims.rate", f"Claims, {cfg.claimers} concurrent claimers over HTTP, {cfg.claim_jobs:,} ready jobs "
               f"(batches of {cfg.claim_batch})", "jobs/s", [r["rate"] for r in runs], params=params),
        Figure("claims.double", "Jobs handed out more than once", "jobs", [r["double"] for r in runs],
               higher_is_better=False, params={"runs": len(runs)}),
    ]  # fmt: skip
