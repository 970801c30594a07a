"""`torc workflows ...` and the top-level shortcuts `torc create|status|cancel|delete`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from torc_client import contract as c
from torc_client.analysis import dependencies
from torc_client.cli import render, steps
from torc_client.cli.commands import validate
from torc_client.cli.commands.common import (
    AliasGroup,
    State,
    paging_options,
    pass_state,
    workflow_id_argument,
)
from torc_client.cli.commands.editing import changes, show_changed
from torc_client.cli.commands.user_data import JsonValue
from torc_client.cli.render import dependencies as render_dependencies
from torc_client.core import resources
from torc_client.core.units import count
from torc_client.operations import archive as run_history
from torc_client.operations.spec_export import export_spec
from torc_client.spec import dump_spec_text, format_from_filename, load_spec_text


@click.command("create")
@click.argument("spec_file", metavar="SPEC_FILE")
@click.option("--working-dir", default=None, help="Directory the jobs run in (default: the current directory).")
@click.option("--dry-run", is_flag=True, help="Create nothing, need no server: check the spec and show what it "
              "would create (as `torc validate`).")  # fmt: skip
@pass_state
def create(state: State, spec_file: str, working_dir: str | None, dry_run: bool) -> None:
    """Create a workflow from a spec file (.yaml, .yml, .json, .json5 or .kdl; other names are detected)."""
    if dry_run:
        validate.check(state, spec_file)
        return
    workflow = steps.create_from_file(state.client(), spec_file, working_dir)
    render.message(f"Created workflow {workflow.id}")
    render.show_record(workflow, state.format)


@click.command("list")
@click.option("--name", default=None, help="Only workflows with this name.")
@click.option("-u", "--user", default=None, help="Only workflows of this user.")
@click.option("--archived", is_flag=True, help="List archived workflows instead.")
@paging_options
@pass_state
def list_(state: State, name: str | None, user: str | None, archived: bool, limit: int | None, offset: int) -> None:
    """List workflows."""
    found = state.client().list_workflows(name=name, user=user, is_archived=archived, offset=offset, limit=limit)
    render.show_list(found, c.Workflow, state.format)


@click.command("get")
@workflow_id_argument
@pass_state
def get(state: State, workflow_id: int) -> None:
    """Show one workflow."""
    render.show_record(state.client().get_workflow(workflow_id), state.format)


@click.command("update")
@workflow_id_argument
@click.option("-n", "--name", default=None, help="A new name.")
@click.option("-d", "--description", default=None, help="A new description.")
@click.option("--project", default=None, help="The project it belongs to.")
@click.option("--metadata", type=JsonValue(), default=None, help="Metadata: a JSON object, or @FILE.")
@click.option("--jobs-sort-method", type=click.Choice(resources.SORT_METHODS), default=None,
              help="The order in which runners pick jobs that fit.")  # fmt: skip
@pass_state
def update(state: State, workflow_id: int, **options: Any) -> None:
    """Change a workflow's name, description, project, metadata or job order."""
    if options["metadata"] is not None and not isinstance(options["metadata"], dict):
        raise click.BadParameter("must be a JSON object", param_hint="'--metadata'")
    show_changed(state, "Updated", "workflow", state.client().update_workflow(workflow_id, **changes(**options)))


@click.command("init")
@workflow_id_argument
@click.option("--force", is_flag=True, help="Initialise even if the workflow was initialised before.")
@pass_state
def init(state: State, workflow_id: int, force: bool) -> None:
    """Initialise a workflow: compute which jobs are ready and which are blocked (alias: initialize)."""
    result = state.client().initialize_workflow(workflow_id, force=force)
    for warning in result.warnings:
        render.message(f"warning: {warning}")
    render.show_initialized(result, state.format)


@click.command("status")
@workflow_id_argument
@pass_state
def status(state: State, workflow_id: int) -> None:
    """Show a workflow's run, flags and job counts by status."""
    render.show_status(state.client().workflow_status(workflow_id), state.format)


@click.command("cancel")
@workflow_id_argument
@pass_state
def cancel(state: State, workflow_id: int) -> None:
    """Cancel a workflow: its runners stop and its unfinished jobs are canceled."""
    client = state.client()
    result = client.cancel_workflow(workflow_id)
    render.message(f"Canceled workflow {workflow_id}")
    cancelled = steps.cancel_allocations(client, workflow_id)
    if cancelled:
        render.message(f"Cancelled Slurm allocation{'s' if len(cancelled) != 1 else ''} {', '.join(cancelled)}")
    render.show_status(result, state.format)


@click.command("delete")
@click.argument("workflow_ids", nargs=-1, required=True, type=int, metavar="WORKFLOW_ID...")
@click.option("-y", "--yes", "--no-prompts", "yes", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def delete(state: State, workflow_ids: tuple[int, ...], yes: bool) -> None:
    """Delete workflows and everything in them."""
    ids = ", ".join(map(str, workflow_ids))
    client = state.client()
    for wid in workflow_ids:  # say a workflow does not exist before asking about any
        client.get_workflow(wid)
    if not yes:
        click.confirm(f"Delete workflow{'s' if len(workflow_ids) > 1 else ''} {ids} and all their records?",
                      abort=True, err=True)  # fmt: skip
    deleted = [client.delete_workflow(wid) for wid in workflow_ids]
    for workflow in deleted:
        render.message(f"Deleted workflow {workflow.id}")
    if state.json:
        render.print_json(deleted)


@click.command("reinitialize")
@workflow_id_argument
@click.option("--dry-run", is_flag=True, help="Change nothing: list the jobs that would rerun, and why.")
@click.option("--force", is_flag=True, help="Reinitialise even while jobs are pending or running.")
@pass_state
def reinitialize(state: State, workflow_id: int, dry_run: bool, force: bool) -> None:
    """Start a new run of only the jobs whose inputs changed or that did not complete, and their downstream."""
    render.show_reinitialized(state.client().reinitialize_workflow(workflow_id, dry_run=dry_run, force=force),
                              state.format)  # fmt: skip


@click.command("reset-status")
@workflow_id_argument
@click.option("--failed-only", is_flag=True, help="Reset only failed, canceled and terminated jobs (and downstream).")
@click.option("-r", "--reinitialize", "then_reinitialize", is_flag=True, help="Then start a new run of them.")
@click.option("--force", is_flag=True, help="Reset even while jobs are pending or running.")
@pass_state
def reset_status(state: State, workflow_id: int, failed_only: bool, then_reinitialize: bool, force: bool) -> None:
    """Put jobs back to uninitialized: all of them, or the unfinished ones and what depends on them."""
    result = state.client().reset_workflow_status(workflow_id, failed_only=failed_only, force=force)
    render.message(f"Reset {count(result.updated_count, 'job')} of workflow {workflow_id} to uninitialized")
    if then_reinitialize:
        render.show_reinitialized(state.client().reinitialize_workflow(workflow_id, force=force), state.format)
    elif state.json:
        render.print_json(result)


def _set_archived(state: State, workflow_id: int, archived: bool) -> None:
    workflow = state.client().update_workflow(workflow_id, is_archived=archived)
    render.message(f"{'Archived' if archived else 'Unarchived'} workflow {workflow_id}" + (
        " (`torc workflows list --archived` shows it)" if archived else ""))
    if state.json:
        render.print_json(workflow)


@click.command("archive")
@workflow_id_argument
@pass_state
def archive(state: State, workflow_id: int) -> None:
    """Hide a finished workflow from `workflows list` (it keeps everything; `unarchive` brings it back)."""
    _set_archived(state, workflow_id, True)


@click.command("unarchive")
@workflow_id_argument
@pass_state
def unarchive(state: State, workflow_id: int) -> None:
    """List an archived workflow again."""
    _set_archived(state, workflow_id, False)


@click.group("workflows", cls=AliasGroup, aliases={"initialize": "init", "reinit": "reinitialize"})
def group() -> None:
    """Create, list, initialise, inspect, cancel and delete workflows."""


for _command in (create, list_, get, update, init, reinitialize, reset_status, status, cancel, delete, archive,
                 unarchive):
    group.add_command(_command)


@click.command("export")
@workflow_id_argument
@click.option("-o", "--output", default=None, metavar="FILE", help="Write the spec to FILE (default: stdout).")
@click.option("--spec-format", type=click.Choice(["yaml", "json", "json5", "kdl"]), default=None,
              help="Spec format (default: from the extension of FILE, else yaml).")  # fmt: skip
@click.option("--include-results", is_flag=True, help="Add every result of every run (under `history`).")
@click.option("--include-events", is_flag=True, help="Add every event (under `history`).")
@pass_state
def export(state: State, workflow_id: int, output: str | None, spec_format: str | None, include_results: bool,
           include_events: bool) -> None:  # fmt: skip
    """Write a workflow as a spec file, from which `workflows import` creates a copy.

    With --include-results and/or --include-events the file also holds the workflow's history (its
    run number, each job's status, and its results and events, jobs named): imported on another
    server, the copy's reports read as the original's did. Not in KDL.
    """
    fmt = spec_format or (output and format_from_filename(output)) or "yaml"
    doc = export_spec(state.client(), workflow_id)
    if include_results or include_events:
        if fmt == "kdl":
            raise click.UsageError("a history (--include-results, --include-events) is written in yaml, json or json5")
        doc[run_history.KEY] = run_history.history(state.client(), workflow_id, results=include_results,
                                           events=include_events)  # fmt: skip
    text = dump_spec_text(doc, fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    render.message(f"Exported workflow {workflow_id} to {output}")


@click.command("import")
@click.argument("spec_file", metavar="FILE")
@click.option("--working-dir", default=None,
              help="Directory the jobs run in, if the spec names none (default: the current directory).")  # fmt: skip
@click.option("--skip-results", is_flag=True, help="Leave out the results of an export with a history.")
@click.option("--skip-events", is_flag=True, help="Leave out the events of an export with a history.")
@pass_state
def import_(state: State, spec_file: str, working_dir: str | None, skip_results: bool, skip_events: bool) -> None:
    """Create a workflow from a spec file written by `workflows export` (as `workflows create` does).

    An export with a history (--include-results, --include-events) gets it back: the jobs take the
    statuses the run ended with, and its results and events are restored.
    """
    text = steps.read_spec_file(spec_file)
    found = None
    if run_history.KEY in text:
        spec, found = run_history.split(load_spec_text(text, format_from_filename(Path(spec_file).name), spec_file),
                                    skip_results=skip_results, skip_events=skip_events)  # fmt: skip
    if found is None:
        workflow = steps.create_from_file(state.client(), spec_file, working_dir)
    else:
        workflow = state.client().create_workflow_from_spec(
            spec, working_dir=str(Path(working_dir or Path.cwd()).resolve()))  # fmt: skip
        restored = state.client().restore_history(workflow.id, found)
        render.message(f"Restored run {restored.run_id}: {count(restored.jobs, 'job status', 'job statuses')}, "
                       f"{count(restored.results, 'result')}, {count(restored.events, 'event')}")  # fmt: skip
        workflow = state.client().get_workflow(workflow.id)
    render.message(f"Created workflow {workflow.id}")
    render.show_record(workflow, state.format)


group.add_command(export)
group.add_command(import_)


@click.command("execution-plan")
@click.argument("spec_or_id", metavar="SPEC_OR_ID")
@click.option("--names", "names_per_stage", type=click.IntRange(0, 10_000), default=dependencies.NAMES_PER_STAGE,
              show_default=True, help="Job names listed per stage (all jobs are counted).")  # fmt: skip
@pass_state
def execution_plan(state: State, spec_or_id: str, names_per_stage: int) -> None:
    """Show the stages in which a workflow's jobs run, or a spec file's would (no server needed for a file).

    Stage 1 holds the jobs that wait for nothing, stage k those whose upstream jobs are all in earlier stages;
    each stage shows its number of jobs, its first job names and its jobs per resource requirements.
    """
    if spec_or_id.isdigit() and not Path(spec_or_id).is_file():
        plan = state.client().execution_plan(int(spec_or_id), names_per_stage=names_per_stage)
    else:
        spec = steps.plan_spec_file(spec_or_id)
        plan = dependencies.spec_plan(spec, validate.summary(spec)["stages"], spec_or_id, names_per_stage)
    render_dependencies.show_plan(plan, state.format)


group.add_command(execution_plan)
