"""What the profiles say: the text the report shows next to missed targets, and how things are measured.

The "what limits it" texts come from profiling runs (`python -m bench.profile ...`, pyinstrument
and command monitoring of the create path, and the `protocol` workload), not from the run the
table shows: update them when the code changes.
"""

_E2E = (
    "The runner's loop is serial and latency-bound: each turn makes 3 HTTP requests in a row (claim, start, "
    "complete: `runner/loop.py` `JobRunner._loop`), ~20 ms and ~20 database commands for the 1–2 jobs of a turn "
    "(the `protocol` rows), so 2 slots cannot go past ~50 jobs/s. After ~1,000 jobs it halves again: every "
    "retryable write makes SecantusDB prune its retryable-write registry (`secantus/transactions.py` "
    "`TransactionRegistry._prune_retryable_locked`, a scan plus a sort of 10,000 entries once full): 70% of the "
    "database's samples, and the database becomes the busiest process (~0.7 core; API ~0.15, runner ~0.05). "
    "With `retryWrites=false` the same 2,000-job run goes from 23 to 51 jobs/s."
)

#: Target id -> what limits it (shown only when that target is missed).
LIMITS: dict[str, str] = {
    "e2e_rate": _E2E,
    "e2e_vs_limit": "Per-job request latency, not spawning: the runner's jobs use < 0.1 core ('Where the time goes', "
    "1 and 2).",
    "e2e_vs_dask": "Dask keeps its queue in memory and hands tasks to workers without a database; Torc's runner waits "
    "on 3 HTTP requests and ~20 database commands per 1–2 jobs ('Where the time goes', 1 and 2).",
    "e2e_vs_parsl": "3 serial HTTP requests per runner loop turn, and SecantusDB's retryable-write registry "
    "('Where the time goes', 1 and 2).",
    "e2e_vs_snakemake": "3 serial HTTP requests per runner loop turn, and SecantusDB's retryable-write registry "
    "('Where the time goes', 1 and 2).",
    "claims_rate": (
        "The database's per-document work in each claim (`api/storage/claims.py` `_take`), on one core: "
        "`transitions.mark_pending`'s `update_many({_id: {$in: 50 ids}, status: ready})` 36% of its time, "
        "`queue.take`'s `slots.delete_many({_id: {$in: 100 slot ids}})` 25%, the re-reads (`slots.find`, "
        "`find_by_ids`) 12%; SecantusDB evaluates `$in` per document (`query._in_candidate_matches`). The API "
        "server is ~10% busy."
    ),
    "create_100k": (
        "Inserts, one collection after another (`api/storage/create.py` `_insert_all`): 100,000 job documents "
        "13.9 s (7,200/s), 50,000 slot documents 6.1 s (one per initially ready job: `_queue_ready` → "
        "`queue.enqueue`), 50,000 files 5.2 s; on the API side `build_plan` 3.0 s and `_job_documents` 2.6 s (of "
        "which `hashes.definition_hash` 1.6 s)."
    ),
    "create_ratio": "Same as the row above; each collection's insert rate falls as it grows.",
    "status_100k": "Status reads the counts kept in the workflow document (`workflows.status_of`): O(1).",
    "api_rss": (
        "Creation holds everything at once: the plan (~50 MB of Python objects for 100,000 jobs, "
        "`torc_client/spec/plan.py` `build_plan`) plus all 100,000 job documents (~75 MB, `api/storage/create.py` "
        "`_job_documents` → `jobs.new_document`) before the first insert; tracemalloc peak 220 MB of Python "
        "objects, and the process keeps the RSS afterwards."
    ),
    "release_p50": "Two round trips: the completion report (~7 ms, 7 database commands) and the claim (~10 ms).",
    "release_p99": "Two round trips: the completion report (~7 ms, 7 database commands) and the claim (~10 ms).",
}

PEERS_NOTE = """\
What is compared: the same `bash -c true` jobs, the same number in flight. Torc stores every job, claim,
result and event in a database and can lose its runner or its server without losing work; Dask and Parsl
keep their queues in memory (a crash loses the run); Snakemake writes one output file per job plus its
`.snakemake/` metadata and rebuilds its DAG from the file system on every start. Snakemake ran once (its
run takes 5–7 minutes at 10,000 jobs here) with `--scheduler greedy`: its default ILP scheduler needed 28 s
for 1,000 jobs and had finished only ~240 of 10,000 after 5 minutes. Torc's end-to-end runs are capped at
180 s: at ~20 jobs/s they finish about a third of the 10,000 jobs, and the rate is over the jobs done."""

PROFILE = """\
Profiles (py-spy on every process: `python -m bench.profile e2e|claims|create`; pyinstrument and pymongo
command monitoring of the create path), taken on this machine while writing the suite:

1. **End to end, one runner: the runner waits on requests, in series.** In a 2,000-job run the API
   server was ~16–39% busy, the database ~36% (with `retryWrites=false`), the runner ~16%: nobody is
   saturated. Each turn of `JobRunner._loop` reaps (`POST /complete`), claims (`POST /claim`) and reports
   the start (`POST /start`) before it launches anything, and with 2 slots a turn usually carries 1 job
   (the second job of the previous turn has not exited yet). The `protocol` rows measure a turn at ~20 ms
   and ~20 database commands (claim 9–10, start 4, complete 7) for 1 job: ~50 jobs/s at best. Batching alone
   barely reaches 500 jobs/s: a turn of 100 jobs costs 190–290 ms on this server depending on the load
   (350–520 jobs/s), so the server's per-job work must shrink too (points 3 and the fixes below).
2. **SecantusDB's retryable-write registry.** pymongo sends every write as a retryable write; SecantusDB
   records each one and, on every write, prunes the registry with a scan of all entries and, once it holds
   10,000, a full sort (`secantus/transactions.py` `TransactionRegistry._prune_retryable_locked`). That was
   ~70% of the database's samples in a 2,000-job run, and is why the rate falls after ~1,000 jobs (45 jobs/s
   at 500–1,000 jobs, ~20 at 10,000). `--uri-options retryWrites=false` doubles the 2,000-job rate (23 → 51
   jobs/s). Claims and creation do few writes per job and do not feel it.
3. **Claims are bound by the database's per-document work** (one core): `update_many` of `$in` 50 ids with
   a status guard (36%), `delete_many` of the 100 slot documents passed (25%), re-reading slots and jobs
   (12%). The API server is ~10% busy.
4. **Creation is bound by inserts, done one collection at a time**: jobs 13.9 s, slots 6.1 s, files 5.2 s
   for 100,000 jobs, plus ~6 s of planning and document building in the API process.
5. **API server memory at 100,000 jobs** (tracemalloc of the create path): the plan (~50 MB of Python
   objects) and all 100,000 job documents (~75 MB, ~770 B each) are alive together before the first insert;
   peak 220 MB of Python objects. Status and paging cost almost nothing (2 ms, 9 ms); a page filtered by
   status reads every matching id first (`api/storage/jobs.py` `_filtered`: 1.4 s for the ready jobs of
   100,000).

Suggested fixes, in our code:

- `api/server.py` `EmbeddedDatabase.uri`: add `&retryWrites=false` for the embedded server (our writes are
  guarded and idempotent, which is what makes retries safe without the registry); keep the driver default
  for a real MongoDB. Also worth reporting upstream: the O(n) prune per write in SecantusDB.
- `runner/loop.py` `JobRunner`: stop making three blocking requests per turn. Start jobs first and report
  later: keep a small local backlog of claimed jobs (e.g. 4×P, which the lease already protects), launch
  from it as slots free, and send starts and completions from a background thread in batches every
  ~50 ms, a job's start ahead of its completion in the same batch (or let `completed` come from `pending`
  in `torc_client/states.py` `_SOURCES`, as `failed` and `terminated` already may).
- `api/routes/runs.py` / `api/storage/claims.py`: one request for a turn: `POST /workflows/{id}/complete`
  (or a new `/cycle`) that takes the finished jobs and returns the next claim, and a claim that marks jobs
  `running` directly when the runner asks for it; per turn that removes 2 round trips and the repeated
  `leases.renew` + `workflows.get_doc` + `workflows.record` (≈ 7 commands).
- `api/storage/queue.py` `take`: do not delete the slot documents a claim passes (25% of the database's
  claim time); delete them in bulk when the queue is cleared or the workflow completes. And let a slot
  carry what `ClaimedJob` needs (name, command, rr_id), so `transitions.mark_pending` can trust
  `modified_count == len(ids)` and skip `find_by_ids` on the usual path.
- `api/storage/create.py`: queue the initially ready jobs as ranges of consecutive ids (one document per
  range instead of one slot per job: −6 s at 100,000 jobs), run the independent inserts (files, jobs,
  slots) concurrently with `asyncio.gather`, and build the next batch of job documents while the previous
  one is being inserted; `hashes.definition_hash` could hash a compact tuple instead of `json.dumps` of a
  dict (1.6 s at 100,000 jobs).
- `api/storage/create.py` `_insert_all`: build and insert the job documents a batch (`INSERT_BATCH`) at a time
  instead of all 100,000 first, computing `required_inputs`, `_counts` and the ready ids as the batches go:
  the peak is then the plan plus one batch (about −70 MB at 100,000 jobs).
- `api/storage/jobs.py` `_filtered`: a status-filtered page should not read every matching id; page by `_id`
  range within the workflow's id blocks and stop after `limit` matches."""

METHOD = """\
- **Stack.** Every repeat starts a fresh SecantusDB (`api.server.EmbeddedDatabase`) in a new temp
  directory and a separate `torc-server --mongo-uri ...` process (one API worker) with the database's URI
  exactly as `torc-server` would build it, so the database and the API server can be measured apart;
  both are stopped and the directory deleted afterwards, also on Ctrl-C.
- **Parallelism.** P = the machine's cores (2 here) jobs in flight everywhere: `torc run
  --max-parallel-jobs P`, the raw spawner, Parsl's `max_workers_per_node`, Dask's `n_workers` (one
  thread each), Snakemake's `--cores`. The 4-runner variant runs 4 `torc run` processes with
  `--max-parallel-jobs max(1, P/4)` each (1 slot each on 2 cores: 4 jobs in flight, the finest split).
- **The limit.** `bash -c true` started and reaped P at a time by a Python `Popen`/`os.wait` loop and
  by `xargs -P`; the faster one is the ceiling.
- **End to end.** The workflow is created and initialised before the clock starts. The clock starts
  when the runner processes are launched and stops at the server's timestamp of the workflow-complete
  event, written by the request that stores the last result. A run still going after 180 s is stopped
  (SIGTERM to the runners) and rated on the jobs completed by then; the notes say when. "Cores used by"
  is CPU seconds per wall second of each process over the run (psutil); "database commands per job" is
  the database's `opcounters` difference divided by the jobs completed.
- **Peers.** Each peer runs in a fresh process and temp directory; its clock starts when that process is
  launched, so its start-up (workers, scheduler, DAG) counts, as the runner's start-up counts for Torc.
  Parsl: `HighThroughputExecutor` on a `LocalProvider`, one `bash_app` returning `true` per job. Dask:
  `LocalCluster(n_workers=P, threads_per_worker=1)`, `client.map` of a function running
  `subprocess.run(["bash", "-c", "true"])`. Snakemake: `bench/peers/Snakefile`, one instance of a rule
  with `output: touch(...)` and `shell: "true"` per job, `--scheduler greedy`.
- **Claims.** 4 claimer processes (`bench/agents/claimer.py`) register compute nodes, wait for a common
  start, then claim batches of 100 until nothing is left. Rate: jobs over the time from the first claim
  sent to the last batch received. Double claims: ids seen more than once across all claimers; also
  checked: every job claimed, and the server counts them all pending.
- **Release latency.** One client walks a 200-job chain: report the job completed, then claim until the
  next job comes back; the latency is from sending the report to receiving that claim (both round trips).
- **Creation.** One spec (a sweep: `prep_{i}` writes `data/raw_{i}.txt`, `sim_{i}` reads it) sent in one
  request, then `initialize`; timed by the client; a fresh database for every size and repeat.
- **Status and memory.** On a fresh 100,000-job sweep: status and job-page latency from the client; peak
  RSS of the API server, the database and one runner, sampled at 20 Hz from before creation through a
  20 s run of the runner.
- **Protocol (diagnostic).** One client claims, starts and completes 1, P and 100 jobs at a time;
  latency of each request and the database commands it caused (`serverStatus` opcounters).
- **Noise.** The machine is shared; the load average is recorded at the start and end of the run."""
