"""What the profiles say: the text the report shows next to missed targets, and how things are measured.

The "what limits it" texts come from profiling runs (`python -m bench.profile ...`, pyinstrument
and command monitoring of the create path, and the `protocol` workload), not from the run the
table shows: the report labels them as that analysis, with its date (`ANALYSED`). Profile again,
and update them and the date, when the hot path changes.
"""

#: When the profiles behind `LIMITS` and `PROFILE` were taken (the report prints it beside them).
ANALYSED = "2026-11-25"

_E2E = (
    "The machine's two cores, shared by four processes: in a 10,000-job run the database used ~0.77 core, the "
    "jobs themselves (`bash -c true`) ~0.68, the runner ~0.23 and the API server ~0.13, so nothing is waiting on "
    "anything any more (the runner keeps a backlog and reports from a worker thread, `runner/loop.py`, "
    "`runner/exchange.py`). The database's share is its per-document cost: two status updates per job (claimed "
    "→ pending, reported → completed) at ~0.4 ms each, two reads and one result insert, ~1.1 ms per job "
    "(`protocol.update_doc`, `find_doc`, `insert_result`)."
)

#: Target id -> what limits it (shown only when that target is missed).
LIMITS: dict[str, str] = {
    "e2e_rate": _E2E,
    "e2e_vs_limit": "The raw spawner has both cores for `bash` alone; here the database needs ~0.75 core for "
    "the same jobs ('Where the time goes', 1), which leaves about half the machine for spawning.",
    "e2e_vs_dask": "Dask keeps its queue in memory; Torc writes every state change to the database, ~1.1 ms of "
    "database work per job on this server ('Where the time goes', 1).",
    "e2e_vs_parsl": "The database's per-job work, ~1.1 ms on this server ('Where the time goes', 1).",
    "e2e_vs_snakemake": "The database's per-job work, ~1.1 ms on this server ('Where the time goes', 1).",
    "claims_rate": (
        "The database, ~99% of one core: marking a claimed job pending is one document update, and this server "
        "spends ~0.4 ms per updated document (`protocol.update_doc`: ~2,500 per second on one core, before "
        "anything else), plus ~0.07 ms to read the job back (`protocol.find_doc`). Updates are 53% of its "
        "samples, reads 13%. A claim that writes nothing per job would need another data model (see 'Where the "
        "time goes', 2)."
    ),
    "create_100k": (
        "The database's insert cost: 100,000 job documents and 50,000 files at 0.11–0.14 ms each with one index "
        "(about 21 s of database CPU for a 23 s creation); the API's planning and document building (~5 s) now "
        "overlap the inserts (`api/storage/create.py` `_insert_jobs`)."
    ),
    "create_ratio": "Same as the row above; each collection's insert rate falls as it grows.",
    "status_100k": "Status reads the counts kept in the workflow document (`workflows.status_of`): O(1).",
    "api_rss": (
        "Creation holds the plan (~50 MB of Python objects for 100,000 jobs, `torc_client/spec/plan.py` "
        "`build_plan`) plus two batches of job documents being built and inserted."
    ),
    "release_p50": "Two round trips: the completion report and the claim, ~16 ms each (`protocol.exchange.1`).",
    "release_p99": "Two round trips: the completion report and the claim, ~16 ms each (`protocol.exchange.1`).",
}

#: Same-session comparisons with the code of an earlier run (`python -m bench.ab REV`, and `--only` workloads of
#: both trees in turns): whether a change of figures from one run to the next is the code's or the host's.
REVISIONS = """\
On 2026-12-02, against d5b6178 (the code of the 2026-11-25 run, 110 commits earlier: leases with tickets,
journaled writes and transactions, fenced reports, Slurm actions, authentication), in the same session as the
table above. The host was slower than on 2026-11-25 for everything, the peers and the raw spawner included
(spawn 0.81x, Parsl 0.72x, Dask 0.82x, one database update 1.5x as long), and its speed drifted by up to 40%
between two neighbouring runs.

- End to end, one runner (`python -m bench.ab d5b6178 --pairs 6`): paired ratio now ÷ then 0.95 (0.69–1.41),
  medians 417 and 409 jobs/s; CPU per job the same within noise (database 1.78 and 1.82 ms, runner 0.85
  and 0.99, API server 0.35 and 0.39). The fall from 603 to 390 jobs/s between the two published runs is the
  host's.
- A report-and-claim exchange now takes 18 database commands instead of 16 (the report is fenced by the
  node holding the job, and the claim reads its queue entry's ticket). `--only release --only protocol`,
  two runs of each tree in turns: one-job exchange 21–26 ms now, 19–22 ms then; release latency p50 31–38 ms
  now, 32–33 ms then."""

PEERS_NOTE = """\
What is compared: the same `bash -c true` jobs, the same number in flight. Torc stores every job, claim,
result and event in a database and can lose its runner or its server without losing work; Dask and Parsl
keep their queues in memory (a crash loses the run); Snakemake writes one output file per job plus its
`.snakemake/` metadata and rebuilds its DAG from the file system on every start. Snakemake ran once (its
run takes 5–7 minutes at 10,000 jobs here) with `--scheduler greedy`: its default ILP scheduler needed 28 s
for 1,000 jobs and had finished only ~240 of 10,000 after 5 minutes."""

PROFILE = """\
Profiles (py-spy on every process: `python -m bench.profile e2e|claims|create`; the database's own profiler,
`db.setProfilingLevel(2)`, for the time per collection and operation; psutil CPU times per process), taken on
this machine while changing the code:

1. **End to end: the machine is full.** With the runner's backlog, ~590 jobs/s use ~1.8 of the 2 cores:
   database ~0.77, jobs ~0.68, runner ~0.23, API server ~0.13. Of the database's time, 71% is the two
   status updates per job, 19% storing results, 10% reading jobs. The runner's own time is mostly
   `subprocess.Popen` (fork and exec) and opening each job's two log files.
   What changed to get here (65 → ~590 jobs/s): the runner stopped waiting on the network. It used to make
   a claim, a start and a completion request in series for the 1–2 jobs of each turn (~20 ms and ~20
   database commands per turn). Now it keeps a backlog of claimed jobs sized by Little's law to ~0.5 s of
   work (none for long jobs, `runner/pace.py`), launches from it the moment a slot frees, and sends one
   request at a time from a worker thread: the starts and outcomes gathered since the last request plus the
   next claim. Requests batch themselves under load (~75 jobs each here) and stay immediate when the
   runner is quiet. A job that starts and ends between two requests is reported once, pending → completed.
   Also: the resource monitor opens a job's process in its sampling thread instead of at launch (18% of the
   runner's time), the job environment is built from one cached base, and the loop looks at its backlog
   only when a job could start (scanning it after every exit took a third of the runner's time).
2. **Claims are bound by the database's per-document update.** It is ~99% busy; updates are 53% of its
   samples and reads 13%. `protocol.update_doc` measures the update alone at ~0.4 ms per document (~2,500
   per second on one core), so 3,000 claims per second cannot be reached while each claimed job is marked
   pending in its own document. The queue itself costs almost nothing now: positions live in blocks of 100
   per document (`api/storage/queue.py`), so a claim of 250 jobs reads 3–4 queue documents instead of 250
   (the slot reads were 17% of the database's time end to end, because this server matches `$in` in
   quadratic time).
3. **Creation is bound by inserts**: ~21 s of database CPU for 100,000 jobs and 50,000 files (0.11–0.14 ms
   per document with one index; without an index ~0.05 ms). Queueing the 50,000 initially ready jobs is now
   500 block inserts (it was 50,000 slot documents, 6 s), and the API builds the next batch of job
   documents while the database inserts the previous one.
4. **Results** have one index, unique on (workflow, job, run, attempt), which also serves listing by
   workflow: a second index cost every stored result ~40% more.
5. **API server memory at 100,000 jobs**: the plan plus two batches of job documents. Status and the first
   job page cost almost nothing (counts kept in the workflow document; the page read by id). A page filtered
   by a common status walks the jobs in id order, 50 at a time, until the page is full (`api/storage/jobs.py`
   `_walk`); asking the index for every match first took ~1.4 s for the ready jobs of 100,000. A rare status
   still goes through the index, which costs in proportion to its few matches.

What is left, in our code:

- Files are inserted before the jobs, one after the other; their ids could be allocated first and the files
  inserted while the job documents are built (~1–2 s at 100,000 jobs, bounded by the database either way).
- Upstream (SecantusDB): `$in` is matched against every candidate in turn (`query._in_candidate_matches`),
  which is why every id list here is cut into chunks of 50; and its `findAndModify` BEFORE image is stale
  under concurrent updates (we read the AFTER image with the old value captured in the update)."""

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
- **Protocol (diagnostic).** One client does what a runner of no-op jobs does: each request reports the
  previous batch completed and claims the next, with 1, P, 100 and 250 jobs per request; the latency and the
  database commands each request caused (`serverStatus` opcounters). Also the database's own cost per
  document of a job's writes, on copies of real job documents in collections with the real indexes.
- **Noise.** The machine is shared; the load average is recorded at the start and end of the run."""
