"""Profile a benchmark scenario: py-spy samples the API server, the database and the client side.

    python -m bench.profile e2e [--jobs 2000]        # one runner, P slots, no-op jobs
    python -m bench.profile claims [--jobs 20000]    # 4 claimers, batches of 100
    python -m bench.profile create [--jobs 100000]   # one sweep workflow, create + initialise

Writes py-spy's collapsed stacks (`PROCESS.txt`, for any flame-graph tool) to --out and
prints, per process, how busy it was and the functions that dominate: the self time
at the top of the stacks, and the inclusive time of the project's own code (api/,
runner/, torc_client/). Needs py-spy (the `bench` extra) and ptrace rights (root here).
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import harness, specs
from bench.stack import Stack, start_runner

BIN = Path(sys.executable).parent
RATE = 100
OWN_CODE = ("(api/", "(runner/", "(torc_client/")


class Spy:
    """py-spy recording a set of processes until `stop()`."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.procs: dict[str, subprocess.Popen] = {}
        self.t0 = time.monotonic()

    def attach(self, name: str, pid: int) -> None:
        command = [str(BIN / "py-spy"), "record", "-p", str(pid), "-o", str(self.out / f"{name}.txt"), "-f", "raw",
                   "-r", str(RATE), "--nonblocking"]  # fmt: skip
        self.procs[name] = harness.spawn(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> float:
        """Stop recording (py-spy writes its file on SIGINT); returns the seconds recorded."""
        import signal

        for proc in self.procs.values():
            harness.stop(proc, timeout=20, sig=signal.SIGINT)
        return time.monotonic() - self.t0


def summarize(path: Path, seconds: float, top: int = 12) -> str:
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        self_time[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return f"{path.stem}: no samples"
    lines = [f"{path.stem}: {total} samples in {seconds:.1f} s (busy ~{total / (seconds * RATE):.0%} of one core)",
             "  self time:"]  # fmt: skip
    lines += [f"    {n / total:6.1%}  {frame}" for frame, n in self_time.most_common(top)]
    own = [(f, n) for f, n in inclusive.most_common() if any(tag in f for tag in OWN_CODE)][:top]
    if own:
        lines.append("  inclusive, project code:")
        lines += [f"    {n / total:6.1%}  {frame}" for frame, n in own]
    return "\n".join(lines)


def scenario_e2e(stack: Stack, spy: Spy, jobs: int, parallelism: int) -> str:
    wf = stack.client.create_workflow_from_spec(specs.noop(jobs), working_dir=str(stack.dir))
    stack.client.initialize_workflow(wf.id)
    t0 = time.perf_counter()
    runner = start_runner(stack, wf.id, parallelism)
    spy.attach("runner", runner.pid)
    runner.wait()
    return f"{jobs} jobs in {time.perf_counter() - t0:.1f} s ({jobs / (time.perf_counter() - t0):.0f} jobs/s)"


def scenario_claims(stack: Stack, spy: Spy, jobs: int, parallelism: int) -> str:
    wf = stack.client.create_workflow_from_spec(specs.noop(jobs), working_dir=str(stack.dir))
    stack.client.initialize_workflow(wf.id)
    outs = [stack.dir / f"claimer{i}.json" for i in range(4)]
    procs = [harness.spawn([sys.executable, "-m", "bench.agents.claimer", stack.url, str(wf.id), "100", str(o)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE) for o in outs]  # fmt: skip
    for proc in procs:
        proc.stdout.readline()
    t0 = time.perf_counter()
    for proc in procs:
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
    for proc in procs:
        proc.wait()
    return f"{jobs} jobs claimed in {time.perf_counter() - t0:.1f} s ({jobs / (time.perf_counter() - t0):.0f} jobs/s)"


def scenario_create(stack: Stack, spy: Spy, jobs: int, parallelism: int) -> str:
    t0 = time.perf_counter()
    wf = stack.client.create_workflow_from_spec(specs.sweep(jobs), working_dir=str(stack.dir))
    t1 = time.perf_counter()
    stack.client.initialize_workflow(wf.id)
    return f"{jobs} jobs: create {t1 - t0:.1f} s, initialise {time.perf_counter() - t1:.1f} s"


SCENARIOS = {"e2e": (scenario_e2e, 2000), "claims": (scenario_claims, 20000), "create": (scenario_create, 100000)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--uri-options", default="", help="extra MongoDB URI options for the API server, to try a "
                        "fix without editing it (e.g. retryWrites=false)")  # fmt: skip
    args = parser.parse_args(argv)
    fn, default_jobs = SCENARIOS[args.scenario]
    out = args.out or Path(tempfile.mkdtemp(prefix=f"torc-profile-{args.scenario}-"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        with Stack("profile", args.uri_options) as stack:
            spy = Spy(out)
            spy.attach("api-server", stack.server_pid)
            spy.attach("database", stack.db_pid)
            time.sleep(0.5)  # let py-spy attach
            what = fn(stack, spy, args.jobs or default_jobs, os.cpu_count() or 1)
            seconds = spy.stop()
    finally:
        harness.cleanup()
    print(f"{args.scenario}: {what}; collapsed stacks in {out}\n")
    for path in sorted(out.glob("*.txt")):
        print(summarize(path, seconds) + "\n")


if __name__ == "__main__":
    main()
