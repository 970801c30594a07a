"""Every command path of Torc 0.12 answers here: the ones missing elsewhere, aliases, and pointers.

A Torc user's scripts should run. Where a Torc command does something this project does too,
it is real (`workflows new`, `hpc match`, ...) or an alias of the command that does it
(`workflows run` is `run`, `events monitor` is `events watch`). Where it makes no sense here,
it is a pointer: its help and its error (exit 2) name the command that does the job here.
`install(cli)` puts them all in the command tree; `docs/hooks.py` maps Torc's paths onto that
tree for the reference page, from the list kept in `docs/data/torc-0.12-commands.txt`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import click

from torc_client.cli import render, steps
from torc_client.cli.commands import remote
from torc_client.cli.commands import torc_records as records
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.core import settings
from torc_client.core.units import parse_duration, parse_memory
from torc_client.hpc import profiles as hpc_profiles

#: Attribute a pointer command carries: what to use here instead.
POINTER = "torc_pointer"


def pointer(name: str, instead: str) -> click.Command:
    """A command that only says what does its job here (exit 2)."""

    def run(**_: object) -> None:
        raise click.UsageError(f"not in this Torc: {instead}")

    command = click.command(name, help=f"Not here: {instead}", context_settings={
        "ignore_unknown_options": True, "allow_extra_args": True})(click.argument("args", nargs=-1)(run))  # fmt: skip
    setattr(command, POINTER, instead)
    return command


@click.command("new")
@click.option("-n", "--name", required=True, help="Name of the workflow.")
@click.option("-d", "--description", default=None)
@pass_state
def workflows_new(state: State, name: str, description: str | None) -> None:
    """Create an empty workflow, to fill with `jobs create`, `files create`, ..."""
    workflow = state.client().create_empty_workflow(name, description=description, user=settings.api_user(),
                                                    working_dir=str(Path.cwd()))  # fmt: skip
    render.message(f"Created workflow {workflow.id}")
    render.show_record(workflow, state.format)


@click.command("is-complete")
@workflow_id_argument
@pass_state
def workflows_is_complete(state: State, workflow_id: int) -> None:
    """Say whether every job of the workflow is done (exit 0 either way; `-f json` for scripts)."""
    status = state.client().workflow_status(workflow_id)
    if state.json:
        render.print_json({"workflow_id": workflow_id, "is_complete": status.is_complete,
                           "is_canceled": status.is_canceled})  # fmt: skip
    else:
        click.echo("true" if status.is_complete else "false")


@click.command("create-slurm")
@click.argument("spec_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--account", required=True, help="Slurm account to charge.")
@click.option("--profile", "profile_name", default=None, help="HPC profile (default: detected).")
@click.option("--working-dir", default=None, help="Directory the jobs run in (default: here).")
@pass_state
def workflows_create_slurm(state: State, spec_file: str, account: str, profile_name: str | None,
                           working_dir: str | None) -> None:  # fmt: skip
    """Create a workflow with Slurm schedulers and actions generated for its jobs (`submit-slurm` also submits)."""
    spec = steps.generated_spec(spec_file, account, profile_name)
    workflow = state.client().create_workflow_from_spec(spec, working_dir=str(Path(working_dir or Path.cwd())))
    render.message(f"Created workflow {workflow.id}; submit it with `torc workflows submit {workflow.id}`")
    render.show_record(workflow, state.format)


@click.command("partitions")
@click.argument("name", required=False)
@click.option("--gpu", is_flag=True, help="Only partitions with GPUs.")
@click.option("--cpu", is_flag=True, help="Only partitions without GPUs.")
@pass_state
def hpc_partitions(state: State, name: str | None, gpu: bool, cpu: bool) -> None:
    """A profile's partitions (default: the detected profile), optionally only GPU or CPU ones."""
    parts = [p for p in hpc_profiles.get(name).partitions
             if not (gpu and not p.gpus_per_node) and not (cpu and p.gpus_per_node)]  # fmt: skip
    render.show_rows([dataclasses.asdict(p) for p in parts], state.format)


@click.command("match")
@click.option("--cpus", type=int, default=1, show_default=True)
@click.option("--memory", default="1g", show_default=True, help="Per node, e.g. 100g.")
@click.option("--walltime", default="PT1H", show_default=True, help="ISO 8601 duration, e.g. PT4H.")
@click.option("--gpus", type=int, default=0, show_default=True)
@click.option("--profile", "profile_name", default=None)
@pass_state
def hpc_match(state: State, cpus: int, memory: str, walltime: str, gpus: int, profile_name: str | None) -> None:
    """The partitions whose nodes fit a job of this size (shortest walltime first)."""
    need_mb, need_s = parse_memory(memory) / 2**20, parse_duration(walltime)
    fits = [p for p in hpc_profiles.get(profile_name).partitions
            if p.cpus_per_node >= cpus and p.memory_mb >= need_mb and p.max_walltime_secs >= need_s
            and p.gpus_per_node >= gpus and not p.requires_explicit_request]  # fmt: skip
    fits.sort(key=lambda p: (p.max_walltime_secs, p.memory_mb, p.name))
    render.show_rows([dataclasses.asdict(p) for p in fits], state.format)


@click.command("get")
@click.argument("group_id", type=int)
@pass_state
def access_group_get(state: State, group_id: int) -> None:
    """One access group, with its members and workflows."""
    render.show_record(state.client().get_access_group(group_id), state.format)


@click.command("list-members")
@click.argument("group_id", type=int)
@pass_state
def access_group_members(state: State, group_id: int) -> None:
    """The members of an access group and their roles."""
    group = state.client().get_access_group(group_id)
    render.show_rows([{"user": user, "role": role} for user, role in sorted(group.members.items())], state.format)


@click.command("list-user-groups")
@click.argument("user")
@pass_state
def access_user_groups(state: State, user: str) -> None:
    """The access groups a user belongs to."""
    groups = [g for g in state.client().list_access_groups() if user in g.members]
    render.show_rows([{"id": g.id, "name": g.name, "role": g.members[user]} for g in groups], state.format)


@click.command("list-workflow-groups")
@workflow_id_argument
@pass_state
def access_workflow_groups(state: State, workflow_id: int) -> None:
    """The access groups a workflow is shared with."""
    groups = [g for g in state.client().list_access_groups() if workflow_id in g.workflow_ids]
    render.show_rows([{"id": g.id, "name": g.name, "members": len(g.members)} for g in groups], state.format)


@click.group("config")
def config() -> None:
    """The client's config file (`[client]` settings: api_url, user, format, ...)."""


@config.command("paths")
def config_paths() -> None:
    """Where the config file is looked for ($TORC_CONFIG, else ~/.config/torc/config.toml)."""
    path = settings.config_path()
    click.echo(f"{path} ({'exists' if path.is_file() else 'not found'})")


@config.command("show")
@pass_state
def config_show(state: State) -> None:
    """The effective client settings and where each comes from."""
    values = {"api_url": settings.api_url(), "user": settings.api_user(), "format": state.format,
              "config_file": str(settings.config_path())}  # fmt: skip
    rows = [{"setting": key, "value": value} for key, value in values.items()]
    render.show_rows(rows, state.format)


#: The `[client]` keys the config file may set (HPC profiles go under `[client.hpc]`).
CLIENT_KEYS = ("api_url", "user", "format", "ca_bundle", "hpc")


@config.command("validate")
def config_validate() -> None:
    """Check the config file: valid TOML, and only keys this `torc` reads (exit 1 otherwise)."""
    path = settings.config_path()
    if not path.is_file():
        click.echo(f"{path}: no config file (every setting has its default)")
        return
    try:
        found = settings.load_config()
    except tomllib.TOMLDecodeError as exc:
        raise click.ClickException(f"{path}: not valid TOML: {exc}") from None
    unknown = [f"[{key}]" for key in found if key != "client"]
    unknown += [f"client.{key}" for key in found.get("client", {}) if key not in CLIENT_KEYS]
    if unknown:
        raise click.ClickException(f"{path}: unknown settings {', '.join(unknown)}; known: "
                                   f"{', '.join('client.' + k for k in CLIENT_KEYS)}")  # fmt: skip
    click.echo(f"{path}: valid")


_CONFIG_INIT = "write ~/.config/torc/config.toml by hand: `[client]` api_url, user, format (see `torc config show`)"


def _add(cli: click.Group, path: str, command: click.Command) -> None:
    """Put `command` at `path` ("jobs delete-all"), under the name the path ends with."""
    *groups, name = path.split()
    group = cli
    for part in groups:
        group = group.commands[part]  # type: ignore[attr-defined]
    group.add_command(command, name)


def install(cli: click.Group) -> None:
    """Add every missing Torc 0.12 command path to the `torc` command tree."""
    real = {
        "workflows new": workflows_new, "workflows is-complete": workflows_is_complete,
        "workflows create-slurm": workflows_create_slurm,
        "jobs create-from-file": records.jobs_create_from_file, "jobs delete-all": records.jobs_delete_all,
        "jobs list-resource-requirements": records.jobs_list_resource_requirements,
        "jobs list-failure-handlers": records.list_failure_handlers,
        "files list-required-existing": records.files_list_required_existing,
        "user-data delete-all": records.user_data_delete_all, "user-data list-missing": records.user_data_list_missing,
        "events create": records.events_create, "events get-latest-event": records.events_get_latest,
        "results delete": records.results_delete, "compute-nodes get": records.compute_node_get,
        "scheduled-compute-nodes get": records.scheduled_node_get,
        "scheduled-compute-nodes list-jobs": records.scheduled_node_list_jobs,
        "failure-handlers": records.failure_handlers, "job-dependencies": records.job_dependencies,
        "hpc partitions": hpc_partitions, "hpc match": hpc_match,
        "access-groups get": access_group_get, "access-groups list-members": access_group_members,
        "access-groups list-user-groups": access_user_groups,
        "access-groups list-workflow-groups": access_workflow_groups,
        "config": config, "remote": remote.group,
    }  # fmt: skip
    for path, command in real.items():
        _add(cli, path, command)
    for path, target in {"workflows run": "run", "workflows list-actions": "actions list",
                         "events monitor": "events watch", "completions": "completion"}.items():  # fmt: skip
        command = cli
        for part in target.split():
            command = command.commands[part]  # type: ignore[attr-defined]
        _add(cli, path, command)
    pointers = {
        "hpc generate": "`torc hpc detect` reads the partitions from `sinfo` when no profile matches; custom "
                        "profiles go in the config file (`[client.hpc.custom_profiles.NAME]`)",
        "config init": _CONFIG_INIT,
        "events delete": "events are a workflow's append-only log; they go with it (`torc workflows delete ID`)",
    }  # fmt: skip
    for path, instead in pointers.items():
        _add(cli, path, pointer(path.split()[-1], instead))
