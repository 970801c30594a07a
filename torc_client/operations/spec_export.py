"""Export a workflow from the server as a spec dict: `torc workflows import` (or `create`) makes a copy of it.

    doc = export_spec(client, workflow_id)
    text = dump_spec_text(doc, "yaml")       # or json, json5, kdl

The spec lists concrete jobs (parameters are already expanded on the server) and names every
record instead of giving its id. Keys at their default are left out, and so are empty lists
(KDL cannot write one). What a spec cannot say is not exported: run state (job statuses,
results, file modification times).

A job's `depends_on` lists only the upstream jobs that its input files and user_data do not already
imply (the server keeps one list of upstream jobs), which gives the same graph. The server writes
a user_data record's id into commands in place of `${user_data.input.NAME}`, and keeps the text as
the spec wrote it (`spec_command`): that text is exported, so the copy uses its own records.

`working_dir` is exported, so relative paths mean the same files; `torc workflows import
--working-dir` chooses another. `user` is not: the copy belongs to whoever imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from torc_client import contract as c
from torc_client.client import Client
from torc_client.core import settings
from torc_client.spec import DEFAULT_RESOURCES, DEFAULT_SETTINGS

#: Records asked for per request: the largest page the API allows (the server reads every record of a
#: workflow's files, user_data, ... for each page, so one page is cheapest).
PAGE = settings.MAX_PAGE_LIMIT
#: Jobs asked for per request: the server reads only the page, in time proportional to it (about 25 s for
#: 100,000 jobs on the embedded database), so a page this size stays within the client's timeout.
JOB_PAGE = min(100_000, settings.MAX_PAGE_LIMIT)
_RESOURCE_DEFAULTS = {"num_cpus": 1, "num_gpus": 0, "num_nodes": 1, "memory": "1m", "runtime": "PT1H"}
_RULE_DEFAULTS: dict[str, Any] = {"exit_codes": [], "match_all_exit_codes": False, "recovery_script": None,
                                  "max_retries": 3}  # fmt: skip
_SCHEDULER_DEFAULTS: dict[str, Any] = {"nodes": 1, "walltime": settings.DEFAULT_WALLTIME}
_ACTION_DEFAULTS: dict[str, Any] = {"num_allocations": 1, "start_one_worker_per_node": False,
                                    "max_parallel_jobs": None}  # fmt: skip
_MONITOR_DEFAULTS = {**DEFAULT_SETTINGS["resource_monitor"], "generate_plots": False, "metrics": []}
#: Workflow settings kept on the workflow record (the workflow's `cancel_on_blocking_job_failure` is only a
#: default for its jobs, each of which keeps its own value).
_SETTINGS = [key for key in DEFAULT_SETTINGS if key not in ("cancel_on_blocking_job_failure", "resource_monitor",
                                                           "execution_config")]  # fmt: skip


def export_spec(client: Client, workflow_id: int) -> dict[str, Any]:
    """The spec of a workflow: what `create_workflow_from_spec` turns into an equal workflow."""
    workflow = client.get_workflow(workflow_id)  # NotFoundError first, before any listing
    jobs = _every(lambda offset: client.list_jobs(workflow_id, offset=offset, limit=JOB_PAGE), JOB_PAGE)
    files = _every(lambda offset: client.list_files(workflow_id, offset=offset, limit=PAGE))
    user_data = _every(lambda offset: client.list_user_data(workflow_id, offset=offset, limit=PAGE))
    resources = _every(lambda offset: client.list_resource_requirements(workflow_id, offset=offset, limit=PAGE))
    handlers = _every(lambda offset: client.request(
        "GET", "/failure_handlers", c.Page[dict[str, Any]],
        params={"workflow_id": workflow_id, "offset": offset, "limit": PAGE}).items)  # fmt: skip
    schedulers = client.list_slurm_schedulers(workflow_id)
    actions = client.list_actions(workflow_id)

    names = _Names(jobs, files, user_data, resources, handlers, schedulers)
    doc: dict[str, Any] = {"name": workflow.name}
    for key in ("description", "project", "metadata", "working_dir"):
        _put(doc, key, getattr(workflow, key))
    for key in _SETTINGS:
        if getattr(workflow, key) != DEFAULT_SETTINGS[key]:
            doc[key] = getattr(workflow, key)
    _put(doc, "resource_monitor", {k: v for k, v in workflow.resource_monitor.to_dict().items()
                                   if v != _MONITOR_DEFAULTS.get(k)})  # fmt: skip
    _put(doc, "execution_config", {k: v for k, v in workflow.execution_config.to_dict().items()
                                   if v != DEFAULT_SETTINGS["execution_config"].get(k)})  # fmt: skip
    _put(doc, "resource_requirements", [entry for entry in map(_resources, resources) if entry])
    _put(doc, "files", [{"name": f.name, "path": f.path} for f in files])
    _put(doc, "user_data", [_user_data(record) for record in user_data])
    _put(doc, "failure_handlers", [{"name": fh["name"], "rules": [_tidy(rule, _RULE_DEFAULTS) for rule in fh["rules"]]}
                                   for fh in handlers])  # fmt: skip
    _put(doc, "slurm_schedulers", [_scheduler(s) for s in schedulers])
    _put(doc, "slurm_defaults", workflow.slurm_defaults)
    _put(doc, "actions", [_action(action, names) for action in actions])
    doc["jobs"] = _jobs(jobs, names, workflow.env)
    return doc


def _every(fetch: Callable[[int], list], size: int | None = None) -> list:
    """Every record of a listing, a page of `size` (default `PAGE`) records at a time (`fetch(offset)` gives one)."""
    size = size or PAGE
    items: list = []
    while True:
        page = fetch(len(items))
        items.extend(page)
        if len(page) < size:
            return items


def _put(doc: dict[str, Any], key: str, value: Any) -> None:
    """Set `key` unless `value` is None or empty."""
    if value is not None and value != "" and value != [] and value != {}:
        doc[key] = value


def _tidy(record: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """`record` without its None values, empty lists and values equal to `defaults`."""
    tidy: dict[str, Any] = {}
    for key, value in record.items():
        if key not in defaults or value != defaults[key]:
            _put(tidy, key, value)
    return tidy


class _Names:
    """Record ids to names, and which job writes each file and user_data record."""

    def __init__(self, jobs: list[c.Job], files: list[c.File], user_data: list[c.UserData],
                 resources: list[c.ResourceRequirements], handlers: list[dict[str, Any]],
                 schedulers: list[c.SlurmScheduler]) -> None:  # fmt: skip
        self.jobs = {job.id: job.name for job in jobs}
        self.files = {f.id: f.name for f in files}
        self.user_data = {u.id: u.name for u in user_data}
        self.resources = {r.id: r.name for r in resources}
        self.handlers = {fh["id"]: fh["name"] for fh in handlers}
        self.schedulers = {s.id: s.name for s in schedulers}
        self.file_producers = _producers((job.id, job.output_file_ids) for job in jobs)
        self.data_producers = _producers((job.id, job.output_user_data_ids) for job in jobs)


def _producers(outputs: Iterable[tuple[int, list[int]]]) -> dict[int, set[int]]:
    producers: dict[int, set[int]] = {}
    for job_id, record_ids in outputs:
        for record_id in record_ids:
            producers.setdefault(record_id, set()).add(job_id)
    return producers


def _resources(record: c.ResourceRequirements) -> dict[str, Any]:
    """The entry of a set of resource requirements; none for the built-in default, which every workflow has."""
    values = {key: getattr(record, key) for key in _RESOURCE_DEFAULTS}
    if record.name == DEFAULT_RESOURCES and values == _RESOURCE_DEFAULTS:
        return {}
    return {"name": record.name, **_tidy(values, _RESOURCE_DEFAULTS)}


def _user_data(record: c.UserData) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": record.name}
    if record.data is not None:
        entry["data"] = record.data  # kept when empty: `{}` and `[]` are values
    if record.is_ephemeral:
        entry["is_ephemeral"] = True
    return entry


def _scheduler(record: c.SlurmScheduler) -> dict[str, Any]:
    return _tidy({k: v for k, v in record.to_dict().items() if k not in ("id", "workflow_id")}, _SCHEDULER_DEFAULTS)


def _action(action: c.WorkflowAction, names: _Names) -> dict[str, Any]:
    entry: dict[str, Any] = {"trigger_type": action.trigger_type, "action_type": action.action_type}
    _put(entry, "jobs", [names.jobs[i] for i in action.job_ids if i in names.jobs])
    config = action.action_config
    if action.action_type == "run_commands":
        _put(entry, "commands", config.get("commands"))
    else:
        entry["scheduler"] = names.schedulers.get(config.get("scheduler_id"), config.get("scheduler"))
        entry["scheduler_type"] = config.get("scheduler_type") or "slurm"
        entry.update(_tidy({k: config.get(k, v) for k, v in _ACTION_DEFAULTS.items()}, _ACTION_DEFAULTS))
    if action.persistent:
        entry["persistent"] = True
    return entry


def _own_env(job: c.Job, shared: dict[str, str]) -> dict[str, str] | None:
    """A job's `env` as its spec entry gives it: what differs from the workflow's `env` (merged in at creation)."""
    own = {k: v for k, v in (job.env or {}).items() if shared.get(k) != v}
    return own or None


def _jobs(jobs: list[c.Job], names: _Names, shared_env: dict[str, str]) -> list[dict[str, Any]]:
    entries = []
    for job in jobs:
        entry: dict[str, Any] = {"name": job.name, "command": job.spec_command or job.command}
        if job.invocation_script is not None:
            entry["invocation_script"] = job.spec_invocation_script or job.invocation_script
        resources = names.resources.get(job.resource_requirements_id)
        if resources not in (None, DEFAULT_RESOURCES):
            entry["resource_requirements"] = resources
        _put(entry, "failure_handler", names.handlers.get(job.failure_handler_id))
        if not job.cancel_on_blocking_job_failure:
            entry["cancel_on_blocking_job_failure"] = False
        if job.supports_termination:
            entry["supports_termination"] = True
        _put(entry, "scheduler", job.scheduler)
        if job.priority:
            entry["priority"] = job.priority
        _put(entry, "env", _own_env(job, shared_env))
        _put(entry, "stdio", job.stdio.to_dict() if job.stdio else None)
        implied = {p for i in job.input_file_ids for p in names.file_producers.get(i, ())}
        implied.update(p for i in job.input_user_data_ids for p in names.data_producers.get(i, ()))
        _put(entry, "depends_on", [names.jobs[i] for i in sorted(set(job.depends_on_job_ids) - implied)
                                   if i in names.jobs])  # fmt: skip
        _put(entry, "input_files", [names.files[i] for i in job.input_file_ids])
        _put(entry, "output_files", [names.files[i] for i in job.output_file_ids])
        _put(entry, "input_user_data", [names.user_data[i] for i in job.input_user_data_ids])
        _put(entry, "output_user_data", [names.user_data[i] for i in job.output_user_data_ids])
        entries.append(entry)
    return entries
