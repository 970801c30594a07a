"""Mutation testing of the core: `make mutation` (not part of `make test`).

mutmut, configured in pyproject.toml's `[tool.mutmut]`, plants one small change at a time in the
modules that decide correctness (claims, queue, transitions, release, leases, initialisation, spec
planning and parameters, resource fitting) and runs the fast in-process tests that reach the changed
function. A mutant that no test notices survived: it needs a test, or a line in
tests/mutation_equivalent.md saying why no test can see it.

This script starts one embedded database for the whole run (each mutant's test session would
otherwise start its own), runs mutmut, and writes the report: per module, mutants killed, survived,
known equivalent, and not reached by the selected tests, with every survivor named.

    python scripts/mutation.py                      # the default modules (DEFAULT), ~20 min on 2 cores
    python scripts/mutation.py all                  # every core module: ~2 h on 2 cores
    python scripts/mutation.py api/storage/queue.py # one module (the others keep their last results)
    python scripts/mutation.py --mutants 'api.storage.queue.x_repair__mutmut_*'  # check these mutants again
    python scripts/mutation.py api/storage/claims.py --tests tests/claims/test_storage_claims.py
                                                    # only these tests: quicker, and a stricter score
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPORT = ROOT / "bench" / "results" / "mutation.md"
#: What `make mutation` mutates unless told otherwise: the two modules the exactly-once claim rests on. The whole
#: core (pyproject's `only_mutate`, ~4,600 mutants) takes about two hours on a 2-core machine.
DEFAULT = ["api/storage/queue.py", "api/storage/transitions/moves.py", "api/storage/transitions/claimed.py",
           "api/storage/transitions/batched.py"]
EQUIVALENT = ROOT / "tests" / "mutation_equivalent.md"
#: mutmut's exit codes, by what they mean (mutmut.stats.status_by_exit_code).
KILLED = {1, 3, 37}
SURVIVED = {0}
NOT_REACHED = {5, 33}
TIMEOUT = {24, 36, -24, 152, 255}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help=f"core modules to mutate, or `all` (default: {' '.join(DEFAULT)})")
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--mutants", nargs="+", default=[], help="mutant names or patterns to run (again)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--tests", nargs="+", default=[],
                        help="run only these test files (of pyproject's selection) against each mutant")
    args = parser.parse_args()
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
    if args.modules == ["all"]:
        args.modules = list(core)
    elif not args.modules and not args.mutants:
        args.modules = list(DEFAULT)
    unknown = sorted(set(args.modules) - set(core))
    if unknown:
        parser.error(f"not a core module: {', '.join(unknown)} (the core: {', '.join(core)})")
    patterns = [module.removesuffix(".py").replace("/", ".") + ".*" for module in args.modules] + args.mutants
    started = time.monotonic()
    code = run_mutmut(patterns, args.max_children, args.tests)
    scope = " ".join(args.modules + ([f"--mutants ... ({len(args.mutants)} names)"] if args.mutants else [])
                     + (["--tests", *args.tests] if args.tests else []))  # fmt: skip
    write_report(args.report, core, time.monotonic() - started, scope)
    print(f"report: {args.report.relative_to(ROOT)}")
    return code


def run_mutmut(patterns: list[str], max_children: int, tests: list[str]) -> int:
    from api.embedded import EmbeddedDatabase

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    if tests:
        env["TORC_TEST_ONLY"] = ",".join(tests)  # tests/conftest.py deselects the others
    with tempfile.TemporaryDirectory(prefix="torc-mutation-") as data, EmbeddedDatabase(Path(data)) as db:
        env["TORC_TEST_MONGO_URI"] = db.uri
        command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children), *patterns]
        return subprocess.run(command, cwd=ROOT, env=env).returncode


def equivalent_mutants() -> tuple[set[str], set[str]]:
    """The reviewed list: `- `mutant_name`: reason` lines; those under a "Not equivalent" heading are survivors
    known to be unreachable by a test, which still count as survived. Returns (equivalent, unreachable)."""
    equivalent, unreachable = set(), set()
    section = equivalent
    for line in EQUIVALENT.read_text().splitlines() if EQUIVALENT.exists() else []:
        if line.startswith("#"):
            section = unreachable if "not equivalent" in line.lower() else equivalent
        elif line.startswith("- `") and "`:" in line:
            section.add(line[3:].split("`:", 1)[0])
    return equivalent, unreachable


def results(module: str) -> dict[str, int | None]:
    meta = ROOT / "mutants" / f"{module}.meta"
    return json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}


def write_report(path: Path, core: list[str], seconds: float, scope: str) -> None:
    known, unreachable = equivalent_mutants()
    rows, survivors, totals = [], [], Counter()
    for module in core:
        codes = results(module)
        tally = Counter()
        for name, code in sorted(codes.items()):
            kind = ("killed" if code in KILLED else "equivalent" if code in SURVIVED and name in known
                    else "survived" if code in SURVIVED else "not reached" if code in NOT_REACHED
                    else "timeout" if code in TIMEOUT else "not run" if code is None else "other")  # fmt: skip
            tally[kind] += 1
            if kind in ("survived", "not reached", "other"):
                survivors.append((module, name, kind + (", listed as unreachable" if name in unreachable else "")))
        totals.update(tally)
        rows.append(_row(module, tally))
    command = "python scripts/mutation.py" + (f" {scope}" if scope else "")
    lines = [
        "# Mutation testing of the core",
        "",
        f"Written by `make mutation` (`{command}`) on "
        f"{datetime.date.today().isoformat()}, in {seconds / 60:.0f} min; mutmut "
        f"{_version()}. Killed includes timeouts (a mutant that hangs a test is caught). The score is "
        "(killed + timeout) / (all - equivalent). Equivalent mutants and why: `tests/mutation_equivalent.md`. "
        "Not reached: no selected (in-process) test calls the mutated function.",
        "",
        "| module | mutants | killed | timeout | survived | equivalent | not reached | not run | score |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        _row("**all**", totals),
        "",
        "## Survivors",
        "",
        *(f"- `{name}` ({module}, {kind})" for module, name, kind in survivors),
    ]
    path.write_text("\n".join(lines) + "\n")


def _row(module: str, tally: Counter) -> str:
    total = sum(tally.values())
    caught = tally["killed"] + tally["timeout"]
    scored = total - tally["equivalent"] - tally["not run"]
    score = f"{100 * caught / scored:.0f}%" if scored else "-"
    return (f"| {module} | {total} | {tally['killed']} | {tally['timeout']} | {tally['survived']} | "
            f"{tally['equivalent']} | {tally['not reached']} | {tally['not run']} | {score} |")  # fmt: skip


def _version() -> str:
    from importlib.metadata import version

    return version("mutmut")


if __name__ == "__main__":
    sys.exit(main())
