"""The `torc` command group and its entry point.

Global options (`-f/--format`, `--url`) are attached to every command as well as to the
group, so `torc -f json jobs list 1` and `torc jobs list 1 -f json` mean the same thing.
`main()` turns expected errors into one message on stderr and an exit code:
2 when no server answers (or the command line is wrong), 1 for any other error.
"""

from __future__ import annotations

import json
import os
import sys

import click

from torc_client import __version__
from torc_client.cli import render
from torc_client.cli.commands import (
    access,
    events,
    jobs,
    logs,
    plots,
    records,
    recover,
    reports,
    reset_jobs,
    resource_requirements,
    run,
    service,
    slurm,
    torc_paths,
    tui,
    user_data,
    validate,
    watch,
    workflows,
)
from torc_client.cli.commands.common import AliasGroup, State, attach_global_options
from torc_client.core import errors

EXIT_ERROR = 1
EXIT_UNAVAILABLE = 2
EXIT_INTERRUPTED = 130


@click.group(cls=AliasGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="torc")
def cli() -> None:
    """Torc: run thousands to millions of command-line jobs with dependencies.

    Data goes to stdout (a table, or JSON with -f json); messages and progress go to stderr.
    """


cli.add_command(workflows.create)
cli.add_command(validate.validate)
cli.add_command(run.run)
cli.add_command(watch.watch)
cli.add_command(recover.recover)
cli.add_command(workflows.status)
cli.add_command(workflows.cancel)
cli.add_command(workflows.delete)
cli.add_command(workflows.group)
cli.add_command(jobs.group)
cli.add_command(records.results)
cli.add_command(user_data.group)
cli.add_command(records.files)
cli.add_command(resource_requirements.group)
cli.add_command(records.compute_nodes)
cli.add_command(events.group)
cli.add_command(reports.group)
cli.add_command(logs.group)
cli.add_command(plots.plot_resources)
cli.add_command(slurm.submit)
cli.add_command(slurm.group)
cli.add_command(slurm.submit_slurm)
cli.add_command(slurm.hpc)
cli.add_command(slurm.scheduled_compute_nodes)
cli.add_command(slurm.actions)
cli.add_command(access.group)
cli.add_command(service.ping)
cli.add_command(service.completion)
cli.add_command(tui.tui)
workflows.group.add_command(slurm.workflows_submit)
workflows.group.add_command(slurm.workflows_sync_status)
workflows.group.add_command(recover.correct_resources)
jobs.group.add_command(reset_jobs.reset_status)
slurm.group.add_command(logs.parse_logs)
torc_paths.install(cli)  # after every other command: it adds aliases of some of them
attach_global_options(cli)


def main(argv: list[str] | None = None) -> None:
    """Run `torc`; exit with the command's code, or 1/2 after printing an expected error on stderr."""
    state = State()
    try:
        code = cli.main(args=argv, prog_name="torc", obj=state, standalone_mode=False)
    except click.exceptions.Abort:
        render.message("Aborted!")
        code = EXIT_ERROR
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except errors.ServerUnavailable as exc:
        render.error(exc.message)
        code = EXIT_UNAVAILABLE
    except errors.ApiError as exc:
        _api_error(exc, state)
        code = EXIT_ERROR
    except errors.TorcError as exc:
        render.error(exc.message)
        code = EXIT_ERROR
    except KeyboardInterrupt:
        render.message("Interrupted")
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`torc ... | head`): drop what is left instead of failing at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_ERROR
    finally:
        state.close()
    sys.exit(code if isinstance(code, int) else 0)


def _api_error(exc: errors.ApiError, state: State) -> None:
    if state.json:
        print(json.dumps(exc.problem(), indent=2), file=sys.stderr, flush=True)
        return
    problem = exc.problem()
    where = f"{problem['spec_file']}: " if problem.get("spec_file") else ""
    render.error(f"{where}{exc.title}: {exc.message}")


if __name__ == "__main__":
    main()
