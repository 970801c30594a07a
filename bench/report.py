"""Turn a results document (bench/results/latest.json) into the markdown page docs/benchmarks.md.

    python -m bench.report [RESULTS_JSON [OUT_MD]]     # re-render without re-running
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench import findings

ROOT = Path(__file__).resolve().parent.parent


def _num(x: float, unit: str = "") -> str:
    if unit == "jobs" or float(x).is_integer() and abs(x) < 1e6 and unit not in ("s", "ms"):
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}" if abs(x) >= 0.01 else f"{x:.2g}"


def _spread(f: dict[str, Any]) -> str:
    unit = f["unit"]
    text = f"{_num(f['median'], unit)} {unit}"
    if f["n"] > 1:
        text += f" ({_num(f['min'], unit)}–{_num(f['max'], unit)})"
    return text


def _targets(doc: dict[str, Any]) -> list[str]:
    # The last column is an analysis of earlier profiles, not something this run measured: say so, with its date.
    analysis = f"What limited it (profile analysis of {findings.ANALYSED}, not this run)"
    lines = [f"| Target | Ours (median, min–max) | Result | {analysis} |", "|---|---|---|---|"]
    for t in doc["targets"]:
        key = t["id"]
        figure = _figure_for(doc, key)
        ours = _spread(figure) if figure else "—"
        mark = {True: "✅", False: "❌", None: "—"}[t["met"]]
        limit = findings.LIMITS.get(key, "") if t["met"] is False else ""
        lines.append(f"| {t['target']} | {ours} | {mark} {t['verdict']} | {limit} |")
    return lines


def _figure_for(doc: dict[str, Any], target_id: str) -> dict[str, Any] | None:
    from bench.targets import TARGETS

    target = next(t for t in TARGETS if t.id == target_id)
    key = target.figure[0] if isinstance(target.figure, tuple) else target.figure
    return doc["figures"].get(key)


def _peers(doc: dict[str, Any]) -> list[str]:
    figs = doc["figures"]
    base = figs.get("e2e.one_runner")
    rows = [("Raw spawn limit (`bash -c true`)", "limit.spawn", "nothing"),
            ("**Torc, 1 runner**", "e2e.one_runner", "a database: every job, result and event (embedded SecantusDB)"),
            ("Torc, 4 runner processes", "e2e.many_runners", "a database: every job, result and event"),
            ("Torc, 1 runner, passwords required", "e2e.one_runner_auth", "the same, every request authenticated"),
            ("Parsl", "peers.parsl", None), ("Dask distributed", "peers.dask", None),
            ("Snakemake", "peers.snakemake", None)]  # fmt: skip
    lines = ["| System | Jobs/s (median, min–max) | Torc 1 runner ÷ this | Wall time (s) | Persists |",
             "|---|---|---|---|---|"]  # fmt: skip
    for label, key, persists in rows:
        f = figs.get(key)
        if f is None:
            lines.append(f"| {label} | not run | | | |")
            continue
        ratio = f"{base['median'] / f['median']:.2f}" if base else ""
        secs = ", ".join(_num(s) for s in f["params"].get("seconds", [])) or "—"
        if "jobs_done_when_stopped" in f["params"]:
            done = ", ".join(f"{n:,}" for n in f["params"]["jobs_done_when_stopped"])
            secs += f" (stopped at the time limit; jobs done: {done})"
        lines.append(f"| {label} | {_spread(f)} | {ratio} | {secs} | {persists or f['params'].get('persists', '')} |")
    return lines


def _all_figures(doc: dict[str, Any]) -> list[str]:
    lines = ["| Figure | Median | Min–max | Repeats | Details |", "|---|---|---|---|---|"]
    for key, f in doc["figures"].items():
        details = "; ".join([f"{k}: {_short(v)}" for k, v in f["params"].items()] + f.get("notes", []))
        unit = f["unit"]
        lines.append(f"| {f['title']} (`{key}`) | {_num(f['median'], unit)} {unit} | "
                     f"{_num(f['min'], unit)}–{_num(f['max'], unit)} | {f['n']} | {details} |")  # fmt: skip
    return lines


def _short(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return _num(v)
    if isinstance(v, list):
        return "[" + ", ".join(_short(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_short(x)}" for k, x in v.items()) + "}"
    return str(v).replace("|", "\\|")


def render(doc: dict[str, Any]) -> str:
    meta = doc["meta"]
    cfg = meta["config"]
    out = [
        "# Benchmarks",
        "",
        f"Measured by `{meta['command']}` on {meta['finished'][:16].replace('T', ' ')} UTC in "
        f"{meta['duration_s'] / 60:.1f} min: {meta['host']['cpus']} cores, {meta['host']['memory_gb']:.0f} GiB, "
        f"Python {meta['host']['python']}, embedded database (SecantusDB {meta['versions'].get('secantusdb', '?')}), "
        f"a fresh database in a temp directory for every repeat. Load average when the run started: "
        f"{meta['load_start']}; when it ended: {meta['load_end']} (other work on the machine adds noise).",
        "",
        f"Every figure is the median of {cfg['repeat']} repeat{'s' if cfg['repeat'] > 1 else ''} with min–max"
        f"{' (Snakemake: one run)' if 'snakemake' in cfg.get('peers', []) else ''}; ratios compare medians taken in "
        "the same run. Parallelism everywhere: "
        f"{cfg['parallelism']} jobs in flight (the machine's cores), except where a row says otherwise. Peer "
        "versions: "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if k in ("parsl", "dask", "distributed",
                                                                              "snakemake")) + ".",
    ]  # fmt: skip
    out += ["", "Run it: `make bench` (everything; writes `bench/results/latest.json` and this page), "
            "`make bench-quick` (a reduced run in under two minutes, written to `bench/results/quick.*`), "
            "`python -m bench --only NAME` (one workload), `python -m bench.profile e2e|claims|create` (py-spy "
            "profiles of the server, database and clients), `python -m bench.ab REV` (the working tree against an "
            "earlier revision, end to end, in paired runs that see the same host). The peers come with "
            "`pip install -e '.[bench]'`."]
    if cfg.get("reductions"):
        out += ["", "**This is a reduced (`--quick`) run:**", ""] + [f"- {r}" for r in cfg["reductions"]]
    if cfg.get("notes"):
        out += ["", "**Notes from this run:**", ""] + [f"- {n}" for n in cfg["notes"]]
    if meta.get("only"):
        out += ["", f"Only these workloads were run: {', '.join(meta['only'])}."]
    if meta.get("errors"):
        out += ["", "**Workloads that failed in this run:**", ""] + [f"- {k}: {v}" for k, v in meta["errors"].items()]
    out += ["", "## Targets", ""] + _targets(doc)
    out += ["", "## Torc and its peers, same no-op jobs, same parallelism", ""] + _peers(doc)
    out += ["", findings.PEERS_NOTE]
    out += ["", "## Every figure", ""] + _all_figures(doc)
    out += ["", "## Against earlier code", "", findings.REVISIONS]
    out += ["", "## Where the time goes", "", findings.PROFILE]
    out += ["", "## How it is measured", "", findings.METHOD, ""]
    return "\n".join(out)


def main(argv: list[str]) -> None:
    src = Path(argv[0]) if argv else ROOT / "bench" / "results" / "latest.json"
    dst = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "benchmarks.md"
    dst.write_text(render(json.loads(src.read_text())))
    print(f"wrote {dst}")


if __name__ == "__main__":
    main(sys.argv[1:])
