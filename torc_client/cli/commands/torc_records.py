"""Torc's commands on a workflow's records that were missing here: bulk deletes, derived listings, single records.

`jobs create-from-file|delete-all|list-resource-requirements|list-failure-handlers`,
`files list-required-existing`, `user-data delete-all|list-missing`, `events create|get-latest-event`,
`results delete`, `compute-nodes get`, `scheduled-compute-nodes get|list-jobs`, and the
`failure-handlers` and `job-dependencies` groups, as Torc 0.12 has them. Each reads or changes
records through the client; none needs a new endpoint.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from torc_client import contract as c
from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.client import Client
from torc_client.core.units import count
from torc_client.triage import collect


@click.command("create-from-file")
@workflow_id_argument
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cpus-per-job", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--memory-per-job", default="1m", show_default=True)
@click.option("--runtime-per-job", default="P0DT1M", show_default=True)
@pass_state
def jobs_create_from_file(state: State, workflow_id: int, file: Path, cpus_per_job: int, memory_per_job: str,
                          runtime_per_job: str) -> None:  # fmt: skip
    """Add one job per line of FILE (a command each; `#` starts a comment), all sharing one resource requirements.

    Jobs are named job1, job2, ... continuing from the workflow's job count, as in Torc.
    """
    client = state.client()
    commands = [line.strip() for line in file.read_text().splitlines() if line.strip() and not line.startswith("#")]
    first = len(client.list_jobs(workflow_id)) + 1
    name = f"from_file_cpus{cpus_per_job}_{memory_per_job}_{runtime_per_job}"
    rr = next((r for r in client.list_resource_requirements(workflow_id, name=name)), None) or \
        client.create_resource_requirements(workflow_id, name, num_cpus=cpus_per_job, memory=memory_per_job,
                                            runtime=runtime_per_job)  # fmt: skip
    made = [client.create_job(workflow_id, f"job{first + i}", command, resource_requirements_id=rr.id)
            for i, command in enumerate(commands)]  # fmt: skip
    render.message(f"Created {count(len(made), 'job')} in workflow {workflow_id} (resource requirements {rr.name})")
    if state.json:
        render.print_json(made)


@click.command("delete-all")
@workflow_id_argument
@pass_state
def jobs_delete_all(state: State, workflow_id: int) -> None:
    """Delete every job of a workflow that has not run yet."""
    client = state.client()
    gone = [client.delete_job(job.id) for job in client.list_jobs(workflow_id)]
    render.message(f"Deleted {count(len(gone), 'job')} of workflow {workflow_id}")


@click.command("list-resource-requirements")
@workflow_id_argument
@click.option("-j", "--job-id", type=int, default=None, help="Only this job.")
@pass_state
def jobs_list_resource_requirements(state: State, workflow_id: int, job_id: int | None) -> None:
    """Each job with its resource requirements."""
    client = state.client()
    groups = {rr.id: rr for rr in client.list_resource_requirements(workflow_id)}
    rows = []
    for job in client.list_jobs(workflow_id):
        rr = groups.get(job.resource_requirements_id or -1)
        if job_id is None or job.id == job_id:
            rows.append({"job_id": job.id, "job_name": job.name, "requirements_id": job.resource_requirements_id,
                         "requirements_name": rr.name if rr else None, "num_cpus": rr.num_cpus if rr else None,
                         "num_gpus": rr.num_gpus if rr else None, "num_nodes": rr.num_nodes if rr else None,
                         "memory": rr.memory if rr else None, "runtime": rr.runtime if rr else None})  # fmt: skip
    render.show_rows(rows, state.format)


@click.command("list-failure-handlers")
@workflow_id_argument
@pass_state
def list_failure_handlers(state: State, workflow_id: int) -> None:
    """A workflow's failure handlers and their rules."""
    handlers = state.client().list_failure_handlers(workflow_id)
    if state.json:
        render.print_json(handlers)
        return
    render.show_rows([{"id": h.get("id"), "name": h.get("name"), "rules": json.dumps(h.get("rules", []))}
                      for h in handlers], state.format)  # fmt: skip


@click.command("get")
@click.argument("handler_id", type=int)
@pass_state
def failure_handler_get(state: State, handler_id: int) -> None:
    """One failure handler."""
    handler = state.client().get_failure_handler(handler_id)
    if state.json:
        render.print_json(handler)
    else:
        render.show_rows([{key: json.dumps(v) if isinstance(v, list | dict) else v for key, v in handler.items()}],
                         state.format)  # fmt: skip


@click.group("failure-handlers")
def failure_handlers() -> None:
    """A workflow's failure handlers (defined in its spec)."""


failure_handlers.add_command(list_failure_handlers, "list")
failure_handlers.add_command(failure_handler_get)


@click.command("list-required-existing")
@workflow_id_argument
@pass_state
def files_list_required_existing(state: State, workflow_id: int) -> None:
    """Files that jobs read and no job writes: they must exist before the workflow starts."""
    client = state.client()
    jobs = client.list_jobs(workflow_id)
    written = {fid for job in jobs for fid in job.output_file_ids}
    read = {fid for job in jobs for fid in job.input_file_ids}
    files = [f for f in client.list_files(workflow_id) if f.id in read - written]
    render.show_list(files, c.File, state.format)


@click.command("delete-all")
@workflow_id_argument
@pass_state
def user_data_delete_all(state: State, workflow_id: int) -> None:
    """Delete every user_data record of a workflow."""
    client = state.client()
    gone = [client.delete_user_data(record.id) for record in client.list_user_data(workflow_id)]
    render.message(f"Deleted {count(len(gone), 'user_data record')} of workflow {workflow_id}")


@click.command("list-missing")
@workflow_id_argument
@pass_state
def user_data_list_missing(state: State, workflow_id: int) -> None:
    """user_data records jobs read that no job writes and that hold no data yet."""
    client = state.client()
    jobs = client.list_jobs(workflow_id)
    written = {uid for job in jobs for uid in job.output_user_data_ids}
    read = {uid for job in jobs for uid in job.input_user_data_ids}
    missing = [u for u in client.list_user_data(workflow_id) if u.id in read - written and u.data is None]
    render.show_list(missing, c.UserData, state.format)


@click.command("create")
@workflow_id_argument
@click.option("-d", "--data", required=True, help="The event's data, a JSON object.")
@click.option("-c", "--category", default="user", show_default=True)
@pass_state
def events_create(state: State, workflow_id: int, data: str, category: str) -> None:
    """Add an event to a workflow's log."""
    try:
        fields = json.loads(data)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from None
    if not isinstance(fields, dict):
        raise click.BadParameter("a JSON object, e.g. '{\"note\": \"restarted\"}'", param_hint="--data")
    event = state.client().add_event(workflow_id, str(fields.pop("message", "")), category=category, **fields)
    render.show_record(event, state.format)


@click.command("get-latest-event")
@workflow_id_argument
@pass_state
def events_get_latest(state: State, workflow_id: int) -> None:
    """The most recent event of a workflow."""
    client = state.client()
    after, last = 0, None
    while True:
        page = client.list_events(workflow_id, after=after, limit=1000)
        if page.items:
            last, after = page.items[-1], page.items[-1].id
        if not page.has_more or not page.items:
            break
    if last is None:
        raise click.ClickException(f"workflow {workflow_id} has no events")
    render.show_record(last, state.format)


@click.command("delete")
@click.argument("result_id", type=int)
@pass_state
def results_delete(state: State, result_id: int) -> None:
    """Delete one result."""
    result = state.client().delete_result(result_id)
    render.message(f"Deleted result {result_id} (job {result.job_id}, run {result.run_id})")


@click.command("get")
@click.argument("node_id", type=int)
@pass_state
def compute_node_get(state: State, node_id: int) -> None:
    """One compute node (a runner's record)."""
    render.show_record(state.client().get_compute_node(node_id), state.format)


@click.command("get")
@click.argument("node_id", type=int)
@pass_state
def scheduled_node_get(state: State, node_id: int) -> None:
    """One scheduled compute node (an allocation)."""
    render.show_record(state.client().get_scheduled_compute_node(node_id), state.format)


@click.command("list-jobs")
@click.argument("node_id", type=int)
@pass_state
def scheduled_node_list_jobs(state: State, node_id: int) -> None:
    """The jobs whose attempts ran in an allocation."""
    client = state.client()
    allocation = client.get_scheduled_compute_node(node_id)
    jobs = collect.jobs_by_allocation(client, allocation.workflow_id).get(allocation.slurm_job_id, [])
    render.show_rows([{"job_id": j.job_id, "job_name": j.job_name, "status": j.status} for j in jobs], state.format)


def _edges(client: Client, workflow_id: int, kind: str) -> list[dict]:
    jobs = client.list_jobs(workflow_id)
    names = {job.id: job.name for job in jobs}
    if kind == "job":
        return [{"job_id": j.id, "job_name": j.name, "depends_on_job_id": up, "depends_on_job_name": names.get(up)}
                for j in jobs for up in j.depends_on_job_ids]  # fmt: skip
    records = client.list_files(workflow_id) if kind == "file" else client.list_user_data(workflow_id)
    key = f"{kind}_name"
    by_id = {r.id: r.name for r in records}
    ins, outs = ("input_file_ids", "output_file_ids") if kind == "file" else ("input_user_data_ids",
                                                                              "output_user_data_ids")  # fmt: skip
    return [{"job_id": j.id, "job_name": j.name, "direction": direction, f"{kind}_id": rid, key: by_id.get(rid)}
            for j in jobs for direction, field in (("input", ins), ("output", outs))
            for rid in getattr(j, field)]  # fmt: skip


@click.group("job-dependencies")
def job_dependencies() -> None:
    """How a workflow's jobs depend on each other, on files and on user_data."""


for _kind, _name, _what in (("job", "job-job", "jobs they run after"),
                            ("file", "job-file", "files they read and write"),
                            ("user_data", "job-user-data", "user_data they read and write")):  # fmt: skip

    def _command(state: State, workflow_id: int, kind: str = _kind) -> None:
        render.show_rows(_edges(state.client(), workflow_id, kind), state.format)

    _command.__doc__ = f"Each job with the {_what}."
    job_dependencies.add_command(click.command(_name)(workflow_id_argument(pass_state(_command))))
