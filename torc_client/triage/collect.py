"""Where a workflow's logs are, and reading them: from the server's records and the runners' output directories,
or from a directory or a bundle (`wf{W}.tar.gz`) someone sent. The classification is `families`' and
`slurm_logs`'; this module only finds and reads.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from torc_client.analysis import reports
from torc_client.analysis.diagnosis import latest_results
from torc_client.client import Client
from torc_client.core.errors import TorcError
from torc_client.triage.families import JobLogs
from torc_client.triage.slurm_logs import AffectedJob, allocation_of

#: Only the end of a big log is read: the error that ended a job is at its end.
TAIL_BYTES = 256 * 1024
#: A job log's name: workflow, job, run and attempt (`settings.job_log_stem`).
JOB_LOG = re.compile(r"job_wf(\d+)_j(\d+)_r(\d+)_a(\d+)\.(o|e|log)$")


def tail(data: bytes, limit: int = TAIL_BYTES) -> str:
    return data[-limit:].decode(errors="replace")


def read_tail(path: Path, limit: int = TAIL_BYTES) -> str:
    """The last `limit` bytes of a file as text ("" when it is missing)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - limit))
            return tail(f.read(), limit)
    except OSError:
        return ""


def log_dirs(client: Client, workflow_id: int, output_dir: str) -> reports.LogDirs:
    """The output directory each runner of the workflow recorded, `output_dir` for runners that did not."""
    recorded = {node.id: node.output_dir for node in client.list_compute_nodes(workflow_id) if node.output_dir}
    return reports.LogDirs(output_dir, recorded)


def job_logs(client: Client, workflow_id: int, output_dir: str, everything: bool = False) -> tuple[list[JobLogs], int]:
    """The logs of the latest attempt of each unsuccessful job (of every job that ran, with `everything`)."""
    jobs = {job.id: job for job in client.list_jobs(workflow_id)}
    dirs = log_dirs(client, workflow_id, output_dir)
    found, files = [], 0
    for result in latest_results(client.list_results(workflow_id)).values():
        job = jobs.get(result.job_id)
        if job is None or not (everything or job.status in reports.UNSUCCESSFUL):
            continue
        attempt = reports.attempt_of(result, job.name, None, dirs)
        out, err = read_tail(Path(attempt.stdout)), read_tail(Path(attempt.stderr))
        files += len({p for p in (attempt.stdout, attempt.stderr) if Path(p).exists()})
        found.append(JobLogs(job.id, job.name, job.status, result.return_code, out, err, attempt.stdout,
                             attempt.stderr))  # fmt: skip
    return found, files


def job_logs_at(path: Path, workflow_id: int | None) -> tuple[list[JobLogs], int, int | None]:
    """The latest attempt's logs of each job found in a directory or a bundle; (logs, files, workflow id)."""
    texts: dict[tuple[int, int], dict[tuple[int, int], dict[str, tuple[str, str]]]] = {}
    files = 0
    for name, read in _members(path):
        found = JOB_LOG.search(name)
        if not found:
            continue
        wid, jid, run, attempt = (int(g) for g in found.groups()[:4])
        if workflow_id is not None and wid != workflow_id:
            continue
        files += 1
        texts.setdefault((wid, jid), {}).setdefault((run, attempt), {})[found.group(5)] = (name, read())
    workflows = sorted({wid for wid, _ in texts})
    if len(workflows) > 1:
        raise TorcError(f"{path} holds the logs of workflows {', '.join(map(str, workflows))}: choose one with "
                        "--workflow-id")  # fmt: skip
    logs = []
    for (_, jid), attempts in sorted(texts.items()):
        latest = attempts[max(attempts)]
        both = latest.get("log", ("", ""))  # `stdio: {mode: combined}`: one file holds stdout and stderr
        out, err = latest.get("o", both), latest.get("e", both)
        logs.append(JobLogs(jid, f"job {jid}", "", None, out[1], err[1], out[0], err[0]))
    return logs, files, workflows[0] if workflows else workflow_id


def _members(path: Path) -> Iterator[tuple[str, Callable[[], str]]]:
    """(name, a function reading its text) for every file under a directory or in a .tar.gz bundle."""
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            yield str(file), lambda file=file: read_tail(file)
        return
    if not path.exists():
        raise TorcError(f"{path} does not exist: give a log directory or a bundle made by `torc logs bundle`")
    with tarfile.open(path, "r:*") as archive:
        for member in archive.getmembers():
            if member.isfile():
                yield member.name, lambda member=member: tail(archive.extractfile(member).read())


def allocation_logs(dirs: list[str], workflow_id: int) -> list[tuple[str, str, str]]:
    """(file, Slurm job id, text) of every Slurm log of the workflow's allocations in `dirs`."""
    found = {}
    for base in dict.fromkeys(Path(d).resolve() for d in dirs):
        if not base.is_dir():
            continue
        for file in sorted(base.iterdir()):
            slurm_id = allocation_of(file.name, workflow_id)
            if slurm_id is not None and file.is_file():
                found[str(file)] = (str(file), slurm_id, read_tail(file))
    return list(found.values())


def jobs_by_allocation(client: Client, workflow_id: int) -> dict[str, list[AffectedJob]]:
    """Slurm job id -> the jobs whose attempts ran in that allocation (from the runners' records and the results)."""
    allocation = {node.id: node.scheduler_id for node in client.list_compute_nodes(workflow_id) if node.scheduler_id}
    jobs = {job.id: job for job in client.list_jobs(workflow_id)}
    found: dict[str, dict[int, AffectedJob]] = {}
    for result in client.list_results(workflow_id, all_runs=True):
        slurm_id = allocation.get(result.compute_node_id or -1)
        job = jobs.get(result.job_id)
        if slurm_id is not None and job is not None:
            found.setdefault(slurm_id, {})[job.id] = AffectedJob(job.id, job.name, job.status)
    return {slurm_id: [by_id[j] for j in sorted(by_id)] for slurm_id, by_id in found.items()}


def bundle(client: Client, workflow_id: int, output_dir: str, bundle_dir: Path) -> tuple[Path, list[str]]:
    """Write `wf{W}.tar.gz`: the workflow's logs (job, runner and Slurm files naming it) and what the server knows."""
    workflow = client.get_workflow(workflow_id)
    dirs = {Path(d).resolve() for d in [output_dir, *log_dirs(client, workflow_id, output_dir).by_node.values()]}
    mark = f"wf{workflow_id}_"
    files = sorted({str(p) for d in dirs if d.is_dir() for p in d.rglob(f"*{mark}*") if p.is_file()})
    bundle_dir.mkdir(parents=True, exist_ok=True)
    target = bundle_dir / f"wf{workflow_id}.tar.gz"
    records = {
        "workflow.json": workflow.to_dict(),
        "jobs.json": [job.to_dict() for job in client.list_jobs(workflow_id)],
        "results.json": [result.to_dict() for result in client.list_results(workflow_id, all_runs=True)],
        "bundle_metadata.json": {"workflow_id": workflow_id, "workflow_name": workflow.name,
                                 "workflow_user": workflow.user, "files_collected": len(files),
                                 "collected_at": datetime.now(timezone.utc).isoformat()},
    }  # fmt: skip
    with tarfile.open(target, "w:gz") as archive:
        for file in files:
            archive.add(file, arcname=f"logs/{Path(file).parent.name}/{Path(file).name}")
        for name, value in records.items():
            data = json.dumps(value, indent=2).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return target, files
