"""4. Claims: 4 concurrent claimer processes over HTTP on 50,000 ready jobs, then racing rounds.

Each claimer registers a compute node, then all start together and claim batches
until nothing is left. Figure: jobs claimed per second, from the first claim sent to
the last batch received. Check: every job handed out exactly once (no id twice across
claimers, every job claimed, the server counts them all pending).

The double-claim figure also counts racing rounds: small workflows whose queues drain in
waves while dependents are released, claimed by racing processes that complete what
they claim, on a server that repairs its queues on every claim that finds nothing, so
claims, releases and repairs interleave as much as they can.
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
#: Jobs per racing round: four times this (roots, two levels of dependents, independent jobs).
RACE_WIDTH = 40


def _race(cfg: Config) -> dict[str, int]:
    return {f"race_{key}": value for key, value in race_rounds(cfg).items()}


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


def race_rounds(cfg: Config) -> dict[str, int]:
    """Rounds of racing claimers (repairs forced); returns jobs handed out twice, jobs never handed out, repairs run
    and repairs that queued a job again."""
    double = lost = repairs = requeued = 0
    with Stack("race", server_env={"TORC_QUEUE_REPAIR_SECONDS": "0"}) as stack:
        agents = [harness.spawn([sys.executable, "-m", "bench.agents.racer"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True) for _ in range(cfg.claimers)]  # fmt: skip
        try:
            for round_no in range(cfg.race_rounds):
                wf = stack.client.create_workflow_from_spec(specs.race(RACE_WIDTH), working_dir=str(stack.dir))
                stack.client.initialize_workflow(wf.id)
                for k, agent in enumerate(agents):
                    agent.stdin.write(f"{stack.url} {wf.id} {round_no * 100 + k}\n")
                    agent.stdin.flush()
                ids = Counter(jid for agent in agents for jid in json.loads(agent.stdout.readline()))
                double += sum(n - 1 for n in ids.values() if n > 1)
                lost += 4 * RACE_WIDTH - len(ids)
                repairs += stack.duty_runs(wf.id).get("repair_at", 0)
                requeued += sum(1 for e in stack.client.list_events(wf.id).items if e.category == "queue")
        finally:
            for agent in agents:
                harness.stop(agent)
    return {"double": double, "lost": lost, "repairs": repairs, "repairs_that_requeued": requeued}


def run(cfg: Config) -> list[Figure]:
    runs = harness.repeat(cfg.repeat, f"{cfg.claimers} claimers", lambda _: {**one_run(cfg), **_race(cfg)}, cfg.log)
    params = {"jobs": cfg.claim_jobs, "claimers": cfg.claimers, "batch": cfg.claim_batch,
              "unclaimed": [r["unclaimed"] for r in runs], "server_pending": [r["server_pending"] for r in runs],
              "claim_requests": [r["calls"] for r in runs]}  # fmt: skip
    return [
        Figure("claims.rate", f"Claims, {cfg.claimers} concurrent claimers over HTTP, {cfg.claim_jobs:,} ready jobs "
               f"(batches of {cfg.claim_batch})", "jobs/s", [r["rate"] for r in runs], params=params),
        Figure("claims.double", "Jobs handed out more than once (the drain above, and racing rounds with releases "
               "and forced queue repairs)", "jobs", [r["double"] + r["race_double"] for r in runs],
               higher_is_better=False, params={"runs": len(runs), "race_rounds": cfg.race_rounds,
                                               "race_jobs_per_round": 4 * RACE_WIDTH,
                                               "race_double": [r["race_double"] for r in runs],
                                               "race_never_handed_out": [r["race_lost"] for r in runs],
                                               "race_repairs": [r["race_repairs"] for r in runs],
                                               "race_repairs_that_requeued": [r["race_repairs_that_requeued"]
                                                                              for r in runs]}),
    ]  # fmt: skip
