"""`python -m bench.ab REV`: is the working tree faster or slower than REV, end to end?

The speed of a shared host drifts, by 2x from one hour to the next on this project's machine, so a
figure from another day says little about a change. This runs the one-runner end-to-end workload
(no-op jobs, 2 in flight, `bench/workloads/e2e.py`) on REV and on the working tree in turns, each
with its own code and virtual environment, and compares each pair of neighbouring runs: two runs
side by side see the same host. The order alternates (A B, B A, A B, ...) so that a host slowing
down during the run does not favour one side.

    python -m bench.ab d5b6178                  # 5 pairs of 10,000 jobs
    python -m bench.ab HEAD~3 --pairs 8 --jobs 4000

REV is unpacked (`git archive`) into ~/.cache/torc/bench-ab/<commit> and installed there once
(`pip install -e '.[embedded]'` in its own .venv). It must have `bench.workloads.e2e.one_run`, as
every revision since the benchmarks were added does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "torc" / "bench-ab"

#: Run in a tree's own interpreter, with that tree's `bench` package: one end-to-end run, as JSON.
_ONE_RUN = """
import json, sys
from bench.config import make
from bench.workloads.e2e import one_run
cfg = make(False, 1)
cfg.noop_jobs = int(sys.argv[1])
cfg.log = lambda _: None
print(json.dumps(one_run(cfg, 1, cfg.parallelism)))
"""


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout.strip()


def prepare(rev: str) -> tuple[Path, Path]:
    """REV's source tree with its own installed .venv (made once, then reused): (its python, the tree)."""
    sha = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    tree = CACHE / sha
    python, done = tree / ".venv" / "bin" / "python", tree / ".venv" / ".bench-ab-installed"
    if done.exists():
        return python, tree
    tree.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "venv", str(tree / ".venv")], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", f"{tree}[embedded]"], check=True)
    done.touch()
    return python, tree


def run_once(python: Path, tree: Path, jobs: int) -> dict[str, float]:
    """One end-to-end run of `tree`'s code, in its interpreter `python`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([str(python), "-c", _ONE_RUN, str(jobs)], cwd=tree, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"an end-to-end run in {tree} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def order(pairs: int) -> list[tuple[int, str]]:
    """Which side runs when: (pair, side) in turns A B, B A, A B, ..."""
    return [(i, side) for i in range(pairs) for side in (("a", "b") if i % 2 == 0 else ("b", "a"))]


def summarise(runs: dict[str, list[dict[str, float]]], labels: dict[str, str]) -> list[str]:
    """Markdown: each pair's rates and ratio, then the medians and the CPU milliseconds per job by process."""
    a, b = runs["a"], runs["b"]
    ratios = [y["rate"] / x["rate"] for x, y in zip(a, b, strict=True)]
    lines = [f"| pair | {labels['a']} (jobs/s) | {labels['b']} (jobs/s) | {labels['b']} ÷ {labels['a']} |",
             "|---:|---:|---:|---:|"]  # fmt: skip
    lines += [f"| {i + 1} | {x['rate']:,.0f} | {y['rate']:,.0f} | {r:.2f} |" for i, (x, y, r) in enumerate(zip(a, b, ratios))]
    lines.append(f"| median | {statistics.median(r['rate'] for r in a):,.0f} | "
                 f"{statistics.median(r['rate'] for r in b):,.0f} | "
                 f"**{statistics.median(ratios):.2f}** ({min(ratios):.2f}–{max(ratios):.2f}) |")  # fmt: skip
    lines += ["", f"| CPU ms per job (median) | {labels['a']} | {labels['b']} |", "|---|---:|---:|"]
    for key in (k for k in a[0] if k.startswith("cpu ")):
        per_job = {side: statistics.median(r[key] / r["rate"] * 1000 for r in runs[side]) for side in ("a", "b")}
        lines.append(f"| {key[4:]} | {per_job['a']:.2f} | {per_job['b']:.2f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("rev", help="the revision to compare the working tree with (a commit, tag or branch)")
    parser.add_argument("--pairs", type=int, default=5, help="pairs of runs (default: 5)")
    parser.add_argument("--jobs", type=int, default=10_000, help="no-op jobs per run (default: 10,000)")
    args = parser.parse_args(argv)
    trees = {"a": prepare(args.rev), "b": (Path(sys.executable), ROOT)}
    labels = {"a": args.rev, "b": "working tree"}
    runs: dict[str, list[dict[str, float]]] = {"a": [], "b": []}
    for i, side in order(args.pairs):
        t0 = time.perf_counter()
        runs[side].append(run_once(*trees[side], args.jobs))
        print(f"pair {i + 1}/{args.pairs}, {labels[side]}: {runs[side][-1]['rate']:,.0f} jobs/s "
              f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)  # fmt: skip
    print("\n".join(summarise(runs, labels)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
