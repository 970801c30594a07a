"""Tables of `torc logs analyze` and `torc slurm parse-logs`, drawn from the same records as their JSON."""

from __future__ import annotations

from rich.text import Text

from torc_client.cli.render import console, print_json, records_table
from torc_client.core.units import count
from torc_client.triage.families import Analysis
from torc_client.triage.slurm_logs import SlurmReport

#: Job ids listed per family in a table (all are in the JSON).
IDS_SHOWN = 20


def _ids(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:IDS_SHOWN]))
    return shown + (f", … ({len(ids) - IDS_SHOWN} more)" if len(ids) > IDS_SHOWN else "")


def show_analysis(analysis: Analysis, fmt: str) -> None:
    """Failure families, largest first: cause, how many jobs, their return codes and ids, an example line."""
    if fmt == "json":
        print_json(analysis.to_dict())
        return
    where = f"workflow {analysis.workflow_id}" if analysis.workflow_id is not None else "the logs"
    console().print(Text(f"{count(analysis.jobs_scanned, 'job')} of {where} scanned "
                         f"({count(analysis.files_scanned, 'log file')}): {count(len(analysis.families), 'family', 'families')}"))  # fmt: skip
    if not analysis.families:
        return
    columns = [("Jobs", lambda f: f.count), ("Cause", lambda f: f.cause),
               ("Return codes", lambda f: ", ".join(map(str, sorted(set(f.return_codes))))),
               ("Job ids", lambda f: _ids(f.job_ids)), ("Example", lambda f: f.example or f.signature)]  # fmt: skip
    console().print(records_table(analysis.families, columns))


def show_slurm_report(report: SlurmReport, fmt: str) -> None:
    """Issues in Slurm's logs per allocation, then the causes per affected job."""
    if fmt == "json":
        print_json(report.to_dict())
        return
    console().print(Text(f"Workflow {report.workflow_id}: {count(len(report.issues), 'issue')} in "
                         f"{count(report.files_scanned, 'Slurm log file')}"))  # fmt: skip
    if report.issues:
        columns = [("Slurm job", lambda i: i.slurm_job_id), ("Cause", lambda i: i.cause),
                   ("Node", lambda i: i.node or ""), ("Line", lambda i: f"{i.line_number}: {i.line}"),
                   ("Jobs", lambda i: _ids([j.job_id for j in i.affected_jobs]))]  # fmt: skip
        console().print(records_table(report.issues, columns))
    if report.jobs:
        columns = [("Job", lambda j: j.job_id), ("Name", lambda j: j.job_name), ("Status", lambda j: j.status),
                   ("Causes", lambda j: ", ".join(j.causes)), ("Slurm jobs", lambda j: ", ".join(j.slurm_job_ids))]  # fmt: skip
        console().print(records_table(report.jobs, columns))
