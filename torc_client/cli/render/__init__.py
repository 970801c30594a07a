"""Records to rich tables or JSON: the only place the CLI draws output.

Tables use rounded boxes (╭─┬─╮) and render in full when stdout is not a terminal, so
pipes and tests read every cell. JSON is the records themselves (`msgspec.to_builtins`),
pretty-printed: a single record bare, a list as a bare array (`jq '.[]'` works).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TextIO

import msgspec
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from torc_client import contract as c
from torc_client.cli import listing
from torc_client.core import states
from torc_client.core.units import count

#: Width of the console when output is not a terminal: wide enough that nothing wraps or is cut.
PIPE_WIDTH = 1_000_000

Column = tuple[str, Callable[[Any], Any]]


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr) that never truncates when it is not a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    probe = Console(file=stream)
    if probe.is_terminal:
        return Console(file=stream, highlight=False)
    return Console(file=stream, highlight=False, width=PIPE_WIDTH, color_system=None, soft_wrap=False)


# --- cell formatting ----------------------------------------------------------------


def compact_json(value: Any) -> str:
    """A JSON value on one line (`null` for None)."""
    return json.dumps(value, ensure_ascii=False)


def first_line(text: str) -> str:
    """The first non-empty line of `text`, with `…` when more lines follow."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    return lines[0] + (" …" if len(lines) > 1 else "")


def human_bytes(num: int | None) -> str:
    if num is None:
        return ""
    size = float(num)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(num)


def epoch_time(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _number(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _cell(value: Any) -> Text:
    if value is None:
        return Text("")
    if isinstance(value, bool):
        return Text("true" if value else "false")
    if isinstance(value, (dict, list)):
        return Text(compact_json(value))
    return Text(str(value))


# --- columns per record type ----------------------------------------------------------


def result_columns(job_names: Mapping[int, str]) -> list[Column]:
    """Result columns; job names come from the jobs of the workflow."""
    return [
        ("ID", lambda r: r.id),
        ("Job ID", lambda r: r.job_id),
        ("Job Name", lambda r: job_names.get(r.job_id, "")),
        ("Run ID", lambda r: r.run_id),
        ("Attempt", lambda r: r.attempt_id),
        ("Return Code", lambda r: r.return_code),
        ("Status", lambda r: r.status),
        ("Exec Time (min)", lambda r: _number(r.exec_time_minutes)),
        ("Peak Mem", lambda r: human_bytes(r.peak_memory_bytes)),
        ("Peak CPU %", lambda r: _number(r.peak_cpu_percent, 1)),
        ("Completion Time", lambda r: r.completion_time),
    ]


COLUMNS: dict[type, list[Column]] = {
    c.Workflow: [
        ("ID", lambda w: w.id),
        ("Name", lambda w: w.name),
        ("Description", lambda w: w.description),
        ("User", lambda w: w.user),
        ("Status", lambda w: w.status),
        ("Timestamp", lambda w: w.timestamp),
    ],
    c.Job: [
        ("ID", lambda j: j.id),
        ("Name", lambda j: j.name),
        ("Status", lambda j: j.status),
        ("Command", lambda j: first_line(j.command)),
    ],
    c.Result: result_columns({}),
    c.UserData: [
        ("ID", lambda u: u.id),
        ("Name", lambda u: u.name),
        ("Data", lambda u: compact_json(u.data)),
        ("Workflow ID", lambda u: u.workflow_id),
    ],
    c.File: [
        ("ID", lambda f: f.id),
        ("Name", lambda f: f.name),
        ("Path", lambda f: f.path),
        ("Modified Time", lambda f: epoch_time(f.st_mtime)),
    ],
    c.ResourceRequirements: [
        ("ID", lambda r: r.id),
        ("Name", lambda r: r.name),
        ("CPUs", lambda r: r.num_cpus),
        ("GPUs", lambda r: r.num_gpus),
        ("Nodes", lambda r: r.num_nodes),
        ("Memory", lambda r: r.memory),
        ("Runtime", lambda r: r.runtime),
    ],
    c.Event: [
        ("ID", lambda e: e.id),
        ("Timestamp", lambda e: epoch_time(e.timestamp / 1000)),
        ("Category", lambda e: e.category),
        ("Message", lambda e: e.message),
        ("Data", lambda e: compact_json(e.data) if e.data else ""),
    ],
    c.ComputeNode: [
        ("ID", lambda n: n.id),
        ("Hostname", lambda n: n.hostname),
        ("PID", lambda n: n.pid),
        ("Active", lambda n: n.is_active),
        ("CPUs", lambda n: n.num_cpus),
        ("Memory (GB)", lambda n: _number(n.memory_gb, 1)),
        ("GPUs", lambda n: n.num_gpus),
        ("Start Time", lambda n: n.start_time),
        ("Duration (s)", lambda n: _number(n.duration_seconds, 1)),
    ],
    c.SlurmScheduler: [
        ("ID", lambda s: s.id),
        ("Name", lambda s: s.name),
        ("Account", lambda s: s.account),
        ("Partition", lambda s: s.partition),
        ("Nodes", lambda s: s.nodes),
        ("Walltime", lambda s: s.walltime),
        ("Mem", lambda s: s.mem),
        ("GRES", lambda s: s.gres),
    ],
    c.WorkflowAction: [
        ("ID", lambda a: a.id),
        ("Trigger", lambda a: a.trigger_type),
        ("Action", lambda a: a.action_type),
        ("Triggers", lambda a: f"{a.trigger_count}/{a.required_triggers}"),
        ("Pending", lambda a: a.is_pending),
        ("Executed", lambda a: a.executed),
        ("Executed By", lambda a: a.executed_by),
    ],
    c.ScheduledComputeNode: [
        ("ID", lambda n: n.id),
        ("Slurm Job", lambda n: n.scheduler_id),
        ("Scheduler ID", lambda n: n.scheduler_config_id),
        ("Status", lambda n: n.status),
        ("Submitted", lambda n: n.submitted_at),
        ("Action", lambda n: n.action_id),
    ],
}


# --- tables ---------------------------------------------------------------------------


def records_table(records: Sequence[Any], columns: Sequence[Column]) -> Table:
    """One row per record, one column per (header, getter)."""
    table = Table(box=box.ROUNDED)
    for header, _ in columns:
        table.add_column(header)
    for record in records:
        table.add_row(*(_cell(getter(record)) for _, getter in columns))
    return table


def fields_table(record: Any) -> Table:
    """A single record as Field │ Value rows."""
    table = Table(box=box.ROUNDED)
    table.add_column("Field")
    table.add_column("Value")
    for key, value in _builtins(record).items():
        table.add_row(Text(key), _cell(value))
    return table


def counts_table(job_counts: Mapping[str, int], exec_times: Mapping[str, str] | None = None) -> Table:
    """Jobs per status, in the order of the job life cycle; with `exec_times`, the time each status's jobs ran."""
    table = Table(box=box.ROUNDED)
    table.add_column("Status")
    table.add_column("Jobs", justify="right")
    if exec_times is not None:
        table.add_column("Exec Time", justify="right")
    for status in sorted(job_counts, key=states.lifecycle_order):
        times = [] if exec_times is None else [Text(exec_times.get(status, ""))]
        table.add_row(Text(status), Text(str(job_counts[status])), *times)
    return table


# --- entry points used by the commands --------------------------------------------------


def _builtins(value: Any) -> Any:
    return msgspec.to_builtins(value)


def print_json(value: Any, stream: TextIO | None = None) -> None:
    """Pretty JSON of records (or plain data) on stdout."""
    text = json.dumps(_builtins(value), indent=2, ensure_ascii=False)
    print(text, file=stream or sys.stdout, flush=True)


def show_list(records: Sequence[Any], record_type: type, fmt: str, columns: Sequence[Column] | None = None) -> None:
    """A list of records (in the order `--sort-by` asks for): a bare JSON array, CSV, or a table."""
    records = listing.ordered(records)
    if fmt == "csv":
        listing.write_csv(records)
        return
    if fmt == "json":
        print_json(list(records))
        return
    console().print(records_table(records, columns or COLUMNS[record_type]))


def show_rows(rows: Sequence[Mapping[str, Any]], fmt: str) -> None:
    """Plain rows (dicts with the same keys), in the order `--sort-by` asks for: a table, CSV, or a JSON list."""
    rows = listing.ordered(rows)
    if fmt == "csv":
        listing.write_csv(rows)
        return
    if fmt == "json":
        print_json(list(rows))
        return
    keys = list(rows[0]) if rows else []
    columns = [(key.replace("_", " ").title(), lambda row, key=key: row[key]) for key in keys]
    console().print(records_table(rows, columns))


def show_record(record: Any, fmt: str) -> None:
    """One record: bare JSON, a CSV row, or a Field │ Value table."""
    if fmt == "csv":
        listing.write_csv([record])
        return
    if fmt == "json":
        print_json(record)
        return
    console().print(fields_table(record))


def show_status(status: c.WorkflowStatus, fmt: str) -> None:
    """A workflow's status: its flags, then how many jobs are in each status."""
    if fmt == "json":
        print_json(status)
        return
    out = console()
    state = "complete" if status.is_complete else ("canceled" if status.is_canceled else (
        "initialized" if status.is_initialized else "not initialized"))  # fmt: skip
    out.print(Text(f"Workflow {status.workflow_id}: {state}, run {status.run_id}, {count(status.num_jobs, 'job')}"))
    out.print(counts_table(status.job_counts))


def show_initialized(result: c.InitializeResult, fmt: str) -> None:
    if fmt == "json":
        print_json(result)
        return
    counts = ", ".join(f"{n} {s}" for s, n in result.job_counts.items())
    console().print(Text(f"Initialized workflow {result.workflow_id} (run {result.run_id}): {counts}"))


def show_reinitialized(result: c.ReinitializeResult, fmt: str) -> None:
    """The jobs a reinitialisation reruns (or would rerun, in a dry run), each with its reasons."""
    if fmt == "json":
        print_json(result)
        return
    verb = "would rerun" if result.dry_run else "rerun"
    head = f"Workflow {result.workflow_id}: {count(len(result.jobs), 'job')} {verb}"
    head += "" if result.dry_run else f" in run {result.run_id}"
    console().print(Text(head))
    if result.jobs:
        columns = [("ID", lambda r: r.job_id), ("Name", lambda r: r.job_name), ("Status", lambda r: r.status),
                   ("Why", lambda r: "; ".join(r.reasons))]  # fmt: skip
        console().print(records_table(result.jobs, columns))


def event_line(event: c.Event) -> str:
    """One event as a line of text, for `events watch`."""
    data = f" {compact_json(event.data)}" if event.data else ""
    return f"{epoch_time(event.timestamp / 1000)} [{event.category}] {event.message}{data}"


def status_line(status: c.WorkflowStatus) -> str:
    """A workflow's job counts on one line, for plain (non-terminal) progress."""
    counts = ", ".join(f"{s} {n}" for s, n in status.job_counts.items() if n)
    return f"workflow {status.workflow_id} run {status.run_id}: {counts or 'no jobs'}"


def error(message: str) -> None:
    """An error message on stderr."""
    print(f"Error: {message}", file=sys.stderr, flush=True)


def message(text: str) -> None:
    """A message for the person (not data) on stderr."""
    print(text, file=sys.stderr, flush=True)
