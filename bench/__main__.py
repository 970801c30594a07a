"""`python -m bench`: run the benchmark suite and write its results.

    python -m bench                  # everything -> bench/results/latest.json + docs/benchmarks.md
    python -m bench --quick          # reduced, < 2 min -> bench/results/quick.json + quick.md
    python -m bench --only claims    # one workload (plus `limit` when a ratio needs it)
    python -m bench --repeat 5 --out /tmp/r.json

Workloads, in order: limit, e2e, peers, protocol (diagnostic), claims, release, create, big (status + memory);
opt-in: million, fleet (50, 250 and 1,000 simulated runners on one server).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
import traceback
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from bench import config, harness, report, targets
from bench.workloads import (
    big,
    claims,
    console,
    create,
    e2e,
    fleet,
    limit,
    million,
    peers,
    protocol,
    release,
    writes,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORKLOADS = {m.NAME: m for m in (limit, e2e, peers, protocol, claims, release, create, big, million, console, fleet,
                                     writes)}
#: Run only when asked for by name (`--only million`, `--only fleet`): too long for the default run.
OPT_IN = {"million", "console", "fleet"}
ALIASES = {"status": "big", "memory": "big", "spawn": "limit"}
#: Workloads whose figures are compared with the limit's (ratios need both from the same run).
NEEDS_LIMIT = {"e2e", "peers"}


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="reduced sizes and repeats (under two minutes)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        choices=sorted([*WORKLOADS, *ALIASES]), help="run only this workload (repeatable)")  # fmt: skip
    parser.add_argument("--repeat", type=int, help="repeats per figure (default: 3, or 1 with --quick)")
    parser.add_argument("--out", type=Path, help="results JSON (the markdown is written next to it as .md, "
                        "except for the default full run, which writes docs/benchmarks.md)")  # fmt: skip
    return parser.parse_args(argv)


def _selected(only: list[str] | None) -> list[str]:
    if not only:
        return [name for name in WORKLOADS if name not in OPT_IN]
    names = {ALIASES.get(n, n) for n in only}
    if names & NEEDS_LIMIT:
        names.add("limit")
    return [n for n in WORKLOADS if n in names]


def _outputs(args: argparse.Namespace) -> tuple[Path, Path]:
    if args.out:
        return args.out, args.out.with_suffix(".md")
    if args.only:
        stem = "only-" + "-".join(sorted({ALIASES.get(n, n) for n in args.only}))
        return RESULTS / f"{stem}.json", RESULTS / f"{stem}.md"
    if args.quick:
        return RESULTS / "quick.json", RESULTS / "quick.md"
    return RESULTS / "latest.json", ROOT / "docs" / "benchmarks.md"


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("torc-py", "secantusdb", "parsl", "dask", "distributed", "snakemake", "psutil"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def _log(text: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {text}", file=sys.stderr, flush=True)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwind through every `finally`, which stops what was started


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    cfg = config.make(args.quick, args.repeat)
    cfg.log = _log
    names = _selected(args.only)
    json_path, md_path = _outputs(args)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored (`&`)
    for note in cfg.reductions:
        _log(note)
    started, t0 = datetime.now(timezone.utc), time.monotonic()
    load_start = [round(x, 2) for x in os.getloadavg()]
    figures: dict[str, dict] = {}
    errors: dict[str, str] = {}
    try:
        for name in names:
            _log(f"workload {name} ...")
            w0 = time.monotonic()
            try:
                for fig in WORKLOADS[name].run(cfg):
                    figures[fig.key] = fig.to_dict()
                    _log(f"  {fig.title}: {report._spread(figures[fig.key])}")
            except KeyboardInterrupt:
                raise
            except Exception as error:  # noqa: BLE001 - one failed workload must not lose the others
                errors[name] = f"{type(error).__name__}: {str(error)[:500]}"
                _log(f"workload {name} FAILED: {errors[name]}\n{traceback.format_exc()}")
            _log(f"workload {name} took {time.monotonic() - w0:.0f} s")
    except KeyboardInterrupt:
        _log("interrupted: stopping everything that was started; no results written")
        return 130
    finally:
        harness.cleanup()
    doc = {
        "meta": {
            "command": "python -m bench" + "".join(f" {a}" for a in (sys.argv[1:] if argv is None else argv)),
            "started": started.isoformat(timespec="seconds"),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - t0, 1), "load_start": load_start,
            "load_end": [round(x, 2) for x in os.getloadavg()],
            "host": {"cpus": os.cpu_count(),
                     "memory_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
                     "python": platform.python_version(), "platform": platform.platform()},
            "versions": _versions(), "config": cfg.to_dict(), "only": names if args.only else None,
            "errors": errors,
        },
        "figures": figures,
        "targets": targets.judge_all(figures),
    }  # fmt: skip
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(doc, indent=1) + "\n")
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text(report.render(doc))
    _log(f"wrote {json_path} and {md_path} in {time.monotonic() - t0:.0f} s")
    for t in doc["targets"]:
        _log(f"  {'ok  ' if t['met'] else '--  ' if t['met'] is None else 'MISS'} {t['target']}: {t['verdict']}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
